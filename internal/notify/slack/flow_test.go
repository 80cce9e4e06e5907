package slack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/store"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  slack.Config
		ok   bool
	}{
		{"ok", slack.Config{Token: "xoxb-1", Channel: "C1"}, true},
		{"no token", slack.Config{Channel: "C1"}, false},
		{"no channel", slack.Config{Token: "xoxb-1"}, false},
		{"bad url", slack.Config{Token: "xoxb-1", Channel: "C1", BaseURL: "slack.com/api"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := slack.New(tc.cfg, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v", err)
			}
			if err == nil && n.Name() != tc.cfg.Name {
				t.Errorf("Name %q, want %q", n.Name(), tc.cfg.Name)
			}
		})
	}
}

// TestEpisodeFlow checks that every episode ends as one message edited in
// place, green when resolved, with one thread reply.
func TestEpisodeFlow(t *testing.T) {
	type step struct {
		action alert.Action
		value  float64
		prio   alert.Priority
		note   string
	}
	tests := []struct {
		name    string
		steps   []step
		edits   int
		replies int
		header  string
	}{
		{"create only", []step{{alert.ActionCreate, 71, alert.P2, ""}}, 0, 0,
			":rotating_light: Support 000 - Voice: service level 71% (target 80%)"},
		{"create update resolve", []step{
			{alert.ActionCreate, 71, alert.P3, ""},
			{alert.ActionUpdate, 63, alert.P1, "escalated"},
			{alert.ActionResolve, 86, alert.P1, ""},
		}, 2, 1, ":white_check_mark: Support 000 - Voice: resolved after 12m, worst 63%"},
		{"create resolve", []step{{alert.ActionCreate, 70, alert.P2, ""}, {alert.ActionResolve, 90, alert.P2, ""}}, 1, 1,
			":white_check_mark: Support 000 - Voice: resolved after 12m, worst 70%"},
		{"many updates", []step{
			{alert.ActionCreate, 79, alert.P3, ""}, {alert.ActionUpdate, 75, alert.P3, "stale data"},
			{alert.ActionUpdate, 70, alert.P2, ""}, {alert.ActionUpdate, 72, alert.P2, "flapping"},
		}, 3, 0, ":rotating_light: Support 000 - Voice: service level 72% (target 80%)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ep := newEpisode(0)
			var prev *store.Ref
			var first string
			for i, s := range tc.steps {
				at := t0.Add(time.Duration(i) * 6 * time.Minute)
				if s.action == alert.ActionResolve {
					at = t0.Add(12 * time.Minute)
				}
				e.clock.Set(at)
				d := ep.delivery(s.action, s.value, s.prio, at)
				d.Transition.Note = s.note
				r := send(t, e.n, d, prev)
				if r.Code != 200 || r.Ref == "" {
					t.Fatalf("step %d: receipt %+v", i, r)
				}
				if first == "" {
					first = r.Ref
				} else if r.Ref != first {
					t.Fatalf("step %d: ref changed %q → %q", i, first, r.Ref)
				}
				prev = ref(r)
			}
			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if first != fakeslack.DefaultChannel+"/"+m.TS {
				t.Errorf("ref %q does not name message %s", first, m.TS)
			}
			if m.Edits != tc.edits || len(m.Replies) != tc.replies {
				t.Errorf("edits %d replies %d, want %d %d", m.Edits, len(m.Replies), tc.edits, tc.replies)
			}
			if h := headerOf(t, m); h != tc.header {
				t.Errorf("header %q, want %q", h, tc.header)
			}
			if m.Text == "" {
				t.Error("fallback text is empty")
			}
			if tc.replies > 0 && !strings.Contains(m.Replies[0].Text, "recovered") {
				t.Errorf("reply %q", m.Replies[0].Text)
			}
		})
	}
}

func TestRequestsUseBearerJSON(t *testing.T) {
	e := newEnv(t, nil)
	send(t, e.n, newEpisode(1).delivery(alert.ActionCreate, 70, alert.P1, t0), nil)
	for _, c := range e.fake.Calls() {
		if c.TokenIn != "header" || c.ContentType != "application/json; charset=utf-8" || c.Query != "" {
			t.Errorf("call %s: token in %q, content type %q, query %q", c.Method, c.TokenIn, c.ContentType, c.Query)
		}
	}
}

// TestMessageGone checks that an edit of a lost message posts a new one and
// returns its handle.
func TestMessageGone(t *testing.T) {
	tests := []struct {
		name   string
		action alert.Action
		lose   func(e *env, ts string)
		prev   func(r string) *store.Ref
	}{
		{"deleted, update", alert.ActionUpdate, func(e *env, ts string) { e.fake.DeleteMessage(fakeslack.DefaultChannel, ts) }, nil},
		{"deleted, resolve", alert.ActionResolve, func(e *env, ts string) { e.fake.DeleteMessage(fakeslack.DefaultChannel, ts) }, nil},
		{"cant_update_message", alert.ActionUpdate, func(e *env, _ string) {
			e.fake.Faults.Add(faults.Fault{Status: 200, Body: `{"ok":false,"error":"cant_update_message"}`, Path: "chat.update"})
		}, nil},
		{"no stored ref", alert.ActionUpdate, func(*env, string) {}, func(string) *store.Ref { return nil }},
		{"unreadable ref", alert.ActionUpdate, func(*env, string) {}, func(string) *store.Ref { return &store.Ref{Value: "garbage"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ep := newEpisode(2)
			r1 := send(t, e.n, ep.delivery(alert.ActionCreate, 70, alert.P2, t0), nil)
			ts := e.fake.Messages(fakeslack.DefaultChannel)[0].TS
			tc.lose(e, ts)
			prev := ref(r1)
			if tc.prev != nil {
				prev = tc.prev(r1.Ref)
			}
			r2 := send(t, e.n, ep.delivery(tc.action, 60, alert.P1, t0.Add(time.Minute)), prev)
			if r2.Ref == "" || r2.Ref == r1.Ref {
				t.Fatalf("new ref %q, old %q", r2.Ref, r1.Ref)
			}
			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			last := msgs[len(msgs)-1]
			if r2.Ref != fakeslack.DefaultChannel+"/"+last.TS {
				t.Errorf("ref %q does not name the new message %s", r2.Ref, last.TS)
			}
			// The new handle works for the next change.
			send(t, e.n, ep.delivery(alert.ActionUpdate, 65, alert.P1, t0.Add(2*time.Minute)), ref(r2))
			if got := e.fake.Messages(fakeslack.DefaultChannel); got[len(got)-1].Edits != 1 {
				t.Errorf("new message not edited: %+v", got[len(got)-1])
			}
		})
	}
}

// TestBlocksRefused checks the plain-text retry when Slack refuses blocks.
func TestBlocksRefused(t *testing.T) {
	for _, code := range []string{"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"} {
		for _, method := range []string{"chat.postMessage", "chat.update"} {
			t.Run(code+"/"+method, func(t *testing.T) {
				e := newEnv(t, nil)
				ep := newEpisode(3)
				var prev *store.Ref
				if method == "chat.update" {
					prev = ref(send(t, e.n, ep.delivery(alert.ActionCreate, 70, alert.P2, t0), nil))
				}
				e.fake.Faults.Add(faults.Fault{Status: 200, Body: `{"ok":false,"error":"` + code + `"}`, Path: method})
				send(t, e.n, ep.delivery(alert.ActionUpdate, 60, alert.P1, t0.Add(time.Minute)), prev)
				msgs := e.fake.Messages(fakeslack.DefaultChannel)
				if len(msgs) != 1 {
					t.Fatalf("%d messages", len(msgs))
				}
				if msgs[0].Blocks != nil || !strings.Contains(msgs[0].Text, "service level 60%") {
					t.Errorf("not a plain-text message: %q blocks %s", msgs[0].Text, msgs[0].Blocks)
				}
				calls := e.fake.Calls()
				last := calls[len(calls)-1]
				if _, ok := last.Args["blocks"]; ok || last.Method != method {
					t.Errorf("retry %s still sent blocks", last.Method)
				}
			})
		}
	}
	t.Run("refused twice", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.Faults.Add(faults.Fault{Status: 200, Body: `{"ok":false,"error":"invalid_blocks"}`, Times: 2})
		_, err := e.n.Notify(context.Background(), newEpisode(3).delivery(alert.ActionCreate, 70, alert.P2, t0), nil)
		if ne := asError(t, err); ne.Reason != "invalid_blocks" || ne.Retryable {
			t.Fatalf("got %+v", ne)
		}
		if n := len(e.fake.Calls()); n != 0 {
			t.Errorf("faulted calls reached the fake: %d", n)
		}
	})
}
