package slack_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
)

// TestErrorMapping checks how Slack's answers become *notify.Error values,
// some produced by the fake's own rules and some injected.
func TestErrorMapping(t *testing.T) {
	okFalse := func(code string) faults.Fault {
		return faults.Fault{Status: 200, Body: `{"ok":false,"error":"` + code + `"}`}
	}
	tests := []struct {
		name      string
		setup     func(e *env)
		cfg       func(c *slack.Config)
		reason    string
		code      int
		retryable bool
		hint      string
		after     time.Duration
	}{
		{name: "not_in_channel", setup: func(e *env) { e.fake.SetMember(fakeslack.DefaultChannel, false) },
			reason: "not_in_channel", code: 200, hint: "invite the bot to the channel (/invite @bot in C0QUEUES)"},
		{name: "not_in_channel by name", setup: func(e *env) { e.fake.SetMember(fakeslack.DefaultChannel, false) },
			cfg:    func(c *slack.Config) { c.Channel = fakeslack.DefaultChannelName },
			reason: "not_in_channel", code: 200, hint: "/invite @bot in #queue-alerts"},
		{name: "channel_not_found", cfg: func(c *slack.Config) { c.Channel = "C0MISSING" },
			reason: "channel_not_found", code: 200, hint: `channel "C0MISSING" does not exist`},
		{name: "is_archived", setup: func(e *env) {
			e.fake.AddChannel(fakeslack.Channel{ID: fakeslack.DefaultChannel, Member: true, Archived: true})
		}, reason: "is_archived", code: 200, hint: "archived"},
		{name: "invalid_auth", cfg: func(c *slack.Config) { c.Token = "xoxb-wrong" },
			reason: "invalid_auth", code: 200, hint: "token is missing or wrong"},
		{name: "token_revoked", setup: func(e *env) { e.fake.RevokeToken(fakeslack.DefaultToken) },
			reason: "token_revoked", code: 200, hint: "reinstall the Slack app"},
		{name: "account_inactive", setup: func(e *env) { e.fake.Faults.Add(okFalse("account_inactive")) },
			reason: "account_inactive", code: 200, hint: "reinstall the Slack app"},
		{name: "not_authed", setup: func(e *env) { e.fake.Faults.Add(okFalse("not_authed")) },
			reason: "not_authed", code: 200, hint: "token is missing or wrong"},
		{name: "missing_scope", setup: func(e *env) { e.fake.AddToken("xoxb-narrow", "channels:read") },
			cfg:    func(c *slack.Config) { c.Token = "xoxb-narrow" },
			reason: "missing_scope", code: 200, hint: "add the chat:write scope"},
		{name: "ratelimited 429", setup: func(e *env) {
			e.fake.SetRateLimits(fakeslack.Rate{PerSecond: 1, Burst: 1}, fakeslack.Rate{})
			if _, err := e.n.Notify(context.Background(), newEpisode(9).delivery(alert.ActionCreate, 70, alert.P1, t0), nil); err != nil {
				panic(err)
			}
		}, reason: "ratelimited", code: 429, retryable: true, hint: "retried after 1s", after: time.Second},
		{name: "429 with HTTP date", setup: func(e *env) {
			e.fake.Faults.Add(faults.Fault{Status: 429, Body: `{"ok":false,"error":"ratelimited"}`,
				RetryAfter: t0.Add(30 * time.Second).Format(http.TimeFormat)})
		}, reason: "ratelimited", code: 429, retryable: true, after: 30 * time.Second},
		{name: "rate_limited ok:false", setup: func(e *env) { e.fake.Faults.Add(okFalse("rate_limited")) },
			reason: "rate_limited", code: 200, retryable: true},
		{name: "fatal_error", setup: func(e *env) { e.fake.Faults.Add(okFalse("fatal_error")) },
			reason: "fatal_error", code: 200, retryable: true, hint: "duplicate"},
		{name: "internal_error", setup: func(e *env) { e.fake.Faults.Add(okFalse("internal_error")) },
			reason: "internal_error", code: 200, retryable: true},
		{name: "service_unavailable", setup: func(e *env) { e.fake.Faults.Add(okFalse("service_unavailable")) },
			reason: "service_unavailable", code: 200, retryable: true},
		{name: "request_timeout", setup: func(e *env) { e.fake.Faults.Add(okFalse("request_timeout")) },
			reason: "request_timeout", code: 200, retryable: true},
		{name: "500 html", setup: func(e *env) { e.fake.Faults.Add(faults.Fault{Status: 500, Body: "<html>oops</html>"}) },
			reason: "chat.postMessage: server error Internal Server Error", code: 500, retryable: true},
		{name: "503 retry-after", setup: func(e *env) { e.fake.Faults.Add(faults.Fault{Status: 503, Body: "busy", RetryAfter: "7"}) },
			reason: "chat.postMessage: server error Service Unavailable", code: 503, retryable: true, after: 7 * time.Second},
		{name: "dropped connection", setup: func(e *env) { e.fake.Faults.Add(faults.Fault{Drop: true}) },
			reason: "chat.postMessage: Post", code: 0, retryable: true},
		{name: "unknown method (wrong base URL)", cfg: func(c *slack.Config) { c.BaseURL += "/chat.x" },
			reason: "unknown_method", code: 404, hint: "check the destination URL"},
		{name: "not JSON 404", cfg: func(c *slack.Config) { c.BaseURL = strings.TrimSuffix(c.BaseURL, "/api") + "/nope" },
			reason: "chat.postMessage: unexpected answer (HTTP 404, not JSON)", code: 404, hint: "check the destination URL"},
		{name: "restricted_action", setup: func(e *env) { e.fake.Faults.Add(okFalse("restricted_action")) },
			reason: "restricted_action", code: 200, hint: "ask a Slack admin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			if tc.setup != nil {
				tc.setup(e)
			}
			_, err := e.n.Notify(context.Background(), newEpisode(4).delivery(alert.ActionCreate, 70, alert.P1, t0), nil)
			ne := asError(t, err)
			if !strings.HasPrefix(ne.Reason, tc.reason) || ne.Code != tc.code || ne.Retryable != tc.retryable || ne.RetryAfter != tc.after {
				t.Fatalf("got %+v, want reason %q code %d retryable %v after %s", ne, tc.reason, tc.code, tc.retryable, tc.after)
			}
			if !strings.Contains(ne.Hint, tc.hint) {
				t.Errorf("hint %q lacks %q", ne.Hint, tc.hint)
			}
			if !ne.Retryable && ne.Hint == "" {
				t.Errorf("permanent error %q without a hint", ne.Reason)
			}
		})
	}
}

// TestRateLimitRecovers checks Retry-After from the fake's own per-channel
// limit and that sending works again once it has passed.
func TestRateLimitRecovers(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.SetRateLimits(fakeslack.Rate{PerSecond: 1, Burst: 3}, fakeslack.Rate{})
	var limited int
	for i := 0; i < 5; i++ {
		_, err := e.n.Notify(context.Background(), newEpisode(i).delivery(alert.ActionCreate, 70, alert.P1, t0), nil)
		if err != nil {
			ne := asError(t, err)
			if ne.Code != 429 || !ne.Retryable || ne.RetryAfter != time.Second {
				t.Fatalf("post %d: %+v", i, ne)
			}
			limited++
		}
	}
	if limited != 2 {
		t.Fatalf("%d posts limited, want 2 (burst 3)", limited)
	}
	e.clock.Advance(time.Second)
	send(t, e.n, newEpisode(9).delivery(alert.ActionCreate, 70, alert.P1, t0), nil)
}

// TestTokenNeverLeaks sends through every failure path with a recognisable
// token and checks it appears in no error, hint or request line.
func TestTokenNeverLeaks(t *testing.T) {
	const secret = "xoxb-111-222-SECRETSECRET"
	setups := map[string]func(e *env){
		"invalid_auth": func(e *env) {},
		"ok":           func(e *env) { e.fake.AddToken(secret) },
		"not_in_channel": func(e *env) {
			e.fake.AddToken(secret)
			e.fake.SetMember(fakeslack.DefaultChannel, false)
		},
		"drop": func(e *env) { e.fake.Faults.Add(faults.Fault{Drop: true}) },
		"500":  func(e *env) { e.fake.Faults.Add(faults.Fault{Status: 500, Body: "Bearer " + secret}) },
		"echo": func(e *env) {
			e.fake.Faults.Add(faults.Fault{Status: 200, Body: `{"ok":false,"error":"invalid_auth"}`})
		},
		"429":   func(e *env) { e.fake.Faults.Add(faults.Fault{Status: 429, RetryAfter: "2"}) },
		"hang":  func(e *env) { e.fake.Faults.Add(faults.Fault{Hang: time.Second}) },
		"close": func(e *env) { e.fake.Close() },
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *slack.Config) { c.Token = secret })
			setup(e)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			rec, err := e.n.Notify(ctx, newEpisode(5).delivery(alert.ActionCreate, 70, alert.P1, t0), nil)
			for _, s := range []string{fmt.Sprint(err), fmt.Sprintf("%+v %#v", err, err), fmt.Sprintf("%+v", rec), fmt.Sprintf("%+v", e.cfg)} {
				if strings.Contains(s, secret) || strings.Contains(s, "SECRETSECRET") {
					t.Fatalf("token leaked: %s", s)
				}
			}
			if err != nil {
				ne := asError(t, err)
				if strings.Contains(ne.Hint, secret) || (ne.Err != nil && strings.Contains(ne.Err.Error(), secret)) {
					t.Fatalf("token leaked in %+v", ne)
				}
			}
			for _, c := range e.fake.Calls() {
				if c.TokenIn != "header" || strings.Contains(c.Query, secret) || strings.Contains(fmt.Sprint(c.Args), secret) {
					t.Fatalf("token sent outside the Authorization header: %+v", c)
				}
			}
		})
	}
}
