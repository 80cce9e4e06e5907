package leader

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manual clock: After's channels fire when Advance passes
// their time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// fakeLease is an in-memory Lease judged by the fake clock; fail makes
// every call fail, as an unreachable database does.
type fakeLease struct {
	clock   *fakeClock
	mu      sync.Mutex
	holder  string
	epoch   int64
	expires time.Time
	fail    bool
	renews  int
}

var errDown = errors.New("database unreachable")

func (l *fakeLease) Acquire(_ context.Context, _, holder string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return 0, false, errDown
	}
	now := l.clock.Now()
	if l.holder != holder && l.holder != "" && now.Before(l.expires) {
		return 0, false, nil
	}
	if l.holder != holder {
		l.holder, l.epoch = holder, l.epoch+1
	}
	l.expires = now.Add(ttl)
	return l.epoch, true, nil
}

func (l *fakeLease) Renew(_ context.Context, _, holder string, epoch int64, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return false, errDown
	}
	if l.holder != holder || l.epoch != epoch {
		return false, nil
	}
	l.renews++
	l.expires = l.clock.Now().Add(ttl)
	return true, nil
}

func (l *fakeLease) Release(_ context.Context, _, holder string, epoch int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder && l.epoch == epoch {
		l.expires = l.clock.Now()
	}
	return nil
}

func (l *fakeLease) set(f func(l *fakeLease)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// candidate is a running elector and what its terms saw.
type candidate struct {
	e      *Elector
	cancel context.CancelFunc
	done   chan error
	terms  chan int64 // the epoch of each term started
	ended  chan int64 // the epoch of each term ended
}

func start(t *testing.T, l Lease, clock Clock, holder string) *candidate {
	t.Helper()
	e, err := New(l, Options{Holder: holder, TTL: 8 * time.Second, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{e: e, cancel: cancel, done: make(chan error, 1), terms: make(chan int64, 4), ended: make(chan int64, 4)}
	go func() {
		c.done <- e.Run(ctx, func(ctx context.Context, epoch int64) {
			c.terms <- epoch
			<-ctx.Done()
			c.ended <- epoch
		})
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// noTerm fails t if c has started a term.
func noTerm(t *testing.T, c *candidate, when string) {
	t.Helper()
	select {
	case e := <-c.terms:
		t.Fatalf("%s led epoch %d %s", c.e.Holder(), e, when)
	default:
	}
}

// step advances the clock by d once every candidate is waiting on it.
func step(t *testing.T, c *fakeClock, waiters int, d time.Duration) {
	t.Helper()
	waitFor(t, "the candidates to wait", func() bool { return c.pending() >= waiters })
	c.Advance(d)
}

func TestOneLeaderAndHandOver(t *testing.T) {
	clock := newClock()
	l := &fakeLease{clock: clock}
	a := start(t, l, clock, "a")
	if e := recv(t, "a's term", a.terms); e != 1 {
		t.Fatalf("a leads epoch %d, want 1", e)
	}
	b := start(t, l, clock, "b")
	// b keeps trying while a renews; a stays the only leader.
	for range 8 {
		step(t, clock, 2, time.Second)
	}
	noTerm(t, b, "while a held the lease")
	if a.e.Epoch() != 1 || b.e.Epoch() != 0 {
		t.Errorf("epochs a=%d b=%d, want 1 and 0", a.e.Epoch(), b.e.Epoch())
	}
	// a stops: its term ends, it releases, and b takes over without
	// waiting for the lease to expire.
	a.cancel()
	if err := recv(t, "a's Run", a.done); err != nil {
		t.Errorf("a's Run after its context ended: %v", err)
	}
	a.done <- nil // for the cleanup
	if e := recv(t, "a's term end", a.ended); e != 1 {
		t.Errorf("ended epoch %d", e)
	}
	// b takes over at its next retry, long before a's 8 s lease could
	// expire. The clock's waiters may still hold a's abandoned renewal
	// timer, so a step can come before b waits again: step until b leads,
	// at most 4 s of the fake clock.
	for i := 1; ; i++ {
		step(t, clock, 1, time.Second)
		select {
		case e := <-b.terms:
			if e != 2 {
				t.Fatalf("b leads epoch %d, want 2", e)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if i == 4 {
			t.Fatalf("b did not lead within %d s of a's release", i)
		}
	}
}

func TestLeaseTakenEndsTerm(t *testing.T) {
	clock := newClock()
	l := &fakeLease{clock: clock}
	a := start(t, l, clock, "a")
	recv(t, "a's term", a.terms)
	l.set(func(l *fakeLease) { l.holder, l.epoch = "intruder", 2 })
	step(t, clock, 1, 2*time.Second) // the next renewal is refused
	if err := recv(t, "a's Run", a.done); !errors.Is(err, ErrLost) {
		t.Fatalf("Run = %v, want ErrLost", err)
	}
	a.done <- nil
	if e := recv(t, "a's term end", a.ended); e != 1 {
		t.Errorf("ended epoch %d", e)
	}
	if a.e.Epoch() != 0 {
		t.Errorf("Epoch after losing = %d", a.e.Epoch())
	}
}

func TestUnreachableDatabaseEndsTermBeforeExpiry(t *testing.T) {
	clock := newClock()
	l := &fakeLease{clock: clock}
	a := start(t, l, clock, "a")
	recv(t, "a's term", a.terms)
	l.set(func(l *fakeLease) { l.fail = true })
	// One failed renewal (at 2s) is survived.
	step(t, clock, 1, 2*time.Second)
	waitFor(t, "the failed renewal", func() bool { return clock.pending() >= 1 })
	select {
	case err := <-a.done:
		t.Fatalf("Run returned %v after one failed renewal", err)
	default:
	}
	// At 4s, still failing, 3/4 of the 8s lease are not yet gone; at 6s
	// they are and the term ends, 2s before the lease could expire.
	step(t, clock, 1, 2*time.Second)
	step(t, clock, 1, 2*time.Second)
	if err := recv(t, "a's Run", a.done); !errors.Is(err, ErrLost) {
		t.Fatalf("Run = %v, want ErrLost", err)
	}
	a.done <- nil
	l.mu.Lock()
	expires := l.expires
	l.mu.Unlock()
	if now := clock.Now(); !now.Before(expires) {
		t.Errorf("the term ended at %v, not before the lease expired at %v", now, expires)
	}
}

func TestFollowerTakesOverAfterExpiry(t *testing.T) {
	clock := newClock()
	l := &fakeLease{clock: clock}
	// A leader that died: its lease runs until it expires.
	l.set(func(l *fakeLease) { l.holder, l.epoch, l.expires = "dead", 4, clock.Now().Add(8*time.Second) })
	b := start(t, l, clock, "b")
	for range 7 {
		step(t, clock, 1, time.Second)
	}
	noTerm(t, b, "before the lease expired")
	step(t, clock, 1, time.Second)
	step(t, clock, 1, time.Second) // b retries at most a second after the expiry
	if e := recv(t, "b's term", b.terms); e != 5 {
		t.Fatalf("b leads epoch %d, want 5", e)
	}
}

func TestNewNeedsHolder(t *testing.T) {
	if _, err := New(&fakeLease{}, Options{}); err == nil {
		t.Fatal("New accepted an elector without a holder")
	}
}
