package webhook

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// maxKey is the longest event key stored as is; longer keys are hashed so
// that memory per remembered id stays bounded.
const maxKey = 128

// dedup remembers the keys of accepted events for a window, at most size
// of them, forgetting the oldest first. Keys being evaluated are pending:
// a request with a pending key waits for the evaluation to end.
type dedup struct {
	window time.Duration
	size   int

	mu      sync.Mutex
	order   *list.List // of seenEntry, oldest first
	seen    map[string]*list.Element
	pending map[string]chan struct{}
	// onWait, when set (by tests), is called each time a request starts
	// waiting for a pending key.
	onWait func()
}

type seenEntry struct {
	key string
	at  time.Time
}

func newDedup(window time.Duration, size int) *dedup {
	return &dedup{
		window:  window,
		size:    size,
		order:   list.New(),
		seen:    map[string]*list.Element{},
		pending: map[string]chan struct{}{},
	}
}

// reservation holds the keys a request reserved.
type reservation struct {
	keys []string
	done chan struct{}
}

// storedKey bounds a key's length.
func storedKey(k string) string {
	if len(k) <= maxKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// reserve reports for each key whether it is a duplicate (seen within the
// window, or repeated earlier in keys) and reserves the others, all at once.
// Empty keys are never duplicates. While any key is pending in another
// request, reserve waits (holding nothing) and tries again; it fails only
// when ctx ends.
func (d *dedup) reserve(ctx context.Context, now time.Time, keys []string) ([]bool, *reservation, error) {
	for {
		wait := d.tryReserve(now, keys)
		if wait.res != nil {
			return wait.dup, wait.res, nil
		}
		if d.onWait != nil {
			d.onWait()
		}
		select {
		case <-wait.ch:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("waiting for an earlier delivery of the same event: %w", ctx.Err())
		}
	}
}

type attempt struct {
	dup []bool
	res *reservation
	ch  chan struct{} // set when a key is pending elsewhere
}

func (d *dedup) tryReserve(now time.Time, keys []string) attempt {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	dup := make([]bool, len(keys))
	mine := map[string]bool{}
	for i, k := range keys {
		if k == "" {
			continue
		}
		k = storedKey(k)
		if ch, ok := d.pending[k]; ok {
			return attempt{ch: ch}
		}
		if e, ok := d.seen[k]; ok && now.Sub(e.Value.(seenEntry).at) < d.window {
			dup[i] = true
			continue
		}
		if mine[k] {
			dup[i] = true
			continue
		}
		mine[k] = true
	}
	res := &reservation{done: make(chan struct{})}
	for k := range mine {
		d.pending[k] = res.done
		res.keys = append(res.keys, k)
	}
	return attempt{dup: dup, res: res}
}

// commit remembers a reservation's keys as seen at now and wakes waiters.
func (d *dedup) commit(res *reservation, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range res.keys {
		delete(d.pending, k)
		if e, ok := d.seen[k]; ok {
			d.order.Remove(e)
		}
		d.seen[k] = d.order.PushBack(seenEntry{key: k, at: now})
	}
	for d.order.Len() > d.size {
		d.forget(d.order.Front())
	}
	close(res.done)
}

// release forgets a reservation without remembering its keys, so that the
// sender's retry is evaluated, and wakes waiters.
func (d *dedup) release(res *reservation) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range res.keys {
		delete(d.pending, k)
	}
	close(res.done)
}

// expire forgets the oldest keys that fell out of the window.
func (d *dedup) expire(now time.Time) {
	for e := d.order.Front(); e != nil; e = d.order.Front() {
		if now.Sub(e.Value.(seenEntry).at) < d.window {
			return
		}
		d.forget(e)
	}
}

func (d *dedup) forget(e *list.Element) {
	delete(d.seen, e.Value.(seenEntry).key)
	d.order.Remove(e)
}

// len returns how many keys are remembered.
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
