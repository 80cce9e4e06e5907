package stream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/poll"
	"github.com/queuewatch/queuewatch/internal/source/stream"
)

// breachCounter is an Observer that counts, per source, the queue-total
// service levels of one queue below that queue's own target.
type breachCounter struct {
	queue string

	mu       sync.Mutex
	target   map[string]float64
	breaches map[metric.Source]int
	first    map[metric.Source]time.Time
}

func (b *breachCounter) Observe(_ context.Context, samples ...metric.Sample) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range samples {
		if s.MediaType != "" {
			continue
		}
		switch s.Metric {
		case metric.ServiceLevelTarget:
			b.target[s.QueueID] = s.Value
		case metric.ServiceLevel:
			if t, ok := b.target[s.QueueID]; ok && s.QueueID == b.queue && s.Value < t {
				if b.breaches[s.Source] == 0 {
					b.first[s.Source] = s.At
				}
				b.breaches[s.Source]++
			}
		}
	}
	return nil
}

func (b *breachCounter) count(src metric.Source) (int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.breaches[src], b.first[src]
}

// TestEndToEndIncident wires the poller and the streamer as the app does
// and plays the demo's lunch spike: the first queue's service level falls
// below its target, and both sources report it.
func TestEndToEndIncident(t *testing.T) {
	cfg := sim.DemoScenario(t0, 4)
	e := newEnv(t, fakegenesys.Options{Sim: sim.New(cfg)})
	obs := &breachCounter{queue: cfg.Queues[0].ID, target: map[string]float64{},
		breaches: map[metric.Source]int{}, first: map[metric.Source]time.Time{}}

	var str *stream.Streamer
	p := poll.New(e.client, obs, poll.Options{Interval: 15 * time.Second, SLWindow: 5 * time.Minute,
		Clock: e.clock, Logger: e.log, OnDiscovery: func([]genesys.Queue) { str.Refresh() }})
	// A long heartbeat timeout: the test moves the clock faster than
	// heartbeats are read.
	str = stream.New(e.client, obs, stream.Options{Poller: p, Clock: e.clock, Logger: e.log,
		HeartbeatTimeout: time.Hour, ActivityTopics: true})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(ctx) })
	wg.Go(func() { _ = str.Run(ctx, p.QueueIDs) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	e.waitConnected(t, str, 1)
	eventually(t, "the poller to learn the stream is healthy", func() bool { return p.Status().StreamHealthy })
	for i := 0; i < 15*60; i++ {
		s, _ := obs.count(metric.SourceStream)
		q, _ := obs.count(metric.SourcePoll)
		if s > 0 && q > 0 {
			break
		}
		e.fake.Advance(time.Second)
	}
	nStream, atStream := obs.count(metric.SourceStream)
	nPoll, atPoll := obs.count(metric.SourcePoll)
	if nStream == 0 || nPoll == 0 {
		t.Fatalf("service level below target: %d from the stream, %d from polls", nStream, nPoll)
	}
	t.Logf("first breach: stream at %s, poll at %s", atStream.Sub(t0), atPoll.Sub(t0))
	st := p.Status()
	if !st.StreamHealthy || st.EffectiveInterval != time.Minute || st.GapFills < 1 {
		t.Errorf("poller status %+v; want reconciliation polls every minute", st)
	}
	if ss := str.Status(); ss.Events == 0 || ss.GapFills < 1 || ss.Queues != 4 {
		t.Errorf("streamer status %+v", ss)
	}
}
