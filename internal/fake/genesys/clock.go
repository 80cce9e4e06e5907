package genesys

import (
	"context"
	"sync"
	"time"

	client "github.com/queuewatch/queuewatch/internal/genesys"
)

// Clock is the fake's time source: token expiry, rate-limit windows,
// heartbeats and channel expiry read it. It has the same methods as the
// client's genesys.Clock, so one ManualClock can drive both.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock, the client's own.
type RealClock = client.SystemClock

// ManualClock is a clock that moves only when told to, for tests that must
// not depend on the speed of the machine. It is safe for concurrent use.
type ManualClock struct {
	mu       sync.Mutex
	cond     *sync.Cond
	now      time.Time
	sleepers map[*sleeper]struct{}
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

// NewManualClock returns a clock stopped at start.
func NewManualClock(start time.Time) *ManualClock {
	c := &ManualClock{now: start, sleepers: map[*sleeper]struct{}{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until the clock has been advanced by d or ctx ends.
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	s := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers[s] = struct{}{}
	c.cond.Broadcast()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.sleepers, s)
		c.cond.Broadcast()
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock forward by d, waking the sleepers that are due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.wakeDue()
	c.mu.Unlock()
}

// Set moves the clock to t (never backwards).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.wakeDue()
	c.mu.Unlock()
}

func (c *ManualClock) wakeDue() {
	for s := range c.sleepers {
		if !s.until.After(c.now) {
			close(s.wake)
			delete(c.sleepers, s)
		}
	}
	c.cond.Broadcast()
}

// Poke wakes WaitFor callers so that they check their condition again,
// for conditions that change without anyone sleeping or waking.
func (c *ManualClock) Poke() {
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
}

// Sleepers returns how many goroutines are sleeping on the clock.
func (c *ManualClock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// NextWake returns the earliest time a sleeper waits for, if any.
func (c *ManualClock) NextWake() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for s := range c.sleepers {
		if next.IsZero() || s.until.Before(next) {
			next = s.until
		}
	}
	return next, !next.IsZero()
}

// WaitFor blocks until cond, called with the number of sleepers, returns
// true or ctx ends. It wakes whenever a goroutine starts or stops
// sleeping, so tests can wait for callers to block without polling.
func (c *ManualClock) WaitFor(ctx context.Context, cond func(sleepers int) bool) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond(len(c.sleepers)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.cond.Wait()
	}
	return nil
}
