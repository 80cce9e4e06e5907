package stream

import (
	"context"
	"sync"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// batcher hands samples to the Observer from its own goroutine, so that a
// slow Observer never holds up reading the sockets (and their
// heartbeats): samples that arrive while Observe runs are given together
// in the next call. At most max samples wait; beyond that the oldest are
// dropped and counted.
type batcher struct {
	obs    Observer
	max    int
	onErr  func(err error, samples int)
	signal chan struct{}

	mu      sync.Mutex
	pending []metric.Sample
	dropped int64
}

func newBatcher(obs Observer, max int, onErr func(error, int)) *batcher {
	return &batcher{obs: obs, max: max, onErr: onErr, signal: make(chan struct{}, 1)}
}

// add queues samples for the Observer.
func (b *batcher) add(samples []metric.Sample) {
	if len(samples) == 0 {
		return
	}
	b.mu.Lock()
	b.pending = append(b.pending, samples...)
	if over := len(b.pending) - b.max; over > 0 {
		b.pending = append([]metric.Sample(nil), b.pending[over:]...)
		b.dropped += int64(over)
	}
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (b *batcher) droppedCount() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// run gives queued samples to the Observer until ctx ends.
func (b *batcher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.signal:
		}
		for {
			b.mu.Lock()
			batch := b.pending
			b.pending = nil
			b.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			if err := b.obs.Observe(ctx, batch...); err != nil && ctx.Err() == nil {
				b.onErr(err, len(batch))
			}
		}
	}
}
