package slack_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/store"
)

// fleet is a set of episodes with their stored handles.
type fleet struct {
	eps  []*episode
	refs map[string]*store.Ref
}

func newFleet(n int) *fleet {
	f := &fleet{refs: map[string]*store.Ref{}}
	for i := 0; i < n; i++ {
		f.eps = append(f.eps, newEpisode(i))
	}
	return f
}

// batch sends one delivery per episode in eps through NotifyBatch, stores
// the returned handles, and returns the results.
func (f *fleet) batch(t *testing.T, n *slack.Notifier, eps []*episode, action alert.Action, at time.Time) []notify.Result {
	t.Helper()
	ds := make([]store.Delivery, len(eps))
	prev := make([]*store.Ref, len(eps))
	for i, ep := range eps {
		v := 80 - float64(i%40) // values 41..80
		if action == alert.ActionResolve {
			v = 90
		}
		p := alert.P2
		if i%3 == 0 {
			p = alert.P1
		}
		ds[i] = ep.delivery(action, v, p, at)
		prev[i] = f.refs[ep.key()]
	}
	res := n.NotifyBatch(context.Background(), ds, prev)
	if len(res) != len(ds) {
		t.Fatalf("%d results for %d deliveries", len(res), len(ds))
	}
	for i, r := range res {
		if r.Err == nil && r.Receipt.Ref != "" {
			f.refs[eps[i].key()] = ref(r.Receipt)
		}
	}
	return res
}

func mustOK(t *testing.T, res []notify.Result) {
	t.Helper()
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("result %d: %v", i, r.Err)
		}
	}
}

// TestStorm sends 200 breaches at once, some updates, then the resolves in
// batches, under Slack's real rate limits, and checks it all lands in one
// summary message that ends green with one thread reply.
func TestStorm(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.SetRateLimits(fakeslack.Rate{PerSecond: 1, Burst: 3}, fakeslack.Rate{PerSecond: 50.0 / 60, Burst: 20})
	f := newFleet(200)
	res := f.batch(t, e.n, f.eps, alert.ActionCreate, t0)
	mustOK(t, res)
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages after the storm, want 1 summary", len(msgs))
	}
	summary := msgs[0]
	for i, r := range res {
		if r.Receipt.Ref != res[0].Receipt.Ref || !strings.Contains(r.Receipt.Ref, summary.TS) || !strings.Contains(r.Receipt.Ref, `"storm":true`) {
			t.Fatalf("result %d ref %q does not point at summary %s", i, r.Receipt.Ref, summary.TS)
		}
	}
	if h := headerOf(t, summary); h != ":rotating_light: Queue storm: 200 queues breaching" {
		t.Errorf("header %q", h)
	}
	text := sectionsOf(t, summary)
	for _, want := range []string{"*By rule:* sla_breach 200", "*By priority:* P1 67 · P2 133", "+185 more", "*Worst queues*\n• :red_circle: *Support 039 - Voice* — service level 41%"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	checkLimits(t, summary)

	// Priority changes of some episodes edit the summary, through Notify too.
	e.clock.Advance(2 * time.Minute)
	mustOK(t, f.batch(t, e.n, f.eps[:10], alert.ActionUpdate, e.clock.Now()))
	if _, err := e.n.Notify(context.Background(), f.eps[10].delivery(alert.ActionUpdate, 30, alert.P1, e.clock.Now()), f.refs[f.eps[10].key()]); err != nil {
		t.Fatal(err)
	}
	// Resolves arrive in four batches of 50.
	for b := 0; b < 4; b++ {
		e.clock.Advance(5 * time.Minute)
		mustOK(t, f.batch(t, e.n, f.eps[b*50:(b+1)*50], alert.ActionResolve, e.clock.Now()))
		want := fmt.Sprintf("%d recovered", (b+1)*50)
		if b == 3 {
			want = "all 200 queues recovered after 22m"
		}
		if h := headerOf(t, e.fake.Messages(fakeslack.DefaultChannel)[0]); !strings.Contains(h, want) {
			t.Errorf("after batch %d header %q lacks %q", b, h, want)
		}
	}
	msgs = e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || msgs[0].TS != summary.TS {
		t.Fatalf("%d messages at the end, want the one summary", len(msgs))
	}
	final := msgs[0]
	if !strings.HasPrefix(headerOf(t, final), ":white_check_mark:") || final.Edits != 6 || len(final.Replies) != 1 {
		t.Errorf("final summary: header %q edits %d replies %d", headerOf(t, final), final.Edits, len(final.Replies))
	}
	if !strings.Contains(final.Replies[0].Text, "All 200 queues recovered") {
		t.Errorf("reply %q", final.Replies[0].Text)
	}
	checkLimits(t, final)

	// The next breach after the storm is a normal message again.
	e.clock.Advance(time.Minute)
	send(t, e.n, newEpisode(500).delivery(alert.ActionCreate, 70, alert.P2, e.clock.Now()), nil)
	if n := len(e.fake.Messages(fakeslack.DefaultChannel)); n != 2 {
		t.Errorf("%d messages, want summary + 1", n)
	}
}

// TestBelowThreshold checks batches below the threshold are sent one by
// one, in order.
func TestBelowThreshold(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		n         int
		messages  int
	}{
		{"one", 0, 1, 1},
		{"four of five", 0, 4, 4},
		{"five of five", 0, 5, 1},
		{"threshold 3", 3, 3, 1},
		{"storm mode off", -1, 12, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *slack.Config) { c.StormThreshold = tc.threshold })
			f := newFleet(tc.n)
			mustOK(t, f.batch(t, e.n, f.eps, alert.ActionCreate, t0))
			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != tc.messages {
				t.Fatalf("%d messages, want %d", len(msgs), tc.messages)
			}
			if tc.messages == tc.n && tc.n > 1 {
				for i, m := range msgs {
					if want := f.eps[i].name; !strings.Contains(m.Text, want) {
						t.Errorf("message %d is %q, want %s (in order)", i, m.Text, want)
					}
					if got := f.refs[f.eps[i].key()].Value; got != fakeslack.DefaultChannel+"/"+m.TS {
						t.Errorf("ref %d %q", i, got)
					}
				}
			}
		})
	}
}

// TestStormAfterRestart checks a fresh notifier edits the existing summary
// instead of posting anew.
func TestStormAfterRestart(t *testing.T) {
	e := newEnv(t, nil)
	f := newFleet(8)
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionCreate, t0))
	restarted := e.renew(t)
	e.clock.Advance(time.Minute)
	mustOK(t, f.batch(t, restarted, f.eps[:3], alert.ActionUpdate, e.clock.Now()))
	// A new breach joins the open (restored) storm.
	extra := newEpisode(100)
	mustOK(t, f.batch(t, restarted, []*episode{extra}, alert.ActionCreate, e.clock.Now()))
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || msgs[0].Edits != 2 {
		t.Fatalf("messages %d (want 1), edits %d (want 2)", len(msgs), msgs[0].Edits)
	}
	if !strings.Contains(string(msgs[0].Blocks), "Rebuilt after a restart") {
		t.Error("summary does not say it was rebuilt")
	}
	if f.refs[extra.key()].Value != f.refs[f.eps[0].key()].Value {
		t.Errorf("new breach ref %q, want the summary", f.refs[extra.key()].Value)
	}
	e.clock.Advance(time.Minute)
	mustOK(t, f.batch(t, restarted, append(f.eps[:3:3], extra), alert.ActionResolve, e.clock.Now()))
	m := e.fake.Messages(fakeslack.DefaultChannel)[0]
	if len(m.Replies) != 1 || !strings.Contains(m.Replies[0].Text, "since the restart") {
		t.Errorf("replies %+v", m.Replies)
	}
}

// TestStormMixedBatch checks that an episode with its own message keeps it
// while new breaches form the storm.
func TestStormMixedBatch(t *testing.T) {
	e := newEnv(t, nil)
	f := newFleet(7)
	mustOK(t, f.batch(t, e.n, f.eps[:1], alert.ActionCreate, t0)) // own message
	e.clock.Advance(time.Minute)
	res := f.batch(t, e.n, f.eps, alert.ActionUpdate, e.clock.Now()) // 1 own + 6 new
	mustOK(t, res)
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 2 || msgs[0].Edits != 1 {
		t.Fatalf("%d messages (want own + summary), own edits %d", len(msgs), msgs[0].Edits)
	}
	if strings.Contains(res[0].Receipt.Ref, "storm") || !strings.Contains(res[1].Receipt.Ref, "storm") {
		t.Errorf("refs %q %q", res[0].Receipt.Ref, res[1].Receipt.Ref)
	}
	if h := headerOf(t, msgs[1]); !strings.Contains(h, "6 queues breaching") {
		t.Errorf("summary header %q", h)
	}
}

// TestStormFailures checks a failed summary post fails every member
// retryably, a retry posts once, and a lost summary is posted anew.
func TestStormFailures(t *testing.T) {
	e := newEnv(t, nil)
	f := newFleet(6)
	e.fake.Faults.Add(faults.Fault{Status: 503, Body: "down"})
	for i, r := range f.batch(t, e.n, f.eps, alert.ActionCreate, t0) {
		if ne := asError(t, r.Err); !ne.Retryable || ne.Code != 503 {
			t.Fatalf("result %d: %+v", i, ne)
		}
	}
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionCreate, t0))
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || !strings.Contains(headerOf(t, msgs[0]), "6 queues") {
		t.Fatalf("after retry: %d messages", len(msgs))
	}
	oldRef := f.refs[f.eps[5].key()]

	e.fake.DeleteMessage(fakeslack.DefaultChannel, msgs[0].TS)
	e.clock.Advance(time.Minute)
	res := f.batch(t, e.n, f.eps[:2], alert.ActionResolve, e.clock.Now())
	mustOK(t, res)
	msgs = e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || !strings.Contains(res[0].Receipt.Ref, msgs[0].TS) || !strings.Contains(res[0].Receipt.Note, "message_not_found") {
		t.Fatalf("summary not reposted: %d messages, receipt %+v", len(msgs), res[0].Receipt)
	}
	// An episode still holding the old handle reaches the new summary.
	f.refs[f.eps[5].key()] = oldRef
	mustOK(t, f.batch(t, e.n, f.eps[5:], alert.ActionUpdate, e.clock.Now()))
	if msgs = e.fake.Messages(fakeslack.DefaultChannel); len(msgs) != 1 || msgs[0].Edits != 1 {
		t.Fatalf("old handle: %d messages, edits %d", len(msgs), msgs[0].Edits)
	}
}

// TestStormConcurrent sends storm batches from several goroutines at once;
// they must share one summary (run with -race).
func TestStormConcurrent(t *testing.T) {
	e := newEnv(t, nil)
	f := newFleet(40)
	var wg sync.WaitGroup
	errs := make(chan error, len(f.eps))
	for g := 0; g < 4; g++ {
		eps := f.eps[g*10 : (g+1)*10]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds := make([]store.Delivery, len(eps))
			for i, ep := range eps {
				ds[i] = ep.delivery(alert.ActionCreate, 60, alert.P1, t0)
			}
			for _, r := range e.n.NotifyBatch(context.Background(), ds, nil) {
				if r.Err != nil {
					errs <- r.Err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || !strings.Contains(headerOf(t, msgs[0]), "40 queues breaching") {
		t.Fatalf("%d messages, header %q", len(msgs), headerOf(t, msgs[0]))
	}
}

// TestStormForgetsWhatSlackDidNotShow: a storm summary is posted for six
// breaching queues; two more breach together and join it, but Slack
// refuses that edit for good (the deliveries are dead letters). When the
// six recover, the storm is over: the summary turns green and gets its
// all-clear, instead of showing the two refused breaches for ever.
func TestStormForgetsWhatSlackDidNotShow(t *testing.T) {
	e := newEnv(t, nil)
	f := newFleet(8)
	mustOK(t, f.batch(t, e.n, f.eps[:6], alert.ActionCreate, t0))
	e.fake.Faults.Add(faults.Fault{Status: 200, Path: "chat.update", Body: `{"ok":false,"error":"msg_blocks_too_long"}`, Times: 2})
	for i, r := range f.batch(t, e.n, f.eps[6:], alert.ActionCreate, t0) {
		if r.Err == nil {
			t.Fatalf("join %d: sent, want the refused edit's error", i)
		}
	}
	e.clock.Advance(10 * time.Minute)
	mustOK(t, f.batch(t, e.n, f.eps[:6], alert.ActionResolve, e.clock.Now()))
	msgs := e.fake.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the summary", len(msgs))
	}
	if h := headerOf(t, msgs[0]); !strings.HasPrefix(h, ":white_check_mark:") || !strings.Contains(h, "all 6 queues recovered") ||
		len(msgs[0].Replies) != 1 {
		t.Errorf("summary %q with %d replies, want all 6 recovered and the all-clear", h, len(msgs[0].Replies))
	}
}
