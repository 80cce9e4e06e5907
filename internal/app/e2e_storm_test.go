package app

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// TestE2EStorm: 500 queues (100 under -race) breach and recover three times in quick
// succession. OpsGenie and PagerDuty receive exactly one alert-changing
// request per committed transition (counted from the store's history), in
// the order of the transitions; Slack receives no more requests than
// transitions, rolls the storm up into a few summary messages, and never
// exceeds the fake's per-channel rate limit (no ratelimited answer).
//
// The destinations' rates are raised for OpsGenie and PagerDuty in the
// YAML (their defaults, 5/s and 2/s, would take ten minutes), Slack keeps
// its default of 1 request/s. Each destination has its default 8 workers
// (OpsGenie sends free theirs once accepted); the dispatcher hands Slack
// batches of up to 500 (default 50, not a configuration key). Set
// QUEUEWATCH_STORM=2000x3 for a larger storm.
func TestE2EStorm(t *testing.T) {
	queues, cycles := 500, 3
	if raceEnabled() {
		// The race detector makes the pure-Go SQLite about ten times
		// slower (every outbox write costs ~7 ms): 500 queues × 3
		// cycles take 80-100 s instead of 11, too long for -count=3
		// within go test's default 10 min. Under -race the storm is
		// smaller (same code paths: the storm threshold is 5); the
		// 500-queue storm runs without -race.
		queues = 100
	}
	// A larger storm on demand, e.g. QUEUEWATCH_STORM=2000x3.
	if v := os.Getenv("QUEUEWATCH_STORM"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%d", &queues, &cycles); err != nil || queues%100 != 0 || cycles < 1 {
			t.Fatalf("QUEUEWATCH_STORM=%q: want QUEUESxCYCLES, queues a multiple of 100", v)
		}
	}
	start := time.Now()
	h := newHarness(t)
	h.og.SetNotProcessedPolls(0)
	dests := []string{"oncall", "cc-slack", "pd"}
	h.start(rules(waitRule, dests...), e2eOpts{
		dests: dests,
		extra: map[string]string{
			"*":      fastRetry,
			"oncall": "rate: 10000\nburst: 1000",
			"pd":     "rate: 10000\nburst: 1000",
		},
		dispatcher: &notify.Options{MaxBatch: 500},
	})

	// Feed: every phase is one batch per 100 queues, posted concurrently.
	base := time.Now().Add(-time.Hour)
	for c := range cycles {
		for _, p := range []struct {
			value float64
			at    time.Time
		}{{200, base.Add(time.Duration(2*c) * time.Minute)}, {10, base.Add(time.Duration(2*c+1) * time.Minute)}} {
			var wg sync.WaitGroup
			errs := make(chan error, queues/100)
			for lo := 0; lo < queues; lo += 100 {
				wg.Go(func() {
					var evs []event
					for i := lo; i < lo+100; i++ {
						evs = append(evs, event{queue: queueID(i), metric: "longest_wait", value: p.value, at: p.at})
					}
					if err := h.post(evs...); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
	}
	fed := time.Since(start)
	waitEvery(t, 90*time.Second, 250*time.Millisecond, "the storm to be delivered", func() bool { return h.owed() == 0 }, h.outboxSummary)
	drained := time.Since(start)

	// The real transitions, from the store's history.
	ctx := context.Background()
	want := map[string]int{}       // destination → transitions owed to it
	wantSeq := map[string]string{} // alias → actions owed to OpsGenie, oldest first
	episode := strings.Repeat("create,close,", cycles)
	episode = episode[:len(episode)-1]
	bad := 0
	for i := range queues {
		key := queueID(i) + "_long_wait"
		hist, err := h.svc.store.History(ctx, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(hist)
		var seq []string
		for _, tr := range hist {
			for _, d := range tr.Destinations {
				want[d]++
			}
			if slices.Contains(tr.Destinations, "oncall") {
				seq = append(seq, map[alert.Action]string{alert.ActionCreate: "create", alert.ActionUpdate: "update", alert.ActionResolve: "close"}[tr.Action])
			}
		}
		wantSeq[key] = strings.Join(seq, ",")
		if wantSeq[key] != episode {
			if bad++; bad <= 3 {
				t.Errorf("%s: transitions %s, want %s", key, wantSeq[key], episode)
			}
		}
	}
	for _, d := range dests {
		if want[d] != queues*cycles*2 {
			t.Errorf("%d transitions owed to %s, want %d", want[d], d, queues*cycles*2)
		}
	}

	// OpsGenie: one accepted request per transition, in order per alias.
	ops := ogOps(h.og.Requests())
	if len(ops) != want["oncall"] || len(accepted(ops)) != len(ops) {
		t.Errorf("OpsGenie: %d alert-changing requests (%d accepted), want %d", len(ops), len(accepted(ops)), want["oncall"])
	}
	bad = 0
	for alias, got := range byAlias(ops) {
		if s := opNames(got); s != wantSeq[alias] {
			if bad++; bad <= 3 {
				t.Errorf("OpsGenie %s: %s, want %s", alias, s, wantSeq[alias])
			}
		}
	}
	alerts := h.og.Alerts()
	if len(alerts) != queues*cycles {
		t.Errorf("%d OpsGenie alerts, want %d", len(alerts), queues*cycles)
	}
	for _, a := range alerts {
		if a.Status != "closed" || a.Count != 1 {
			t.Errorf("alert %s: %s, count %d", a.Alias, a.Status, a.Count)
			break
		}
	}

	// PagerDuty: one event per transition, one incident per episode.
	events := 0
	bad = 0
	incidents := h.pd.Incidents()
	for _, in := range incidents {
		events += len(in.Events)
		if in.Status != "resolved" || len(in.Events) != 2 {
			if bad++; bad <= 3 {
				t.Errorf("incident %s: %s with %d events", in.DedupKey, in.Status, len(in.Events))
			}
		}
	}
	if events != want["pd"] || len(incidents) != queues*cycles || h.pd.Dropped() != 0 {
		t.Errorf("PagerDuty: %d events in %d incidents (%d dropped), want %d in %d", events, len(incidents), h.pd.Dropped(),
			want["pd"], queues*cycles)
	}

	// Slack: rolled up, within the transitions, never rate limited.
	calls := h.slack.Calls()
	byMethod := map[string]int{}
	limited := 0
	for _, c := range calls {
		byMethod[c.Method]++
		switch {
		case c.Status == 429 || c.Error == "ratelimited":
			limited++
		case !c.OK:
			t.Errorf("Slack refused %s: %s", c.Method, c.Error)
		}
	}
	if limited > 0 {
		t.Errorf("Slack answered ratelimited to %d of %d requests: the per-channel rate limit was exceeded", limited, len(calls))
	}
	if len(calls) > want["cc-slack"] {
		t.Errorf("%d Slack requests for %d transitions", len(calls), want["cc-slack"])
	}
	msgs := h.slack.Messages(fakeslack.DefaultChannel)
	// Every message ends resolved, with its all-clear.
	var stale []string
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, ":rotating_light:") || len(m.Replies) != 1 {
			stale = append(stale, fmt.Sprintf("%s (%.60q) with %d replies", m.TS, m.Text, len(m.Replies)))
		}
	}
	if len(stale) > 0 {
		t.Errorf("%d of %d Slack messages still show a breach or lack the all-clear: %s",
			len(stale), len(msgs), strings.Join(stale, "; "))
	}
	if len(msgs) == 0 || 10*len(msgs) > queues*cycles {
		t.Errorf("%d Slack messages for %d queues × %d cycles; want storm summaries, each for 10 episodes or more", len(msgs), queues, cycles)
	}
	for _, d := range h.deliveriesOf(store.DeliveryFilter{Status: store.StatusDead}) {
		t.Errorf("dead: %s %s %s: %s", d.Destination, d.Key, d.Action, d.LastError)
	}
	if t.Failed() || limited > 0 {
		var seq []string
		for _, c := range calls {
			s := c.Method
			if c.Args["thread_ts"] != nil {
				s += "(thread)"
			}
			if !c.OK {
				s += "!" + c.Error
			}
			seq = append(seq, s)
		}
		t.Logf("Slack calls: %s", strings.Join(seq, " "))
		for _, m := range msgs {
			var replies []string
			for _, r := range m.Replies {
				replies = append(replies, r.Posted.Format("15:04:05.000"))
			}
			t.Logf("Slack message posted %s, %d edits, last %s, replies at %v: %.80q", m.Posted.Format("15:04:05.000"), m.Edits,
				m.Edited.Format("15:04:05.000"), replies, m.Text)
		}
	}
	t.Logf("%d transitions × 3 destinations fed in %v, delivered in %v; Slack: %d messages, requests %v",
		want["oncall"], fed.Round(time.Millisecond), drained.Round(time.Millisecond), len(msgs), fmt.Sprint(byMethod))
}

// oneCommit makes the engine one shard, so that the samples of one webhook
// request are one commit and the dispatcher hands them to Slack as one
// batch (with a shard per CPU they may be split into several commits).
const oneCommit = "engine: {shards: 1}"

// TestE2ESlackBatchKeepsChannelRate: four queues breach in one commit, so
// the dispatcher hands the Slack notifier one batch of four new alerts
// (below the storm threshold of five, so each gets its own message). Slack
// allows about one message per second per channel (the fake: 1/s, burst
// 3); the dispatcher took one rate-limit token for the batch, so the
// notifier paces the four posts itself. None may be answered ratelimited.
func TestE2ESlackBatchKeepsChannelRate(t *testing.T) {
	h := startE2EWith(t, rules(waitRule, "cc-slack"), e2eOpts{dests: []string{"cc-slack"}, top: oneCommit,
		extra: map[string]string{"*": fastRetry}})
	at := time.Now().Add(-time.Minute)
	var evs []event
	for i := range 4 {
		evs = append(evs, event{queue: queueID(i), metric: "longest_wait", value: 200, at: at})
	}
	h.send(evs...)
	waitFor(t, 20*time.Second, "four Slack messages", func() bool {
		return h.owed() == 0 && len(h.slack.Messages(fakeslack.DefaultChannel)) == 4
	}, h.outboxSummary)
	var seq []string
	limited := 0
	for _, c := range h.slack.Calls() {
		seq = append(seq, fmt.Sprintf("%s ok=%v %s", c.Method, c.OK, c.Error))
		if c.Error == "ratelimited" {
			limited++
		}
	}
	if limited > 0 {
		t.Errorf("%d of the batch's posts were answered ratelimited: %s", limited, strings.Join(seq, "; "))
	}
}

// TestE2ESlackBreachDuringStormJoinsSummary: six queues breach in one
// commit, so Slack gets one storm summary. While that storm is open, one
// more queue breaches on its own. It belongs in the open storm's summary
// (NotifyBatch: "or a storm is still open, those join the storm summary"),
// but a delivery the dispatcher claims alone goes through Notify, which
// only consults the storm for deliveries whose stored handle points at a
// summary, and posts a message of its own.
func TestE2ESlackBreachDuringStormJoinsSummary(t *testing.T) {
	h := startE2EWith(t, rules(waitRule, "cc-slack"), e2eOpts{dests: []string{"cc-slack"}, top: oneCommit,
		extra: map[string]string{"*": fastRetry}})
	at := time.Now().Add(-time.Minute)
	var evs []event
	for i := range 6 {
		evs = append(evs, event{queue: queueID(i), metric: "longest_wait", value: 200, at: at})
	}
	h.send(evs...)
	waitFor(t, 20*time.Second, "the storm summary", func() bool {
		return h.owed() == 0 && len(h.slack.Messages(fakeslack.DefaultChannel)) == 1
	}, h.outboxSummary)
	h.send(event{queue: queueID(6), metric: "longest_wait", value: 200, at: at.Add(time.Second)})
	waitFor(t, 20*time.Second, "the seventh breach", func() bool { return h.owed() == 0 }, h.outboxSummary)
	if msgs := h.slack.Messages(fakeslack.DefaultChannel); len(msgs) != 1 {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, fmt.Sprintf("%.70q", m.Text))
		}
		t.Errorf("%d messages, want the storm summary only: %s", len(msgs), strings.Join(texts, "; "))
	}
}

// TestE2ESlackStormSurvivesFailedFlush: a storm summary is posted for six
// breaching queues; two more queues breach together and join it, but Slack
// answers that edit 503 once; then all eight queues recover. Every
// delivery is retried until sent, and in the end Slack shows what is true:
// every message is resolved (no ":rotating_light:" left) and has its
// all-clear thread reply.
//
// The storm applies a batch's deliveries to its in-memory summary before it
// edits the message; when the edit fails it takes them back, and the
// retried deliveries join the summary again (or, once the storm is over,
// get messages of their own). Either way no entry stays "breaching" in a
// summary that Slack never showed it in (see also the slack package's
// TestStormForgetsWhatSlackDidNotShow, where the deliveries die).
func TestE2ESlackStormSurvivesFailedFlush(t *testing.T) {
	// Full jitter over 500 ms spreads the two retries, so that the
	// dispatcher claims them one at a time (as it does under load).
	h := startE2EWith(t, rules(waitRule, "cc-slack"), e2eOpts{dests: []string{"cc-slack"}, top: oneCommit,
		extra: map[string]string{"*": "retry: {initial: 500ms, max: 500ms}"}})
	at := time.Now().Add(-time.Minute)
	breach := func(from, to int) {
		var evs []event
		for i := from; i < to; i++ {
			evs = append(evs, event{queue: queueID(i), metric: "longest_wait", value: 200, at: at})
		}
		h.send(evs...)
		waitFor(t, 20*time.Second, "the breaches", func() bool { return h.owed() == 0 }, h.outboxSummary)
	}
	breach(0, 6)
	h.slack.Faults.Add(faults.Fault{Status: 503, Path: "chat.update"})
	breach(6, 8)
	var recover []event
	for i := range 8 {
		recover = append(recover, event{queue: queueID(i), metric: "longest_wait", value: 10, at: at.Add(time.Second)})
	}
	h.send(recover...)
	waitFor(t, 20*time.Second, "the recoveries", func() bool { return h.owed() == 0 }, h.outboxSummary)

	msgs := h.slack.Messages(fakeslack.DefaultChannel)
	var stale []string
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, ":rotating_light:") || len(m.Replies) != 1 {
			stale = append(stale, fmt.Sprintf("%.70q with %d replies", m.Text, len(m.Replies)))
		}
	}
	if len(stale) > 0 {
		t.Errorf("all queues recovered and every delivery was sent, "+
			"but %d of %d Slack messages still show a breach or lack the all-clear: %s", len(stale), len(msgs), strings.Join(stale, "; "))
	}
}
