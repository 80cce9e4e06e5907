package notify

import (
	"testing"
	"time"
)

func TestBackoffCeiling(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Minute}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{9, 256 * time.Second}, {10, 5 * time.Minute}, {64, 5 * time.Minute}, {1 << 30, 5 * time.Minute},
	}
	for _, tc := range tests {
		if got := b.Ceiling(tc.failures); got != tc.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	if got := (Backoff{}).Ceiling(1); got != DefaultBackoffInitial {
		t.Errorf("zero Backoff: Ceiling(1) = %v, want %v", got, DefaultBackoffInitial)
	}
	if got := (Backoff{}).Ceiling(100); got != DefaultBackoffMax {
		t.Errorf("zero Backoff: Ceiling(100) = %v, want %v", got, DefaultBackoffMax)
	}
	if got := (Backoff{Initial: time.Minute, Max: time.Second}).Ceiling(3); got != time.Minute {
		t.Errorf("Max below Initial: Ceiling = %v, want Initial", got)
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	fixed := func(r float64) func() float64 { return func() float64 { return r } }
	b := Backoff{Initial: 2 * time.Second, Max: time.Minute}
	tests := []struct {
		name     string
		r        float64
		failures int
		want     time.Duration
	}{
		{"zero", 0, 3, 0},
		{"half", 0.5, 3, 4 * time.Second},
		{"almost one", 0.999, 1, 1998 * time.Millisecond},
		{"capped", 0.5, 20, 30 * time.Second},
		{"out of range high", 1, 3, 0},
		{"out of range low", -0.5, 3, 0},
	}
	for _, tc := range tests {
		b.Rand = fixed(tc.r)
		if got := b.Delay(tc.failures); got != tc.want {
			t.Errorf("%s: Delay(%d) = %v, want %v", tc.name, tc.failures, got, tc.want)
		}
	}
	// With the real source every wait is within [0, ceiling) and they spread.
	b.Rand = nil
	for failures := 1; failures <= 8; failures++ {
		c := b.Ceiling(failures)
		lo, hi := c, time.Duration(0)
		for range 1000 {
			d := b.Delay(failures)
			if d < 0 || d >= c {
				t.Fatalf("Delay(%d) = %v, outside [0, %v)", failures, d, c)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if hi-lo < c/2 {
			t.Errorf("Delay(%d) spread only over [%v, %v] of [0, %v)", failures, lo, hi, c)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: time.Minute, MaxRetryAfter: 10 * time.Minute,
		Rand: func() float64 { return 0.5 }}
	tests := []struct {
		name       string
		failures   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"no Retry-After", 3, 0, 2 * time.Second},
		{"Retry-After longer", 3, 2 * time.Minute, 2 * time.Minute},
		{"Retry-After shorter", 8, 5 * time.Second, 30 * time.Second},
		{"Retry-After capped", 1, time.Hour, 10 * time.Minute},
		{"Retry-After absurd", 1, 1<<63 - 1, 10 * time.Minute},
	}
	for _, tc := range tests {
		if got := b.Wait(tc.failures, &Error{Retryable: true, RetryAfter: tc.retryAfter}); got != tc.want {
			t.Errorf("%s: Wait = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := b.Wait(3, nil); got != 2*time.Second {
		t.Errorf("Wait(nil error) = %v", got)
	}
	if got := (Backoff{Rand: func() float64 { return 0 }}).Wait(1, &Error{RetryAfter: time.Hour}); got != DefaultMaxRetryAfter {
		t.Errorf("zero Backoff caps Retry-After at %v, want %v", got, DefaultMaxRetryAfter)
	}
}
