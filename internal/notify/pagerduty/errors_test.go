package pagerduty_test

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
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	"github.com/queuewatch/queuewatch/internal/notify/pagerduty"
)

func TestErrorClassification(t *testing.T) {
	retryDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		cfg        func(*pagerduty.Config)
		srv        func(*fakepd.Server)
		before     int // accepted sends before the one under test
		timeout    time.Duration
		code       int
		retryable  bool
		retryAfter time.Duration
		slack      time.Duration // tolerance on retryAfter, for HTTP dates
		reason     string        // substring of Reason
		hint       string        // substring of Hint
		is         error         // errors.Is target, when set
	}{
		{
			name: "400 wrong-length routing key",
			cfg:  func(c *pagerduty.Config) { c.RoutingKey = "short" },
			code: 400, reason: "Event object is invalid: Service key is the wrong length (should be 32 characters)",
			hint: "integration key",
		},
		{
			name: "400 unknown routing key",
			srv:  func(f *fakepd.Server) { f.AddRoutingKey(strings.Repeat("0", 32)) },
			code: 400, reason: "Event object is invalid: Invalid routing key",
		},
		{
			name: "400 several errors",
			srv: func(f *fakepd.Server) {
				f.Faults.Add(faults.Fault{Status: 400, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["a is wrong","b is wrong"]}`})
			},
			code: 400, reason: "Event object is invalid: a is wrong; b is wrong",
		},
		{
			name: "400 not JSON",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Status: 400, Body: "Bad Request\n"}) },
			code: 400, reason: "Bad Request",
		},
		{
			name: "429 with Retry-After seconds",
			srv: func(f *fakepd.Server) {
				f.Faults.Add(faults.Fault{Status: 429, RetryAfter: "7", Body: `{"status":"throttle event","message":"Request Limit Exceeded"}`})
			},
			code: 429, retryable: true, retryAfter: 7 * time.Second, reason: "Request Limit Exceeded",
		},
		{
			name: "429 with Retry-After date",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Status: 429, RetryAfter: retryDate}) },
			code: 429, retryable: true, retryAfter: 90 * time.Second, slack: 2 * time.Second,
		},
		{
			name:   "429 from the rate limit, no Retry-After",
			srv:    func(f *fakepd.Server) { f.SetRateLimit(1, time.Minute, "") },
			before: 1,
			code:   429, retryable: true, reason: "Request Limit Exceeded",
		},
		{
			name: "500",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Status: 500}) },
			code: 500, retryable: true, reason: "injected fault",
		},
		{
			name: "502 HTML page",
			srv: func(f *fakepd.Server) {
				f.Faults.Add(faults.Fault{Status: 502, Body: "<html>" + strings.Repeat("x", 2000) + "</html>"})
			},
			code: 502, retryable: true, reason: "<html>xxx",
		},
		{
			name: "501 is permanent",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Status: 501}) },
			code: 501,
		},
		{
			name: "503 with Retry-After",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Status: 503, RetryAfter: "30"}) },
			code: 503, retryable: true, retryAfter: 30 * time.Second,
		},
		{
			name: "404 wrong base URL",
			cfg:  func(c *pagerduty.Config) { c.BaseURL += "/v2/enqueue" },
			code: 404, hint: "/v2/enqueue is appended",
		},
		{
			name: "connection dropped",
			srv:  func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Drop: true}) },
			code: 0, retryable: true, reason: "connection reset",
		},
		{
			name:    "hang past the deadline",
			srv:     func(f *fakepd.Server) { f.Faults.Add(faults.Fault{Hang: time.Minute}) },
			timeout: 200 * time.Millisecond,
			code:    0, retryable: true, is: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, n := setup(t, tt.cfg)
			if tt.srv != nil {
				tt.srv(fake)
			}
			for i := range tt.before {
				mustSend(t, n, delivery(int64(i), alert.ActionCreate, alert.P1))
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			r, err := n.Notify(ctx, delivery(2, alert.ActionCreate, alert.P1), nil)
			if err == nil {
				t.Fatalf("want an error, got receipt %+v", r)
			}
			ne := asError(t, err)
			if ne.Code != tt.code || ne.Retryable != tt.retryable || (tt.retryAfter-ne.RetryAfter).Abs() > tt.slack {
				t.Errorf("got code=%d retryable=%v retryAfter=%v, want %d %v %v (%v)",
					ne.Code, ne.Retryable, ne.RetryAfter, tt.code, tt.retryable, tt.retryAfter, ne)
			}
			if !strings.Contains(ne.Reason, tt.reason) || !strings.Contains(ne.Hint, tt.hint) {
				t.Errorf("reason %q hint %q, want %q / %q", ne.Reason, ne.Hint, tt.reason, tt.hint)
			}
			if len(ne.Reason) > 600 {
				t.Errorf("reason of %d bytes is not bounded", len(ne.Reason))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.is)
			}
		})
	}
}

// TestRoutingKeyNeverLeaks drives every failure path with a routing key that
// vendor answers echo, and looks for it in everything a caller could log.
func TestRoutingKeyNeverLeaks(t *testing.T) {
	echo := fmt.Sprintf(`{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key %s"]}`, routingKey)
	tests := []struct {
		name    string
		fault   *faults.Fault
		timeout time.Duration
	}{
		{name: "400 echoing the key", fault: &faults.Fault{Status: 400, Body: echo}},
		{name: "500 echoing the key", fault: &faults.Fault{Status: 500, Body: "upstream said " + routingKey}},
		{name: "429 echoing the key", fault: &faults.Fault{Status: 429, Body: routingKey}},
		{name: "drop", fault: &faults.Fault{Drop: true}},
		{name: "hang", fault: &faults.Fault{Hang: time.Minute}, timeout: 100 * time.Millisecond},
		{name: "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, n := setup(t, nil)
			if tt.fault != nil {
				fake.Faults.Add(*tt.fault)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			r, err := n.Notify(ctx, delivery(1, alert.ActionCreate, alert.P1), nil)
			if (err == nil) != (tt.fault == nil) {
				t.Fatalf("err = %v", err)
			}
			var logged strings.Builder
			slog.New(slog.NewJSONHandler(&logged, nil)).Error("notify", "err", err, "receipt", r, "notifier", n)
			texts := []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", r), logged.String()}
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error())
			}
			for _, s := range texts {
				if strings.Contains(s, routingKey) {
					t.Fatalf("routing key leaked: %s", s)
				}
			}
		})
	}
}

func TestConfigAndNotifierPrintWithoutKey(t *testing.T) {
	cfg := pagerduty.Config{Name: "pd", RoutingKey: config.Secret(routingKey)}
	n, err := pagerduty.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cfg", cfg, "n", n)
	for _, s := range []string{fmt.Sprint(n), fmt.Sprintf("%+v", n), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		if strings.Contains(s, routingKey) {
			t.Fatalf("routing key printed: %s", s)
		}
	}
}
