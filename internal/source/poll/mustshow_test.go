package poll_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/poll"
)

// TestTwoThousandQueuesStayWithinBudget watches 2,000 queues with
// poll_interval 15s and request_budget 150 for five and a half simulated
// minutes, with two queue discoveries, against the fake over real sockets. The
// simulation moves with the clock, so every poll reads new figures. It
// checks that no 60 s window holds more than 150 requests, that every
// queue gets a fresh sample in every cycle, and that the whole run used
// one OAuth token.
func TestTwoThousandQueuesStayWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 queues for 5.5 simulated minutes")
	}
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(2000, 23)}, 150)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	run(t, p)
	ids := e.fake.QueueIDs()
	end := t0.Add(5*time.Minute + 30*time.Second)
	// Simulating 2,000 queues takes a while under the race detector.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for e.clock.Now().Before(end) {
		// The poller asleep on the clock: nothing is in flight. Step the
		// simulation and the clock to its wake-up.
		if err := e.clock.WaitFor(ctx, func(n int) bool { return n >= 1 }); err != nil {
			t.Fatalf("waiting for the poller at %s: %v", e.clock.Now().Sub(t0), err)
		}
		next, ok := e.clock.NextWake()
		if !ok || next.After(end) {
			next = end
		}
		e.fake.Advance(max(next.Sub(e.clock.Now()), 0))
	}

	if n := e.fake.MaxRequestsInWindow("", time.Minute); n > 150 {
		t.Errorf("%d requests within 60 s; the budget is 150", n)
	}
	var tokens int
	for _, c := range e.fake.Calls() {
		if c.Status == http.StatusTooManyRequests {
			t.Fatalf("Genesys answered 429 at %s", c.At.Sub(t0))
		}
		if c.Path == "/oauth/token" {
			tokens++
		}
	}
	if tokens != 1 || e.fake.TokensIssued() != 1 {
		t.Errorf("%d token requests, %d tokens issued; want one for the whole run", tokens, e.fake.TokensIssued())
	}

	// 2,000 queues cost 40 requests a poll; 120 of 150 a minute are
	// planned for polls, less 4 for discovery's 20 pages every 5 minutes:
	// a poll every 21 s.
	st := p.Status()
	if !st.Stretched || st.EffectiveInterval != 21*time.Second || st.RequestsPerPoll != 40 {
		t.Fatalf("status %+v; want a 21s interval for 40 requests a poll", st)
	}
	if n := len(callsOf(e.fake, fakegenesys.EndpointQueues)); n != 2*20 {
		t.Errorf("%d queue listing pages; want two discoveries of 20 pages", n)
	}
	if n := e.fake.Requests(fakegenesys.EndpointObservations); n < st.Polls*20 {
		t.Errorf("%d observation queries for %d polls of 20 batches", n, st.Polls)
	}
	// Every queue has one sample per cycle, each a cycle after the last.
	times := map[string][]time.Time{}
	firsts, lasts := map[string]float64{}, map[string]float64{}
	for _, s := range e.obs.all() {
		if s.Metric == metric.Waiting && s.MediaType == "" {
			times[s.QueueID] = append(times[s.QueueID], s.At)
			if _, ok := firsts[s.QueueID]; !ok {
				firsts[s.QueueID] = s.Value
			}
			lasts[s.QueueID] = s.Value
		}
	}
	if st.Polls < 15 {
		t.Fatalf("%d polls in 5.5 minutes; want at least 15 at 21 s", st.Polls)
	}
	for _, id := range ids {
		ts := times[id]
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		// The last cycle may still be under way when the run ends.
		if n := len(ts); n < st.Polls || n > st.Polls+1 {
			t.Fatalf("queue %s has %d samples in %d polls; want one per poll", id, n, st.Polls)
		}
		if first, last := ts[0], ts[len(ts)-1]; first.Sub(t0) >= st.EffectiveInterval || end.Sub(last) > st.EffectiveInterval {
			t.Fatalf("queue %s: samples from %s to %s of a %s run; want one in every %s", id, first.Sub(t0), last.Sub(t0), end.Sub(t0), st.EffectiveInterval)
		}
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap != st.EffectiveInterval {
				t.Fatalf("queue %s: samples %s apart at %s; want one every %s", id, gap, ts[i].Sub(t0), st.EffectiveInterval)
			}
		}
	}
	// The figures are those of the simulation at the last poll: the
	// samples are fresh, not repeated.
	changed := 0
	for _, id := range ids {
		if firsts[id] != lasts[id] {
			changed++
		}
	}
	if changed == 0 {
		t.Error("no queue's waiting count changed in 5.5 minutes: the polls did not read new figures")
	}
}
