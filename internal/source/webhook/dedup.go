package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxKey is the longest event key stored as is; longer keys are hashed so
// that memory per remembered id stays bounded.
const maxKey = 128

// dedup remembers the keys of accepted events for a window, at most size
// of them, forgetting the oldest first. Keys being evaluated are pending:
// a request with a pending key waits for the evaluation to end. The keys
// remembered sit in one ring, oldest first, rather than in an object each,
// so that the garbage collector has few objects to trace.
type dedup struct {
	window time.Duration
	size   int

	mu sync.Mutex
	// ring holds the remembered keys in order: n of them from head,
	// wrapping around.
	ring    []seenEntry
	head, n int
	next    uint64              // sequence number of the next entry
	seen    map[string]seenMark // key → its latest entry
	pending map[string]chan struct{}
	// onWait, when set (by tests), is called each time a request starts
	// waiting for a pending key.
	onWait func()
}

// seenEntry is a remembered key in the ring.
type seenEntry struct {
	key string
	seq uint64
	at  time.Time
}

// seenMark is what seen knows of a key's latest entry.
type seenMark struct {
	seq uint64
	at  time.Time
}

func newDedup(window time.Duration, size int) *dedup {
	return &dedup{
		window:  window,
		size:    size,
		seen:    map[string]seenMark{},
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
	res := &reservation{done: make(chan struct{})}
	var mine map[string]bool // for a large batch; a small one is searched
	if len(keys) > 8 {
		mine = make(map[string]bool, len(keys))
	}
	for i, k := range keys {
		if k == "" {
			continue
		}
		k = storedKey(k)
		if ch, ok := d.pending[k]; ok {
			return attempt{ch: ch}
		}
		if m, ok := d.seen[k]; ok && now.Sub(m.at) < d.window {
			dup[i] = true
			continue
		}
		if mine[k] || mine == nil && slices.Contains(res.keys, k) {
			dup[i] = true
			continue
		}
		if mine != nil {
			mine[k] = true
		}
		res.keys = append(res.keys, k)
	}
	for _, k := range res.keys {
		d.pending[k] = res.done
	}
	return attempt{dup: dup, res: res}
}

// commit remembers a reservation's keys as seen at now and wakes waiters.
func (d *dedup) commit(res *reservation, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range res.keys {
		delete(d.pending, k)
		d.push(k, now)
	}
	close(res.done)
}

// push remembers key as seen at now, forgetting the oldest key when size
// are remembered. An older entry of the same key stays in the ring until
// its turn, but no longer speaks for the key.
func (d *dedup) push(key string, now time.Time) {
	if d.size <= 0 {
		return
	}
	for d.n >= d.size {
		d.pop()
	}
	if d.n == len(d.ring) {
		d.grow()
	}
	e := seenEntry{key: key, seq: d.next, at: now}
	d.next++
	d.ring[(d.head+d.n)%len(d.ring)] = e
	d.n++
	d.seen[key] = seenMark{seq: e.seq, at: now}
}

// grow doubles the ring, up to size entries.
func (d *dedup) grow() {
	ring := make([]seenEntry, min(max(2*len(d.ring), 64), d.size))
	for i := range d.n {
		ring[i] = d.ring[(d.head+i)%len(d.ring)]
	}
	d.ring, d.head = ring, 0
}

// pop forgets the oldest entry.
func (d *dedup) pop() {
	e := &d.ring[d.head]
	if m, ok := d.seen[e.key]; ok && m.seq == e.seq {
		delete(d.seen, e.key)
	}
	*e = seenEntry{}
	d.head = (d.head + 1) % len(d.ring)
	d.n--
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
	for d.n > 0 && now.Sub(d.ring[d.head].at) >= d.window {
		d.pop()
	}
}

// len returns how many keys are remembered.
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
