package poll_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/poll"
)

func TestBudgetStretchesInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 queues")
	}
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(5000, 8)}, 150)
	e.listing.setThin(true) // the request count matters here, not the figures
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	run(t, p)
	ids := e.fake.QueueIDs()
	e.stepUntil(t, "three virtual minutes", 1, func() bool { return !e.clock.Now().Before(t0.Add(3 * time.Minute)) })

	if n := e.fake.MaxRequestsInWindow("", time.Minute); n > 150 {
		t.Errorf("%d requests within a minute; the budget is 150", n)
	}
	for _, c := range e.fake.Calls() {
		if c.Status == http.StatusTooManyRequests {
			t.Fatalf("Genesys answered 429 at %s", c.At.Sub(t0))
		}
	}
	// 5,000 queues cost 100 requests a poll; 120 of 150 per minute are
	// planned, less 10 for discovery's 50 pages every 5 minutes: a poll
	// every 55 s rather than 15 s.
	st := p.Status()
	if !st.Stretched || st.EffectiveInterval != 55*time.Second || st.RequestsPerPoll != 100 {
		t.Errorf("status %+v; want a 55s interval", st)
	}
	if !strings.Contains(st.Plan, "every 55s instead of 15s") {
		t.Errorf("plan %q does not give the numbers", st.Plan)
	}
	if n := strings.Count(e.logs.String(), "poll interval stretched"); n != 1 {
		t.Errorf("the stretch is logged %d times, want once", n)
	}
	// Every queue was polled, three times in three minutes.
	if !e.obs.has(metric.Waiting, ids) {
		t.Error("some queues were never polled")
	}
	if n := len(callsOf(e.fake, fakegenesys.EndpointObservations)); n < 150 {
		t.Errorf("%d observation queries in 3 minutes; want at least 3 polls of 50", n)
	}
	// Batches are spread: no more than a few requests in any second.
	if n := e.fake.MaxRequestsInWindow(fakegenesys.EndpointObservations, 5*time.Second); n > 10 {
		t.Errorf("%d observation queries within 5 s: the polls burst", n)
	}
}

func TestRateLimitSkipsAndRecovers(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 5)}, 150)
	ids := e.fake.QueueIDs()
	e.fake.RateLimitAnalytics(1, 20*time.Second)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	run(t, p)
	e.stepUntil(t, "a poll after the 429", 1, func() bool { return e.obs.has(metric.Waiting, ids) })

	calls := callsOf(e.fake, fakegenesys.EndpointObservations)
	if len(calls) < 2 || calls[0].Status != http.StatusTooManyRequests || calls[1].Status != http.StatusOK {
		t.Fatalf("observation queries: %+v", calls)
	}
	for _, c := range e.fake.Calls() {
		if c.At.After(calls[0].At) && c.At.Before(calls[0].At.Add(20*time.Second)) {
			t.Errorf("%s %s sent %s after the 429 asked to wait 20s", c.Method, c.Path, c.At.Sub(calls[0].At))
		}
	}
	if len(callsOf(e.fake, fakegenesys.EndpointAggregates)) != 1 {
		t.Error("the poll went on with aggregates after the 429")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "poll skipped: Genesys rate limit") || !strings.Contains(logs, "retry_after=20s") {
		t.Errorf("no warning with Retry-After in the logs:\n%s", logs)
	}
	st := p.Status()
	if st.Failures != 1 || st.ConsecutiveFailures != 0 || !strings.Contains(st.LastError, "429") || st.Polls < 1 {
		t.Errorf("status %+v", st)
	}
}

func TestTokenFailureBacksOffAndRecovers(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 6)}, 150)
	ids := e.fake.QueueIDs()
	e.fake.FailToken(3, http.StatusServiceUnavailable, 0)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	run(t, p)
	var sawFailure bool
	e.stepUntil(t, "a poll after the token endpoint recovers", 1, func() bool {
		if p.Status().ConsecutiveFailures > 0 {
			sawFailure = true
		}
		return e.obs.has(metric.Waiting, ids)
	})
	if !sawFailure {
		t.Error("Status never reported the failures")
	}
	tokens := callsOf(e.fake, fakegenesys.EndpointToken)
	if len(tokens) != 4 {
		t.Fatalf("%d token requests for 3 failures; want 4", len(tokens))
	}
	// The pauses between attempts grow: 15s, 30s, 60s.
	for i, want := range []time.Duration{15 * time.Second, 30 * time.Second, 60 * time.Second} {
		if got := tokens[i+1].At.Sub(tokens[i].At); got != want {
			t.Errorf("pause %d before a token request: %s, want %s", i+1, got, want)
		}
	}
	st := p.Status()
	if st.Failures != 3 || st.ConsecutiveFailures != 0 || st.Queues != 3 || st.LastError == "" {
		t.Errorf("status %+v", st)
	}
}
