package poll_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/poll"
)

func TestPollBatchesAndTotals(t *testing.T) {
	qs := sim.DefaultQueues(250, 3)
	cfg := sim.Config{Seed: 3, Start: t0, Queues: qs, WarmUp: 5 * time.Minute}
	for _, q := range qs[:10] { // callers pile up in a few queues
		cfg.Incidents = append(cfg.Incidents, sim.Incident{Kind: sim.AgentsLogOff, QueueID: q.ID,
			Start: -4 * time.Minute, Duration: time.Hour, Factor: 0.8})
	}
	s := sim.New(cfg)
	e := newEnv(t, fakegenesys.Options{Sim: s}, 150)
	ids := e.fake.QueueIDs()
	var stats []poll.PollStats
	var statsMu sync.Mutex
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second,
		OnPoll: func(ps poll.PollStats) { statsMu.Lock(); stats = append(stats, ps); statsMu.Unlock() }}))
	run(t, p)
	e.stepUntil(t, "a poll of every queue", 1, func() bool { return e.obs.has(metric.Waiting, ids) })

	obsCalls, aggCalls := callsOf(e.fake, fakegenesys.EndpointObservations), callsOf(e.fake, fakegenesys.EndpointAggregates)
	if len(obsCalls) != 3 || len(aggCalls) != 3 {
		t.Fatalf("%d observation and %d aggregate queries for 250 queues; want 3 each", len(obsCalls), len(aggCalls))
	}
	for i, c := range append(obsCalls, aggCalls...) {
		if n := strings.Count(string(c.Body), `"dimension":"queueId"`); n > 100 || n == 0 {
			t.Errorf("query %d carries %d queue ids", i, n)
		}
	}
	// The batches are spread over the interval, not sent in a burst.
	for i, c := range obsCalls {
		if want := t0.Add(time.Duration(i) * 5 * time.Second); !c.At.Equal(want) {
			t.Errorf("batch %d sent at %s, want %s", i, c.At.Sub(t0), want.Sub(t0))
		}
	}

	var snap []sim.QueueState
	e.fake.WithSim(func(s *sim.Sim) { snap = s.Snapshot() })
	checks := []struct {
		m    metric.Name
		want func(sim.QueueState) float64
	}{
		{metric.Waiting, func(q sim.QueueState) float64 { return float64(q.Waiting) }},
		{metric.Interacting, func(q sim.QueueState) float64 { return float64(q.Interacting) }},
		{metric.Alerting, func(q sim.QueueState) float64 { return float64(q.Alerting) }},
		{metric.OnQueueAgents, func(q sim.QueueState) float64 { return float64(q.OnQueueAgents) }},
		{metric.AvailableAgents, func(q sim.QueueState) float64 { return float64(q.AvailableAgents) }},
		{metric.ServiceLevelTarget, func(q sim.QueueState) float64 { return q.TargetPercent }},
	}
	busy := 0
	for _, c := range checks {
		got := e.obs.latest(c.m)
		for _, q := range snap {
			s, ok := got[q.ID]
			if !ok || s.Value != c.want(q) || s.QueueName != q.Name {
				t.Fatalf("%s of %s: got %+v, want %v (%s)", c.m, q.ID, s, c.want(q), q.Name)
			}
		}
	}
	for _, q := range snap {
		busy += q.Waiting
	}
	if busy == 0 {
		t.Error("nobody waits in any queue: the totals are not tested")
	}
	sl := e.obs.latest(metric.ServiceLevel)
	for _, id := range ids {
		if s, ok := sl[id]; !ok || s.Value < 0 || s.Value > 100 {
			t.Fatalf("service level of %s: %+v", id, s)
		}
	}
	for _, s := range e.obs.all() {
		if s.Source != metric.SourcePoll || (s.MediaType != "" && s.Metric != metric.ServiceLevelTarget) {
			t.Fatalf("sample %+v: want queue totals from the poll source", s)
		}
	}
	st := p.Status()
	if st.Queues != 250 || st.RequestsPerPoll != 6 || st.EffectiveInterval != 15*time.Second || st.Stretched || st.Polls < 1 {
		t.Errorf("status %+v", st)
	}
	statsMu.Lock()
	defer statsMu.Unlock()
	if len(stats) == 0 || stats[0].Requests != 6 || stats[0].Queues != 250 || stats[0].Err != nil {
		t.Errorf("OnPoll got %+v", stats)
	}
}

func TestDiscoveryPicksUpNewAndRenamedQueues(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(5, 9)}, 150)
	ids := e.fake.QueueIDs()
	late, renamed := ids[4], ids[0]
	e.listing.hide(late, true)
	var discoveries []int
	var mu sync.Mutex
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second, DiscoveryInterval: time.Minute,
		OnDiscovery: func(qs []genesys.Queue) { mu.Lock(); discoveries = append(discoveries, len(qs)); mu.Unlock() }}))
	run(t, p)
	e.stepUntil(t, "the first poll", 1, func() bool { return e.obs.has(metric.Waiting, ids[:4]) })
	if p.Status().Queues != 4 || e.obs.has(metric.ServiceLevelTarget, []string{late}) {
		t.Fatalf("a hidden queue is watched: %+v", p.Status())
	}

	e.listing.hide(late, false)
	e.listing.rename(renamed, "Support - Voice (renamed)")
	e.stepUntil(t, "the late queue's figures", 1, func() bool {
		return e.obs.has(metric.Waiting, []string{late}) && e.obs.has(metric.ServiceLevelTarget, []string{late})
	})
	if e.clock.Now().Sub(t0) > 90*time.Second {
		t.Errorf("the new queue was picked up after %s; discovery runs every minute", e.clock.Now().Sub(t0))
	}
	if got := p.QueueIDs(); len(got) != 5 {
		t.Errorf("watching %d queues, want 5", len(got))
	}
	e.stepUntil(t, "a poll after the rename", 1, func() bool {
		return e.obs.latest(metric.Waiting)[renamed].QueueName == "Support - Voice (renamed)"
	})
	mu.Lock()
	defer mu.Unlock()
	if len(discoveries) != 2 || discoveries[0] != 4 || discoveries[1] != 5 {
		t.Errorf("OnDiscovery got %v, want [4 5]", discoveries)
	}
	if !strings.Contains(e.logs.String(), "queues changed") {
		t.Error("the change of queues is not logged")
	}
}

func TestStreamHealthySlowsPolling(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 2)}, 150)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 20 * time.Second}))
	run(t, p)
	polls := func() int { return len(callsOf(e.fake, fakegenesys.EndpointObservations)) }
	e.stepUntil(t, "the first poll", 1, func() bool { return polls() == 1 })
	// Each change of health takes effect once the poller has rescheduled.
	waitNextPoll(t, p, 20*time.Second)
	p.SetStreamHealthy(true)
	if st := p.Status(); st.EffectiveInterval != 80*time.Second || !st.StreamHealthy {
		t.Fatalf("healthy stream: %+v; want polls every 4×20s", st)
	}
	waitNextPoll(t, p, 80*time.Second)
	e.stepUntil(t, "the reconciliation poll", 1, func() bool { return polls() == 2 })
	if at := callsOf(e.fake, fakegenesys.EndpointObservations)[1].At; !at.Equal(t0.Add(80 * time.Second)) {
		t.Errorf("reconciliation poll at %s, want 80s", at.Sub(t0))
	}
	waitNextPoll(t, p, 160*time.Second)
	p.SetStreamHealthy(false)
	waitNextPoll(t, p, 100*time.Second)
	e.stepUntil(t, "a poll at the full rate", 1, func() bool { return polls() == 3 })
	if at := callsOf(e.fake, fakegenesys.EndpointObservations)[2].At; !at.Equal(t0.Add(100 * time.Second)) {
		t.Errorf("poll after the stream failed at %s, want 100s", at.Sub(t0))
	}
	if st := p.Status(); st.EffectiveInterval != 20*time.Second || st.StreamHealthy {
		t.Errorf("status %+v", st)
	}
}

func TestPollNowDiscoversCoalescesAndReports(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(150, 4)}, 150)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() { errs <- p.PollNow(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Without Run, PollNow discovers first; three calls at one instant
	// share one poll of two batches.
	if n := len(callsOf(e.fake, fakegenesys.EndpointObservations)); n != 2 {
		t.Errorf("%d observation queries for 3 gap fills of 150 queues; want 2", n)
	}
	if !e.obs.has(metric.Waiting, e.fake.QueueIDs()) {
		t.Error("the gap fill gave no figures")
	}
	reports := p.LastReports()
	if len(reports) != 2 || len(reports[0].Queues) != 150 || len(reports[1].Queues) != 150 {
		t.Fatalf("LastReports: %d reports", len(reports))
	}
	e.clock.Advance(time.Second)
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(callsOf(e.fake, fakegenesys.EndpointObservations)); n != 4 {
		t.Errorf("a later gap fill did not poll again: %d queries", n)
	}
	if st := p.Status(); st.GapFills != 2 || st.Polls != 2 {
		t.Errorf("status %+v", st)
	}
}

func TestRunTwice(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(1, 1)}, 150)
	p := poll.New(e.client, e.obs, e.options(poll.Options{Interval: 15 * time.Second}))
	run(t, p)
	e.stepUntil(t, "the poller to start", 1, func() bool { return p.Status().Running })
	if err := p.Run(context.Background()); err == nil {
		t.Error("a second Run did not fail")
	}
}
