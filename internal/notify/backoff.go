package notify

import (
	"math/rand/v2"
	"time"
)

// Default retry timings, the same as the configuration's defaults.
const (
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = 5 * time.Minute
	DefaultMaxRetryAfter  = 10 * time.Minute
)

// Backoff is the second half of the retry policy: how long to wait before
// the next attempt of a delivery whose attempt failed with a retryable error.
// Its zero value uses the defaults above; it is safe for concurrent use when
// Rand is.
type Backoff struct {
	// Initial is the ceiling of the first wait; each further failure doubles
	// it, up to Max.
	Initial time.Duration
	// Max caps the exponential ceiling.
	Max time.Duration
	// MaxRetryAfter caps a server's Retry-After, so that a wrong or hostile
	// header cannot park an alert for days.
	MaxRetryAfter time.Duration
	// Rand returns a uniform number in [0, 1); nil means math/rand/v2. It must
	// be safe for concurrent use.
	Rand func() float64
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoffInitial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.MaxRetryAfter <= 0 {
		b.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Ceiling returns the longest wait after the given number of consecutive
// failures (1 for the first): min(Max, Initial·2^(failures-1)).
func (b Backoff) Ceiling(failures int) time.Duration {
	b = b.withDefaults()
	c := b.Initial
	for i := 1; i < failures && c < b.Max; i++ {
		c *= 2 // cannot overflow: c < Max before doubling
	}
	return min(c, b.Max)
}

// Delay returns the wait after the given number of consecutive failures,
// with full jitter: uniform in [0, Ceiling(failures)).
func (b Backoff) Delay(failures int) time.Duration {
	b = b.withDefaults()
	c := b.Ceiling(failures)
	r := b.Rand()
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * float64(c))
}

// Wait returns how long to wait after the given number of consecutive
// failures ending in e: the longer of Delay(failures) and e's RetryAfter
// capped at MaxRetryAfter. A nil e has no RetryAfter.
func (b Backoff) Wait(failures int, e *Error) time.Duration {
	b = b.withDefaults()
	d := b.Delay(failures)
	if e != nil && e.RetryAfter > 0 {
		d = max(d, min(e.RetryAfter, b.MaxRetryAfter))
	}
	return d
}
