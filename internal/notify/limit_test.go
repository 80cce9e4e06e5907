package notify

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiterBurstThenRate(t *testing.T) {
	c := newFakeClock(base)
	l := NewLimiter(2, 3, c) // 2/s, bursts of 3
	if got := l.TakeUpTo(10); got != 3 {
		t.Fatalf("TakeUpTo(10) on a full bucket = %d, want the burst 3", got)
	}
	if got := l.TakeUpTo(1); got != 0 {
		t.Fatalf("TakeUpTo(1) on an empty bucket = %d", got)
	}
	// Reservations queue up at the rate.
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond} {
		if got := l.Reserve(); got != want {
			t.Errorf("reservation %d waits %v, want %v", i, got, want)
		}
	}
	c.Advance(1500 * time.Millisecond) // the three promised tokens arrived
	if got := l.Tokens(); got != 0 {
		t.Errorf("tokens after the waits = %v, want 0", got)
	}
	c.Advance(time.Hour) // refills, but never beyond the burst
	if got := l.Tokens(); got != 3 {
		t.Errorf("tokens after an hour = %v, want 3", got)
	}
	l.Return(5)
	if got := l.Tokens(); got != 3 {
		t.Errorf("Return overfilled the bucket: %v", got)
	}
	// Over any window, at most burst + rate·window tokens are taken.
	taken := 0
	for range 10 {
		taken += l.TakeUpTo(100)
		c.Advance(250 * time.Millisecond)
	}
	if max := 3 + int(2*2.5); taken > max {
		t.Errorf("took %d tokens in 2.5s, want at most %d", taken, max)
	}
}

func TestLimiterWait(t *testing.T) {
	c := newFakeClock(base)
	l := NewLimiter(1, 1, c)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background()) }()
	waitTimer(t, c, "the waiter's timer", time.Second)
	select {
	case <-done:
		t.Fatal("Wait returned without a token")
	default:
	}
	c.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A canceled wait gives its token back.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- l.Wait(ctx) }()
	waitTimer(t, c, "the second waiter's timer", time.Second)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Wait = %v", err)
	}
	c.Advance(time.Second)
	if got := l.Tokens(); got != 1 {
		t.Errorf("tokens after a canceled wait = %v, want 1", got)
	}
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a done context = %v", err)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	l := NewLimiter(0, 0, newFakeClock(base))
	if !l.Unlimited() || l.TakeUpTo(1000) != 1000 || l.Reserve() != 0 {
		t.Error("rate 0 should not limit")
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Error(err)
	}
}
