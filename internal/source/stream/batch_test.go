package stream

import (
	"context"
	"sync"
	"testing"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// slowObserver blocks each Observe until released.
type slowObserver struct {
	mu      sync.Mutex
	calls   [][]metric.Sample
	entered chan struct{}
	release chan struct{}
}

func (o *slowObserver) Observe(_ context.Context, samples ...metric.Sample) error {
	o.entered <- struct{}{}
	<-o.release
	o.mu.Lock()
	o.calls = append(o.calls, samples)
	o.mu.Unlock()
	return nil
}

func TestBatcherCoalescesAndDropsOldest(t *testing.T) {
	obs := &slowObserver{entered: make(chan struct{}), release: make(chan struct{})}
	b := newBatcher(obs, 3, func(error, int) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.run(ctx); close(done) }()

	sample := func(v float64) metric.Sample { return metric.Sample{QueueID: "q", Metric: metric.Waiting, Value: v} }
	b.add([]metric.Sample{sample(1)})
	<-obs.entered // the Observer is busy with the first sample
	// Samples that come meanwhile never block add; beyond 3 the oldest go.
	for v := 2.0; v <= 6; v++ {
		b.add([]metric.Sample{sample(v)})
	}
	obs.release <- struct{}{}
	<-obs.entered
	obs.release <- struct{}{}
	cancel()
	<-done // run returns once Observe has

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.calls) != 2 || len(obs.calls[1]) != 3 || obs.calls[1][0].Value != 4 || obs.calls[1][2].Value != 6 {
		t.Errorf("observed %v; want [1] then [4 5 6] in one call", obs.calls)
	}
	if b.droppedCount() != 2 {
		t.Errorf("%d dropped, want 2", b.droppedCount())
	}
}
