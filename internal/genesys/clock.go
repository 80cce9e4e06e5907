package genesys

import (
	"context"
	"time"
)

// Clock is the time source of a Client: token expiry, the request budget,
// Retry-After pauses and token backoff all read it, so tests can drive
// them with a manual clock instead of waiting.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx.Err() in the
	// latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d on a real timer or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SleepUntil waits on clock until t, returning early (with nil) when wake
// receives, or with ctx's error when ctx ends first. Waiting for an absolute
// time keeps schedules right however late the caller starts to wait. The
// poller and the streamer schedule their work with it.
func SleepUntil(ctx context.Context, clock Clock, t time.Time, wake <-chan struct{}) error {
	d := t.Sub(clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-sctx.Done():
		}
	}()
	_ = clock.Sleep(sctx, d)
	return ctx.Err()
}
