package poll

import (
	"context"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

// sleepUntil waits on clock until t, returning early (with nil) when wake
// receives, or with ctx's error when ctx ends first. Waiting for an
// absolute time keeps schedules right however late the caller starts to
// wait.
func sleepUntil(ctx context.Context, clock genesys.Clock, t time.Time, wake <-chan struct{}) error {
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
