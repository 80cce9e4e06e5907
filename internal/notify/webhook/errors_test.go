package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
)

func TestErrorClassification(t *testing.T) {
	long := strings.Repeat("r", 2000)
	date := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		fault      faults.Fault
		timeout    time.Duration
		ok         bool
		code       int
		retryable  bool
		retryAfter time.Duration
		slack      time.Duration // tolerance on retryAfter, for HTTP dates
		reason     string        // Reason must equal this when set
		contains   string        // or contain this
		is         error
	}{
		{name: "204 is sent", fault: faults.Fault{Status: 204, Body: " "}, ok: true, code: 204},
		{name: "202 is sent", fault: faults.Fault{Status: 202}, ok: true, code: 202},
		{name: "400 keeps 512 bytes", fault: faults.Fault{Status: 400, Body: long}, code: 400, reason: long[:512]},
		{name: "404", fault: faults.Fault{Status: 404, Body: `{"error":"no such hook"}`}, code: 404, reason: `{"error":"no such hook"}`},
		{name: "410 empty body", fault: faults.Fault{Status: 410, Body: " "}, code: 410, reason: "gone"},
		{name: "408", fault: faults.Fault{Status: 408}, code: 408, retryable: true, contains: "injected fault"},
		{name: "429 Retry-After seconds", fault: faults.Fault{Status: 429, RetryAfter: "12"}, code: 429, retryable: true, retryAfter: 12 * time.Second},
		{name: "429 Retry-After date", fault: faults.Fault{Status: 429, RetryAfter: date}, code: 429, retryable: true, retryAfter: 2 * time.Minute, slack: 2 * time.Second},
		{name: "429 Retry-After garbage", fault: faults.Fault{Status: 429, RetryAfter: "soon"}, code: 429, retryable: true},
		{name: "500", fault: faults.Fault{Status: 500}, code: 500, retryable: true},
		{name: "501 is permanent", fault: faults.Fault{Status: 501}, code: 501},
		{name: "502", fault: faults.Fault{Status: 502, Body: "<html>bad gateway</html>"}, code: 502, retryable: true, reason: "<html>bad gateway</html>"},
		{name: "503 Retry-After", fault: faults.Fault{Status: 503, RetryAfter: "3"}, code: 503, retryable: true, retryAfter: 3 * time.Second},
		{name: "drop", fault: faults.Fault{Drop: true}, retryable: true, contains: "connection reset"},
		{name: "hang past the deadline", fault: faults.Fault{Hang: time.Minute}, timeout: 200 * time.Millisecond, retryable: true, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv, n := setup(t, secret, "/", nil)
			recv.Faults.Add(tt.fault)
			r, err := send(t, n, delivery(1, alert.ActionCreate), tt.timeout)
			if tt.ok {
				if err != nil || r.Code != tt.code {
					t.Fatalf("want sent with %d, got %+v %v", tt.code, r, err)
				}
				return
			}
			ne := asError(t, err)
			if ne.Code != tt.code || ne.Retryable != tt.retryable || (tt.retryAfter-ne.RetryAfter).Abs() > tt.slack {
				t.Errorf("got code=%d retryable=%v retryAfter=%v, want %d %v %v (%v)",
					ne.Code, ne.Retryable, ne.RetryAfter, tt.code, tt.retryable, tt.retryAfter, ne)
			}
			if (tt.reason != "" && ne.Reason != tt.reason) || !strings.Contains(ne.Reason, tt.contains) {
				t.Errorf("reason %q", ne.Reason)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.is)
			}
		})
	}
}

// TestSecretsNeverLeak checks that neither the signing secret nor a
// credential in the URL's path or query shows in errors, receipts or logs.
func TestSecretsNeverLeak(t *testing.T) {
	const pathToken, queryToken = "PATHTOKEN-93b1", "QUERYTOKEN-77aa"
	tests := []struct {
		name    string
		fault   *faults.Fault
		timeout time.Duration
	}{
		{name: "400 echoing the secret", fault: &faults.Fault{Status: 400, Body: "bad signature for " + secret}},
		{name: "500 echoing the secret", fault: &faults.Fault{Status: 500, Body: secret}},
		{name: "drop", fault: &faults.Fault{Drop: true}},
		{name: "hang", fault: &faults.Fault{Hang: time.Minute}, timeout: 100 * time.Millisecond},
		{name: "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv, n := setup(t, secret, "/hooks/"+pathToken+"?token="+queryToken, nil)
			if tt.fault != nil {
				recv.Faults.Add(*tt.fault)
			}
			r, err := send(t, n, delivery(1, alert.ActionCreate), tt.timeout)
			if (err == nil) != (tt.fault == nil) {
				t.Fatalf("err = %v", err)
			}
			var logged strings.Builder
			slog.New(slog.NewJSONHandler(&logged, nil)).Error("notify", "err", err, "receipt", r, "notifier", n)
			texts := []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", r), fmt.Sprint(n), logged.String()}
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error())
			}
			for _, s := range texts {
				for _, secretText := range []string{secret, pathToken, queryToken} {
					if strings.Contains(s, secretText) {
						t.Fatalf("%s leaked: %s", secretText, s)
					}
				}
			}
		})
	}
}

func TestConfigPrintsWithoutSecret(t *testing.T) {
	cfg := webhook.Config{Name: "t", URL: "https://hooks.example.com/x", Secret: config.Secret(secret)}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cfg", cfg)
	for _, s := range []string{fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		if strings.Contains(s, secret) {
			t.Fatalf("secret printed: %s", s)
		}
	}
}
