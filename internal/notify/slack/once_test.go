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
	"github.com/queuewatch/queuewatch/internal/notify/journaltest"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
)

// restarted returns a new notifier with the env's config and journal j, as
// a new process would have after a crash.
func (e *env) restarted(t *testing.T, j *journaltest.Journal) *slack.Notifier {
	t.Helper()
	n := e.renew(t)
	n.UseJournal(j)
	return n
}

func calls(e *env, method string) int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// TestPostAfterCrashAdoptsEarlierMessage: a delivery whose post reached
// Slack but whose ts was never stored (the process died in between) is not
// posted again by the next attempt: it finds the message by its metadata.
func TestPostAfterCrashAdoptsEarlierMessage(t *testing.T) {
	tests := []struct {
		name         string
		scopes       []string
		wantMessages int
	}{
		{"history scope: found", []string{"chat:write", "channels:history"}, 1},
		{"no history scope: posted again", []string{"chat:write"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := newEnv(t, func(c *slack.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
			e.fake.AddToken(fakeslack.DefaultToken, tc.scopes...)
			j := &journaltest.Journal{}
			ep := newEpisode(1)
			d := ep.delivery(alert.ActionCreate, 70, alert.P2, t0)
			first := send(t, e.restarted(t, j), d, nil)
			// The receipt is lost with the process; the next attempt has no ref.
			e.clock.Advance(30 * time.Second)
			again := send(t, e.restarted(t, j), d, nil)

			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != tc.wantMessages {
				t.Fatalf("%d messages in the channel, want %d", len(msgs), tc.wantMessages)
			}
			if tc.wantMessages == 1 {
				if again.Ref != first.Ref {
					t.Errorf("second attempt's ref %q, want the first message's %q", again.Ref, first.Ref)
				}
				if !strings.Contains(again.Note, "earlier attempt") {
					t.Errorf("note %q does not say the message was found", again.Note)
				}
			} else if !strings.Contains(logs.String(), "channels:history") {
				t.Errorf("no warning naming the scope to add:\n%s", logs.String())
			}
			if got := calls(e, "conversations.history"); got != 1 {
				t.Errorf("%d conversations.history calls, want 1", got)
			}
		})
	}
}

// TestPostMarkerWithoutMessagePostsOnce: an attempt that wrote its marker
// but died before the post leaves nothing in Slack; the next one posts.
func TestPostMarkerWithoutMessagePostsOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.AddToken(fakeslack.DefaultToken, "chat:write", "channels:history")
	ep := newEpisode(1)
	d := ep.delivery(alert.ActionCreate, 70, alert.P2, t0)
	j := &journaltest.Journal{}
	_ = j.Put(context.Background(), fmt.Sprintf("slack-post/%d", d.ID), fmt.Sprintf("posting %d", t0.Unix()))
	// Other deliveries' messages in the channel do not match.
	send(t, e.restarted(t, j), newEpisode(2).delivery(alert.ActionCreate, 70, alert.P2, t0.Add(time.Second)), nil)
	r := send(t, e.restarted(t, j), d, nil)
	if n := len(e.fake.Messages(fakeslack.DefaultChannel)); n != 2 {
		t.Fatalf("%d messages, want 2 (one per episode)", n)
	}
	if strings.Contains(r.Note, "earlier attempt") {
		t.Errorf("adopted another delivery's message: %q", r.Note)
	}
}

// TestResolveReplyAfterCrashNotRepeated: a resolve whose thread reply went
// out but whose outcome was never stored does not reply twice.
func TestResolveReplyAfterCrashNotRepeated(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.AddToken(fakeslack.DefaultToken, "chat:write", "channels:history")
	j := &journaltest.Journal{}
	ep := newEpisode(1)
	r := send(t, e.restarted(t, j), ep.delivery(alert.ActionCreate, 70, alert.P2, t0), nil)
	res := ep.delivery(alert.ActionResolve, 90, alert.P2, t0.Add(time.Minute))
	send(t, e.restarted(t, j), res, ref(r))
	send(t, e.restarted(t, j), res, ref(r))
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || len(msgs[0].Replies) != 1 {
		t.Fatalf("got %d messages, the first with %d replies; want 1 with 1 reply", len(msgs), len(msgs[0].Replies))
	}
	if got := calls(e, "conversations.replies"); got != 1 {
		t.Errorf("%d conversations.replies calls, want 1", got)
	}
}

// TestRefusedPostNeedsNoLookup: when Slack refused a post (here: the bot is
// not in the channel), nothing was posted, and the retry posts without
// searching the history first.
func TestRefusedPostNeedsNoLookup(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.AddToken(fakeslack.DefaultToken, "chat:write", "channels:history")
	e.fake.SetMember(fakeslack.DefaultChannel, false)
	j := &journaltest.Journal{}
	n := e.restarted(t, j)
	d := newEpisode(1).delivery(alert.ActionCreate, 70, alert.P2, t0)
	if _, err := n.Notify(context.Background(), d, nil); err == nil {
		t.Fatal("posted to a channel the bot is not in")
	}
	e.fake.SetMember(fakeslack.DefaultChannel, true)
	send(t, n, d, nil)
	if got := calls(e, "conversations.history"); got != 0 {
		t.Errorf("%d conversations.history calls after a refusal, want 0", got)
	}
	if got := len(e.fake.Messages(fakeslack.DefaultChannel)); got != 1 {
		t.Errorf("%d messages, want 1", got)
	}
}
