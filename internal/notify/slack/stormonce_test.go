package slack_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/journaltest"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/store"
)

// stormDeliveries returns one delivery of action per episode, each with its
// own delivery id (base+i), as the outbox would hand them out.
func stormDeliveries(eps []*episode, action alert.Action, at time.Time, base int64) []store.Delivery {
	ds := make([]store.Delivery, len(eps))
	for i, ep := range eps {
		v := 60.0
		if action == alert.ActionResolve {
			v = 90
		}
		ds[i] = ep.delivery(action, v, alert.P2, at)
		ds[i].ID = base + int64(i)
	}
	return ds
}

// TestStormSummaryAfterCrashNotPostedAgain: a storm summary that reached
// Slack while the process died before storing its handle is found by the
// retries of its deliveries, however they are batched, and edited rather
// than posted again; the storm then ends in that one message.
func TestStormSummaryAfterCrashNotPostedAgain(t *testing.T) {
	tests := []struct {
		name    string
		retry   func(n *slack.Notifier, ds []store.Delivery) []notify.Result
		lookups int
	}{
		{"retried as one batch", func(n *slack.Notifier, ds []store.Delivery) []notify.Result {
			return n.NotifyBatch(context.Background(), ds, make([]*store.Ref, len(ds)))
		}, 1},
		{"retried one by one", func(n *slack.Notifier, ds []store.Delivery) []notify.Result {
			var res []notify.Result
			for _, d := range ds {
				r, err := n.Notify(context.Background(), d, nil)
				res = append(res, notify.Result{Receipt: r, Err: err})
			}
			return res
		}, 1},
		{"retried in small batches", func(n *slack.Notifier, ds []store.Delivery) []notify.Result {
			var res []notify.Result
			for i := 0; i < len(ds); i += 2 {
				res = append(res, n.NotifyBatch(context.Background(), ds[i:i+2], make([]*store.Ref, 2))...)
			}
			return res
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.fake.AddToken(fakeslack.DefaultToken, "chat:write", "channels:history")
			j := &journaltest.Journal{}
			eps := newFleet(8).eps
			creates := stormDeliveries(eps, alert.ActionCreate, t0, 100)

			first := e.restarted(t, j).NotifyBatch(context.Background(), creates, make([]*store.Ref, len(creates)))
			mustOK(t, first)
			if n := len(e.fake.Messages(fakeslack.DefaultChannel)); n != 1 {
				t.Fatalf("%d messages after the first attempt, want 1 summary", n)
			}
			// The process dies before the handles are stored: the next one
			// retries every create without a ref.
			e.clock.Advance(20 * time.Second)
			again := tc.retry(e.restarted(t, j), creates)
			mustOK(t, again)
			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != 1 {
				t.Fatalf("%d messages after the retry, want the one summary", len(msgs))
			}
			for i, r := range again {
				if r.Receipt.Ref != first[i].Receipt.Ref {
					t.Errorf("retry %d ref %q, want the first summary's %q", i, r.Receipt.Ref, first[i].Receipt.Ref)
				}
			}
			if !strings.Contains(again[0].Receipt.Note, "earlier attempt") {
				t.Errorf("note %q does not say the summary was found", again[0].Receipt.Note)
			}
			if got := calls(e, "conversations.history"); got != tc.lookups {
				t.Errorf("%d conversations.history calls, want %d", got, tc.lookups)
			}
			if h := headerOf(t, msgs[0]); !strings.Contains(h, "8 queues breaching") {
				t.Errorf("summary header after the retry %q, want all 8 queues", h)
			}

			// The storm ends in the same message.
			e.clock.Advance(10 * time.Minute)
			n := e.restarted(t, j)
			resolves := stormDeliveries(eps, alert.ActionResolve, e.clock.Now(), 200)
			prev := make([]*store.Ref, len(resolves))
			for i := range prev {
				prev[i] = ref(again[i].Receipt)
			}
			mustOK(t, n.NotifyBatch(context.Background(), resolves, prev))
			msgs = e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != 1 || !strings.HasPrefix(headerOf(t, msgs[0]), ":white_check_mark:") || len(msgs[0].Replies) != 1 {
				t.Fatalf("after the resolves: %d messages, header %q, %d replies; want the one summary, green, with 1 reply",
					len(msgs), headerOf(t, msgs[0]), len(msgs[0].Replies))
			}
		})
	}
}

// TestStormSummaryMarkerWithoutPost: a marker whose post never reached
// Slack (the process died in between) leaves nothing to find; the retry
// posts the summary once. Without the history scope the retry cannot look
// and posts again, saying which scope is missing.
func TestStormSummaryMarkerWithoutPost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scopes   []string
		postedBy int // messages the crashed attempt left in the channel
		want     int
	}{
		{"nothing was posted", []string{"chat:write", "channels:history"}, 0, 1},
		{"no history scope", []string{"chat:write"}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := newEnv(t, func(c *slack.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
			e.fake.AddToken(fakeslack.DefaultToken, tc.scopes...)
			j := &journaltest.Journal{}
			eps := newFleet(6).eps
			creates := stormDeliveries(eps, alert.ActionCreate, t0, 100)
			if tc.postedBy == 0 {
				_ = j.Put(context.Background(), "slack-storm", fmt.Sprintf("posting %d 100-1 100,101,102,103,104,105", t0.Unix()))
			} else {
				mustOK(t, e.restarted(t, j).NotifyBatch(context.Background(), creates, make([]*store.Ref, len(creates))))
			}
			e.clock.Advance(20 * time.Second)
			mustOK(t, e.restarted(t, j).NotifyBatch(context.Background(), creates, make([]*store.Ref, len(creates))))
			if n := len(e.fake.Messages(fakeslack.DefaultChannel)); n != tc.want {
				t.Errorf("%d messages, want %d", n, tc.want)
			}
			if tc.want == 2 && !strings.Contains(logs.String(), "channels:history") {
				t.Errorf("no warning naming the missing scope:\n%s", logs.String())
			}
		})
	}
}
