package stream

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, 2*time.Minute
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 8: hi, 60: hi} {
		if got := backoff(n, lo, hi, func() float64 { return 0 }); got != want/2 {
			t.Errorf("backoff(%d) with no jitter %s, want %s", n, got, want/2)
		}
		if got := backoff(n, lo, hi, func() float64 { return 0.999999 }); got > want || got < want*9/10 {
			t.Errorf("backoff(%d) with full jitter %s, want about %s", n, got, want)
		}
	}
}
