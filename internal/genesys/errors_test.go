package genesys_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

func TestErrorBodies(t *testing.T) {
	const path = "/api/v2/routing/queues/q1"
	tests := []struct {
		name string
		ans  answer
		want genesys.APIError
	}{
		{
			name: "standard body",
			ans: answer{status: 400, header: map[string]string{"ININ-Correlation-Id": "cid-1"}, body: `{
				"message":"Value [x] is not valid for field type [queueId].","code":"invalid.value","status":400,
				"messageWithParams":"Value [{value}] is not valid","messageParams":{"value":"x"},
				"contextId":"cid-1","entityId":"e1","entityName":"queue",
				"details":[{"errorCode":"ERR","fieldName":"queueId"}],"errors":[{"message":"inner","code":"bad.request","status":400}],
				"limit":{"namespace":"platform.api","key":"token.rate.per.minute","value":300}}`},
			want: genesys.APIError{Status: 400, Code: "invalid.value", Message: "Value [x] is not valid for field type [queueId].",
				MessageWithParams: "Value [{value}] is not valid", CorrelationID: "cid-1", ContextID: "cid-1", EntityID: "e1", EntityName: "queue"},
		},
		{
			name: "correlation id from contextId",
			ans:  answer{status: 404, body: `{"message":"Queue not found","code":"not.found","status":404,"contextId":"ctx-9"}`},
			want: genesys.APIError{Status: 404, Code: "not.found", Message: "Queue not found", CorrelationID: "ctx-9", ContextID: "ctx-9"},
		},
		{
			name: "429 with seconds",
			ans: answer{status: 429, header: map[string]string{"Retry-After": "42", "ININ-Correlation-Id": "c"},
				body: `{"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"c","details":[],"errors":[]}`},
			want: genesys.APIError{Status: 429, Code: "too.many.requests.retry.after", Message: "Rate limit exceeded the maximum. Retry the request in [42] seconds",
				CorrelationID: "c", ContextID: "c", RetryAfter: 42 * time.Second},
		},
		{
			name: "429 with an HTTP date",
			ans: answer{status: 429, header: map[string]string{"Retry-After": t0.Add(90 * time.Second).Format(http.TimeFormat)},
				body: `{"message":"Rate limit exceeded the maximum [300] requests within [60] seconds","code":"too.many.requests","status":429}`},
			want: genesys.APIError{Status: 429, Code: "too.many.requests", Message: "Rate limit exceeded the maximum [300] requests within [60] seconds", RetryAfter: 90 * time.Second},
		},
		{
			name: "429 without Retry-After reads the message",
			ans:  answer{status: 429, body: `{"message":"Rate limit exceeded the maximum. Retry the request in [7] seconds","code":"too.many.requests.retry.after","status":429}`},
			want: genesys.APIError{Status: 429, Code: "too.many.requests.retry.after", Message: "Rate limit exceeded the maximum. Retry the request in [7] seconds", RetryAfter: 7 * time.Second},
		},
		{
			name: "not JSON",
			ans:  answer{status: 502, body: "<html>Bad Gateway</html>"},
			want: genesys.APIError{Status: 502, Message: "<html>Bad Gateway</html>"},
		},
		{
			name: "403 missing permissions",
			ans:  answer{status: 403, body: `{"message":"Unable to perform the requested action. You are missing the following permission(s): [routing:queue:view]","code":"missing.permissions","status":403}`},
			want: genesys.APIError{Status: 403, Code: "missing.permissions", Message: "Unable to perform the requested action. You are missing the following permission(s): [routing:queue:view]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := fixtureServer(t, map[string]answer{path: tt.ans})
			_, err := c.GetQueue(testCtx(t), "q1")
			var ae *genesys.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			got := *ae
			if got.Status != tt.want.Status || got.Code != tt.want.Code || got.Message != tt.want.Message ||
				got.CorrelationID != tt.want.CorrelationID || got.ContextID != tt.want.ContextID ||
				got.RetryAfter != tt.want.RetryAfter || got.EntityID != tt.want.EntityID ||
				got.MessageWithParams != tt.want.MessageWithParams {
				t.Errorf("APIError = %+v\nwant %+v", got, tt.want)
			}
			if got.Method != "GET" || got.Path != path || got.Endpoint != genesys.EndpointQueue {
				t.Errorf("request = %s %s (%s)", got.Method, got.Path, got.Endpoint)
			}
			if genesys.StatusOf(err) != tt.want.Status {
				t.Errorf("StatusOf = %d", genesys.StatusOf(err))
			}
			if tt.name == "standard body" {
				if len(got.Details) != 1 || got.Details[0].FieldName != "queueId" || len(got.Errors) != 1 ||
					got.Limit == nil || got.Limit.Value != 300 || got.MessageParams["value"] != "x" {
					t.Errorf("details, errors, limit or params lost: %+v", got)
				}
			}
		})
	}
}
