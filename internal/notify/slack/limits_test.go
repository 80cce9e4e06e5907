package slack_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/store"
)

// checkLimits fails the test when a message breaks a Block Kit limit. The
// fake enforces them too; this names the offending field.
func checkLimits(t *testing.T, m fakeslack.Message) {
	t.Helper()
	n := func(v any) int { s, _ := v.(string); return utf8.RuneCountInString(s) }
	textOf := func(v any) any { m, _ := v.(map[string]any); return m["text"] }
	bs := blocksOf(t, m)
	if len(bs) == 0 || len(bs) > 50 {
		t.Fatalf("%d blocks", len(bs))
	}
	if m.Text == "" || n(m.Text) > 4000 {
		t.Errorf("fallback text of %d characters", n(m.Text))
	}
	for i, b := range bs {
		switch b["type"] {
		case "header":
			if l := n(textOf(b["text"])); l > 150 {
				t.Errorf("block %d: header of %d", i, l)
			}
		case "section":
			if l := n(textOf(b["text"])); l > 3000 {
				t.Errorf("block %d: section of %d", i, l)
			}
			fs, _ := b["fields"].([]any)
			if len(fs) > 10 {
				t.Errorf("block %d: %d fields", i, len(fs))
			}
			for _, f := range fs {
				if l := n(textOf(f)); l > 2000 {
					t.Errorf("block %d: field of %d", i, l)
				}
			}
		case "actions":
			es, _ := b["elements"].([]any)
			for _, el := range es {
				btn := el.(map[string]any)
				if l := n(textOf(btn["text"])); l > 75 {
					t.Errorf("block %d: button text of %d", i, l)
				}
				if l := n(btn["url"]); l > 3000 {
					t.Errorf("block %d: url of %d", i, l)
				}
			}
		}
	}
}

// TestBlockLimits sends messages built from oversized input and checks
// Slack accepts them with blocks (no plain-text fallback was needed).
func TestBlockLimits(t *testing.T) {
	long := strings.Repeat("Ünïcødé & <queue> 📞 ", 60)
	tests := []struct {
		name  string
		edit  func(d *store.Delivery)
		queue func(string) string
	}{
		{"long queue name", func(d *store.Delivery) { d.Transition.QueueName = long }, nil},
		{"long note and reason", func(d *store.Delivery) {
			d.Transition.Note = strings.Repeat("note <b>&", 2000)
			d.Transition.Reason = strings.Repeat("why ", 3000)
		}, nil},
		{"long rule and ids", func(d *store.Delivery) {
			d.Transition.Rule = strings.Repeat("r", 500)
			d.Transition.QueueID = strings.Repeat("q", 500)
			d.Transition.MediaType = "voice"
		}, nil},
		{"oversized queue URL", nil, func(id string) string { return "https://x.invalid/" + strings.Repeat("u", 4000) }},
		{"bad queue URL", nil, func(id string) string { return "javascript:alert(1)" }},
	}
	for _, tc := range tests {
		for _, action := range []alert.Action{alert.ActionCreate, alert.ActionResolve} {
			t.Run(tc.name+"/"+string(action), func(t *testing.T) {
				e := newEnv(t, func(c *slack.Config) {
					if tc.queue != nil {
						c.QueueURL = tc.queue
					}
				})
				d := newEpisode(6).delivery(action, 70, alert.P1, t0.Add(time.Hour))
				if tc.edit != nil {
					tc.edit(&d)
				}
				send(t, e.n, d, nil)
				msgs := e.fake.Messages(fakeslack.DefaultChannel)
				if len(msgs) != 1 || msgs[0].Blocks == nil {
					t.Fatalf("message fell back to plain text or is missing: %+v", msgs)
				}
				checkLimits(t, msgs[0])
				for _, c := range e.fake.Calls() {
					if !c.OK {
						t.Errorf("refused call %s: %s", c.Method, c.Error)
					}
				}
			})
		}
	}
}

// TestRequestsArePacedPerChannel: one batch of eight new alerts below the
// storm threshold posts eight messages, and one batch of their resolves
// edits them and posts eight thread replies. The notifier paces every
// request itself (posts per channel, 20 a second with bursts of 2 here),
// so Slack's own limit (the fake's: 20 a second, bursts of 3, on the wall
// clock) never answers ratelimited, though the dispatcher handed each
// batch over as one send.
func TestRequestsArePacedPerChannel(t *testing.T) {
	e := newEnv(t, func(c *slack.Config) {
		c.PostRate, c.PostBurst, c.StormThreshold = 20, 2, -1
	})
	e.fake.SetClock(time.Now)
	e.fake.SetRateLimits(fakeslack.Rate{PerSecond: 20, Burst: 3}, fakeslack.Rate{})
	f := newFleet(8)
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionCreate, t0))
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionResolve, t0.Add(time.Minute)))
	for _, c := range e.fake.Calls() {
		if !c.OK {
			t.Errorf("%s answered %d %s", c.Method, c.Status, c.Error)
		}
	}
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 8 {
		t.Fatalf("%d messages, want 8", len(msgs))
	}
	for _, m := range msgs {
		if m.Edits != 1 || len(m.Replies) != 1 {
			t.Errorf("message %s: %d edits, %d replies; want 1 and 1", m.TS, m.Edits, len(m.Replies))
		}
	}
}
