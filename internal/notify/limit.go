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

// full reports whether the bucket is full at now, so that it behaves like
// a new one and may be forgotten.
func (l *Limiter) full(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(now)
	return l.tokens >= l.burst
}

// KeyedLimiter keeps one token bucket per key, all with the same rate and
// burst. Buckets that have refilled are forgotten, so memory follows the
// number of recently used keys. It is safe for concurrent use.
type KeyedLimiter struct {
	clock Clock
	rate  float64
	burst int

	mu      sync.Mutex
	buckets map[string]*Limiter
	ops     int
}

// pruneEvery is how many lookups pass between sweeps of full buckets.
const pruneEvery = 256

// NewKeyedLimiter returns a limiter of rate per second and burst per key,
// reading time from clock (nil means SystemClock).
func NewKeyedLimiter(rate float64, burst int, clock Clock) *KeyedLimiter {
	if clock == nil {
		clock = SystemClock{}
	}
	return &KeyedLimiter{clock: clock, rate: rate, burst: burst, buckets: map[string]*Limiter{}}
}

// Limiter returns the bucket of key.
func (k *KeyedLimiter) Limiter(key string) *Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bucket(key)
}

// bucket returns the bucket of key, now and then forgetting full ones.
// k.mu must be held.
func (k *KeyedLimiter) bucket(key string) *Limiter {
	k.ops++
	if k.ops >= pruneEvery {
		k.ops = 0
		now := k.clock.Now()
		for key, l := range k.buckets {
			if l.full(now) {
				delete(k.buckets, key)
			}
		}
	}
	l, ok := k.buckets[key]
	if !ok {
		l = NewLimiter(k.rate, k.burst, k.clock)
		k.buckets[key] = l
	}
	return l
}

// Wait takes one token of key's bucket, waiting for it if needed; see
// Limiter.Wait.
func (k *KeyedLimiter) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Reserve under k.mu, so that a sweep cannot forget the bucket between
	// the lookup and the reservation.
	k.mu.Lock()
	l := k.bucket(key)
	d := l.Reserve()
	k.mu.Unlock()
	return l.waitFor(ctx, d)
}

// Len returns how many buckets are kept.
func (k *KeyedLimiter) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
