package stream_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/poll"
	"github.com/queuewatch/queuewatch/internal/source/stream"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
)

// breachRule is the rule of the breach tests: a queue's waiting count
// above a threshold, firing at once.
const breachRule = "long_queue"

// pipeline is the real alert engine committing to a real SQLite file, with
// breachRule as its only rule.
type pipeline struct {
	engine *alert.Engine
	store  *sqlite.Store
}

func newPipeline(t *testing.T, threshold int) *pipeline {
	t.Helper()
	yaml := fmt.Sprintf("rules:\n  - name: %s\n    metric: waiting\n    above: %d\n", breachRule, threshold)
	cfg, err := config.Parse("breach.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := rule.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "queuewatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := alert.New(alert.Options{Rules: rules, Committer: st, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = eng.Close(context.Background())
		_ = st.Close()
	})
	return &pipeline{engine: eng, store: st}
}

// transitions returns the stored history of the queue-total series of
// breachRule for a queue, oldest first.
func (p *pipeline) transitions(t *testing.T, queueID string) []alert.Transition {
	t.Helper()
	h, err := p.store.History(context.Background(), alert.Key(queueID, breachRule, ""), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
		h[i], h[j] = h[j], h[i]
	}
	return h
}

// firing returns the first stored transition of a queue's series into
// firing.
func (p *pipeline) firing(t *testing.T, queueID string) (alert.Transition, bool) {
	for _, tr := range p.transitions(t, queueID) {
		if tr.To == alert.Firing {
			return tr, true
		}
	}
	return alert.Transition{}, false
}

// breachSetup is a fake Genesys whose first queue has an outage from
// 2 minutes, stepped to just before it: the queue's waiting count then
// grows past the returned threshold, three more than it is at that point.
func breachSetup(t *testing.T) (e *env, queueID string, threshold int) {
	t.Helper()
	qs := sim.DefaultQueues(4, 21)
	model := sim.New(sim.Config{Seed: 21, Start: t0, Queues: qs, WarmUp: 10 * time.Minute,
		Incidents: []sim.Incident{{Kind: sim.Outage, QueueID: qs[0].ID, Start: 2 * time.Minute, Duration: 30 * time.Minute}}})
	e = newEnv(t, fakegenesys.Options{Sim: model})
	for range 115 {
		e.fake.Advance(time.Second)
	}
	return e, qs[0].ID, waitingNow(e, qs[0].ID) + 3
}

// waitingNow returns the simulated waiting count of a queue.
func waitingNow(e *env, queueID string) int {
	var n int
	e.fake.WithSim(func(s *sim.Sim) {
		st, _ := s.Queue(queueID)
		n = st.Waiting
	})
	return n
}

// stepToBreach moves the simulation a second at a time, calling settle
// before each step, until the queue's waiting count is above threshold,
// and returns that (virtual) time.
func stepToBreach(t *testing.T, e *env, queueID string, threshold int, settle func()) time.Time {
	t.Helper()
	for range 20 * 60 {
		if waitingNow(e, queueID) > threshold {
			return e.clock.Now()
		}
		settle()
		e.fake.Advance(time.Second)
	}
	t.Fatalf("the simulated outage never took queue %s above %d waiting", queueID, threshold)
	return time.Time{}
}

// awaitFiring waits for the queue's series to fire, moving the simulation
// a second at a time, and fails once the clock passes limit without it.
// Before each step it calls settle and then looks for the transition for
// up to patience of real time (at least once), so that a slow machine
// delays the test but does not fail it.
func awaitFiring(t *testing.T, e *env, p *pipeline, queueID string, limit time.Time, settle func(), patience time.Duration) alert.Transition {
	t.Helper()
	for {
		settle()
		deadline := time.Now().Add(patience)
		for {
			if tr, ok := p.firing(t, queueID); ok {
				return tr
			}
			if !time.Now().Before(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if !e.clock.Now().Before(limit) {
			t.Fatalf("queue %s did not fire by %s; history %v", queueID, limit.Sub(t0), p.transitions(t, queueID))
		}
		e.fake.Advance(time.Second)
	}
}

// streamPatience is how long, in real time, the stream tests give the
// pipeline to carry an event to the store before the clock moves on.
const streamPatience = 10 * time.Second

// TestStreamBreachReachesEngineWithinTwoSeconds injects an outage in the
// simulator and measures, in simulated time, from the moment the queue's
// waiting count passes the threshold to the firing transition the real
// engine stored from the stream's sample.
func TestStreamBreachReachesEngineWithinTwoSeconds(t *testing.T) {
	e, q, threshold := breachSetup(t)
	p := newPipeline(t, threshold)
	// A long heartbeat timeout: the clock moves faster than heartbeats
	// are read.
	s := stream.New(e.client, p.engine, e.options(stream.Options{HeartbeatTimeout: time.Hour}))
	start(t, s, fixed(e.fake.QueueIDs()))
	e.waitConnected(t, s, 1)

	breach := stepToBreach(t, e, q, threshold, func() {})
	tr := awaitFiring(t, e, p, q, breach.Add(2*time.Second), func() {}, streamPatience)
	if lag := tr.At.Sub(breach); lag < 0 || lag > 2*time.Second {
		t.Fatalf("fired at %s for a breach at %s: %s late; want at most 2s", tr.At.Sub(t0), breach.Sub(t0), lag)
	} else {
		t.Logf("breach at %s in the simulator, firing transition stored at %s (%s later, simulated time)",
			breach.Sub(t0), tr.At.Sub(t0), lag)
	}
	if tr.Value <= float64(threshold) {
		t.Errorf("fired on %v waiting; threshold %d", tr.Value, threshold)
	}
}

// TestPollBreachReachesEngineWithinOnePollInterval does the same on the
// polling path alone: the real poller, every 15 s, into the real engine.
func TestPollBreachReachesEngineWithinOnePollInterval(t *testing.T) {
	e, q, threshold := breachSetup(t)
	p := newPipeline(t, threshold)
	const interval = 15 * time.Second
	pl := poll.New(e.client, p.engine, poll.Options{Interval: interval, Clock: e.clock, Logger: e.log})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = pl.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	// The poller's one goroutine asleep on the clock means it is idle:
	// every poll it made is evaluated and stored.
	settle := func() {
		wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer wcancel()
		if err := e.clock.WaitFor(wctx, func(n int) bool { return n >= 1 }); err != nil {
			t.Fatalf("waiting for the poller to sleep: %v", err)
		}
	}
	eventually(t, "the first poll", func() bool { return pl.Status().Polls > 0 })

	breach := stepToBreach(t, e, q, threshold, settle)
	tr := awaitFiring(t, e, p, q, breach.Add(interval), settle, 0)
	if lag := tr.At.Sub(breach); lag < 0 || lag > interval {
		t.Fatalf("fired at %s for a breach at %s: %s late; want at most one poll interval, %s",
			tr.At.Sub(t0), breach.Sub(t0), lag, interval)
	} else {
		t.Logf("breach at %s in the simulator, firing transition stored at %s (%s later, simulated time)",
			breach.Sub(t0), tr.At.Sub(t0), lag)
	}
}

// TestDroppedSocketGapPollMakesNoDuplicateTransition fires an alert from
// the stream, drops the socket, and checks the reconnect, the gap-fill
// poll through the real poller into the same engine, and that the stored
// history of the series holds exactly one firing transition and no other
// change.
//
// The poller makes only the streamer's gap-fill polls here: the clock
// moves faster than periodic polls would be answered, and a poll answered
// after the clock moved on would mix older and newer figures in a way real
// time never does.
func TestDroppedSocketGapPollMakesNoDuplicateTransition(t *testing.T) {
	e, q, threshold := breachSetup(t)
	p := newPipeline(t, threshold)
	pl := poll.New(e.client, p.engine, poll.Options{Interval: 15 * time.Second, Clock: e.clock, Logger: e.log})
	s := stream.New(e.client, p.engine, e.options(stream.Options{Poller: pl, HeartbeatTimeout: time.Hour}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx, fixed(e.fake.QueueIDs())) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	e.waitConnected(t, s, 1)
	eventually(t, "the first gap fill", func() bool { return s.Status().GapFills == 1 })

	breach := stepToBreach(t, e, q, threshold, func() {})
	first := awaitFiring(t, e, p, q, breach.Add(2*time.Second), func() {}, streamPatience)

	e.fake.DropSockets()
	e.advanceBackoff(t, "a reconnect", func() bool { return s.Status().Reconnects == 1 && s.Connected() })
	eventually(t, "the gap-fill poll after the reconnect", func() bool { return s.Status().GapFills == 2 })
	if polled := pl.Status().GapFills; polled != 2 {
		t.Fatalf("the poller made %d gap fills; want one per connect", polled)
	}
	// The queue is still in breach: more stream events follow.
	for range 30 {
		e.fake.Advance(time.Second)
	}
	eventually(t, "stream events after the reconnect", func() bool { return s.Status().Events > 0 })
	if waitingNow(e, q) <= threshold {
		t.Fatalf("the outage ended too early for this test: %d waiting", waitingNow(e, q))
	}

	var firings, others int
	for _, tr := range p.transitions(t, q) {
		switch {
		case tr.To == alert.Firing && tr.From != alert.Firing:
			firings++
		default:
			others++
			t.Errorf("unexpected transition %s", tr)
		}
	}
	if firings != 1 || others != 0 {
		t.Fatalf("%d firing and %d other transitions stored; want exactly one firing (at %s)", firings, others, first.At.Sub(t0))
	}
	if st := p.engine.Stats(); st.Transitions == 0 || st.Samples == 0 {
		t.Errorf("engine stats %+v", st)
	}
}

// TestTokenExpiryReplacesChannel lets the OAuth token that made the
// channel expire: the channel dies with it, and the streamer gets a new
// token, a new channel, subscribes, reconnects and fills the gap.
func TestTokenExpiryReplacesChannel(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 22), TokenTTL: 10 * time.Minute})
	s := stream.New(e.client, e.obs, e.options(stream.Options{HeartbeatTimeout: time.Hour}))
	start(t, s, fixed(e.fake.QueueIDs()))
	e.waitConnected(t, s, 1)
	old := e.fake.Channels()[0].ID

	e.fake.Advance(10*time.Minute + time.Second)
	e.advanceBackoff(t, "a new channel", func() bool {
		chans := e.fake.Channels()
		return len(chans) == 1 && chans[0].ID != old && chans[0].Connected && s.Connected()
	})
	if n := e.fake.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued; want 2, the first and its renewal", n)
	}
	if n := e.channelCreations(); n != 2 {
		t.Errorf("%d channels created; want 2", n)
	}
	want := len(genesys.StreamTopics(e.fake.QueueIDs(), false))
	if got := len(e.fake.Channels()[0].Topics); got != want {
		t.Errorf("the new channel has %d topics, want %d", got, want)
	}
	e.waitGapFills(t, 2)
	before := s.Status().Events
	e.fake.Advance(time.Second)
	eventually(t, "events on the new channel", func() bool { return s.Status().Events > before })
}
