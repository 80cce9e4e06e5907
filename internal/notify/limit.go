package notify

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket: it holds up to burst tokens and gains rate of
// them per second. Each send takes one; when none is left, the caller waits
// for the next. A rate ≤ 0 means no limit. It is safe for concurrent use.
type Limiter struct {
	clock Clock
	rate  float64 // tokens per second; ≤ 0 is unlimited
	burst float64

	mu     sync.Mutex
	tokens float64 // may be negative: tokens promised to waiters
	last   time.Time
}

// NewLimiter returns a full bucket of burst tokens (at least 1) filled at
// rate per second, reading time from clock (nil means SystemClock).
func NewLimiter(rate float64, burst int, clock Clock) *Limiter {
	if clock == nil {
		clock = SystemClock{}
	}
	b := float64(max(burst, 1))
	return &Limiter{clock: clock, rate: rate, burst: b, tokens: b, last: clock.Now()}
}

// Unlimited reports whether the limiter lets everything through.
func (l *Limiter) Unlimited() bool { return l.rate <= 0 || math.IsInf(l.rate, 1) }

// advance adds the tokens gained since the last call. l.mu must be held.
func (l *Limiter) advance(now time.Time) {
	if dt := now.Sub(l.last); dt > 0 {
		l.tokens = min(l.burst, l.tokens+dt.Seconds()*l.rate)
		l.last = now
	}
}

// Tokens returns the tokens available now (negative when waiters hold
// promises on future ones).
func (l *Limiter) Tokens() float64 {
	if l.Unlimited() {
		return math.Inf(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.clock.Now())
	return l.tokens
}

// Reserve takes one token and returns how long the caller must wait before
// using it (0 when one was available).
func (l *Limiter) Reserve() time.Duration {
	if l.Unlimited() {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.clock.Now())
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-l.tokens / l.rate * float64(time.Second)))
}

// TakeUpTo takes as many whole tokens as are available now, up to n, and
// returns how many it took; it never waits.
func (l *Limiter) TakeUpTo(n int) int {
	if n <= 0 {
		return 0
	}
	if l.Unlimited() {
		return n
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.clock.Now())
	k := min(n, int(math.Floor(l.tokens)))
	if k <= 0 {
		return 0
	}
	l.tokens -= float64(k)
	return k
}

// Return gives back n tokens taken but not used.
func (l *Limiter) Return(n int) {
	if n <= 0 || l.Unlimited() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.clock.Now())
	l.tokens = min(l.burst, l.tokens+float64(n))
}

// Wait takes one token, waiting for it if needed. When ctx ends first, it
// gives the token back and returns ctx's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.waitFor(ctx, l.Reserve())
}

// waitFor waits d for a reserved token; see Wait.
func (l *Limiter) waitFor(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := l.clock.NewTimer(d)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		t.Stop()
		l.Return(1)
		return ctx.Err()
	}
}
