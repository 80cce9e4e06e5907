package opsgenie

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
)

// errorCases are the failures a create can meet, with their classification.
var errorCases = []struct {
	name       string
	edit       func(*Config)
	fault      *faults.Fault
	setup      func(*fake.Server)
	code       int
	retryable  bool
	retryAfter time.Duration
	reason     string // part of Reason
	hint       string // part of Hint
}{
	{name: "401 wrong key", edit: func(c *Config) { c.APIKey = "not-a-key" },
		code: 401, reason: "create alert: Could not authenticate", hint: "key of an API integration"},
	{name: "401 removed integration", setup: func(s *fake.Server) { s.RemoveKey(fake.DefaultKey) },
		code: 401, reason: "Could not authenticate", hint: "EU accounts use https://api.eu.opsgenie.com"},
	{name: "403 40301 API Key Management key", edit: func(c *Config) { c.APIKey = "config-key" },
		setup: func(s *fake.Server) { s.AddKey("config-key", fake.ConfigKey) },
		code:  403, reason: "use an API key from an API integration", hint: "not one from API Key Management"},
	{name: "403 read-only", fault: &faults.Fault{Status: 403, Body: `{"code":40302,"message":"Request is not supported","took":0.01,"requestId":"r1"}`},
		code: 403, reason: "Request is not supported [request r1]", hint: "read-only"},
	{name: "402 plan", fault: &faults.Fault{Status: 402, Body: `{"message":"Plan does not allow it"}`},
		code: 402, reason: "Plan does not allow it", hint: "plan"},
	{name: "404 wrong base URL", edit: func(c *Config) { c.BaseURL += "/opsgenie" },
		code: 404, reason: "No handler found for POST /opsgenie/v2/alerts", hint: "check the destination URL"},
	{name: "422 with errors map", fault: &faults.Fault{Status: 422, Body: `{"message":"Request body is not processable. Please check the errors.","errors":{"recipients#type":"Invalid recipient type 'bb'","message":"too long"},"took":0.083,"requestId":"Id"}`},
		code: 422, reason: "Request body is not processable. Please check the errors. (message: too long; recipients#type: Invalid recipient type 'bb') [request Id]", hint: "bug"},
	{name: "429 Retry-After seconds", fault: &faults.Fault{Status: 429, RetryAfter: "7", Body: `{"message":"TooManyRequests"}`},
		code: 429, retryable: true, retryAfter: 7 * time.Second, reason: "TooManyRequests", hint: "rate limiting"},
	{name: "429 Retry-After date", fault: &faults.Fault{Status: 429, RetryAfter: start.Add(time.Hour + 30*time.Second).Format(http.TimeFormat)},
		code: 429, retryable: true, retryAfter: 30 * time.Second, reason: "injected fault"},
	{name: "429 X-RateLimit-Period-In-Sec", fault: &faults.Fault{Status: 429, Header: http.Header{"X-Ratelimit-Period-In-Sec": {"60"}, "X-Ratelimit-State": {"THROTTLED"}}},
		code: 429, retryable: true, retryAfter: time.Minute, reason: "injected fault: HTTP 429"},
	{name: "500", fault: &faults.Fault{Status: 500}, code: 500, retryable: true, reason: "injected fault: HTTP 500"},
	{name: "503 with Retry-After", fault: &faults.Fault{Status: 503, RetryAfter: "2"}, code: 503, retryable: true, retryAfter: 2 * time.Second},
	{name: "502 HTML from a proxy", fault: &faults.Fault{Status: 502, Body: "<html><body>Bad gateway</body></html>"},
		code: 502, retryable: true, reason: "create alert: Bad Gateway"},
	{name: "dropped connection", fault: &faults.Fault{Drop: true}, retryable: true, reason: "transport error on POST /v2/alerts"},
	{name: "hang past the deadline", fault: &faults.Fault{Hang: time.Hour}, retryable: true, reason: "no answer to POST /v2/alerts before the deadline"},
	{name: "hang while confirming", fault: &faults.Fault{Hang: time.Hour, Path: "/requests/"}, code: 202, retryable: true, reason: "not confirmed before the deadline"},
}

func TestErrorClassification(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.edit)
			if tc.setup != nil {
				tc.setup(f.fake)
			}
			if tc.fault != nil {
				f.fake.Faults.Add(*tc.fault)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := f.n.Notify(ctx, delivery(transition(alert.ActionCreate)), nil)
			ne := asNotifyError(t, err)
			if ne.Code != tc.code || ne.Retryable != tc.retryable || ne.RetryAfter != tc.retryAfter {
				t.Errorf("got code %d retryable %v retry-after %s; want %d %v %s", ne.Code, ne.Retryable, ne.RetryAfter, tc.code, tc.retryable, tc.retryAfter)
			}
			if !strings.Contains(ne.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", ne.Reason, tc.reason)
			}
			if !strings.Contains(ne.Hint, tc.hint) {
				t.Errorf("hint %q, want it to contain %q", ne.Hint, tc.hint)
			}
		})
	}
}

func TestErrorsOfOtherActions(t *testing.T) {
	f := newFixture(t, nil)
	f.fake.Faults.Add(faults.Fault{Status: 429, RetryAfter: "3", Path: "/close"})
	_, err := f.send(t, resolved())
	if ne := asNotifyError(t, err); ne.Code != 429 || !ne.Retryable || ne.RetryAfter != 3*time.Second || !strings.HasPrefix(ne.Reason, "close alert:") {
		t.Fatalf("close: %+v", ne)
	}
	f.fake.Faults.Add(faults.Fault{Status: 500, Path: "/notes"})
	tr := transition(alert.ActionUpdate)
	tr.PrevPriority, tr.Priority = alert.P3, alert.P2
	f.mustSend(t, transition(alert.ActionCreate))
	_, err = f.send(t, tr)
	if ne := asNotifyError(t, err); ne.Code != 500 || !ne.Retryable || !strings.HasPrefix(ne.Reason, "add note:") {
		t.Fatalf("note after priority: %+v", ne)
	}
	// Sending the update again repeats the priority change and adds the note.
	f.mustSend(t, tr)
	a := f.fake.Alerts()[0]
	if a.Priority != "P2" || len(a.Notes) != 1 {
		t.Fatalf("alert %+v", a)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, time.Minute},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}, "X-Ratelimit-Period-In-Sec": {"10"}}, 10 * time.Second},
		{http.Header{"X-Ratelimit-Period-In-Sec": {"-1"}}, 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %s, want %s", tc.h, got, tc.want)
		}
	}
}
