package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// storeTimeout bounds each store call of the dispatcher.
const storeTimeout = 10 * time.Second

// abandonGrace is how long past its timeout a send may take to return
// before the dispatcher stops waiting for a notifier that ignores its
// context, and records a timeout. A variable for tests.
var abandonGrace = 2 * time.Second

// destRun is the state of one destination while the dispatcher runs.
type destRun struct {
	d     *Dispatcher
	dest  Destination
	batch BatchNotifier // set when the notifier can take batches
	async Confirming    // set when the notifier confirms sends later
	lim   *Limiter
	lease time.Duration
	log   *slog.Logger
	wake  chan struct{} // Wake and finished sends; buffered 1

	mu       sync.Mutex
	inflight map[int64]bool // deliveries being worked on here
	busy     int            // worker slots in use
	// confirming counts deliveries that freed their worker and wait for
	// their confirmation (Confirming notifiers), at most Options.MaxPending.
	confirming int
	// retries are the next attempt times this dispatcher scheduled. The
	// store's NextDue cannot tell them apart from due deliveries that wait
	// behind an older one of their key, so they are remembered here.
	retries []time.Time
}

func newDestRun(d *Dispatcher, dest Destination) *destRun {
	if dest.Timeout <= 0 {
		dest.Timeout = DefaultTimeout
	}
	if dest.Workers <= 0 {
		dest.Workers = d.opts.Workers
	}
	r := &destRun{
		d: d, dest: dest,
		lim:      NewLimiter(dest.Rate, dest.Burst, d.clock),
		log:      d.log.With("destination", dest.Name, "type", dest.Type),
		wake:     make(chan struct{}, 1),
		inflight: map[int64]bool{},
	}
	r.batch, _ = dest.Notifier.(BatchNotifier)
	if r.batch == nil {
		r.async, _ = dest.Notifier.(Confirming)
	}
	// The lease must outlast everything done under the claim: the send and
	// its grace, its confirmation and its grace (Confirming notifiers), and
	// the store writes (the margin).
	r.lease = dest.Timeout + abandonGrace + d.opts.LeaseMargin
	if r.async != nil {
		r.lease += dest.Timeout + abandonGrace
	}
	return r
}

// nudge wakes the loop without blocking.
func (r *destRun) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *destRun) free() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dest.Workers - r.busy
}

// loop claims and starts deliveries until ctx ends; the sends it started are
// counted in wg, so that Run waits for them.
func (r *destRun) loop(ctx context.Context, wg *sync.WaitGroup) {
	for ctx.Err() == nil {
		free := r.free()
		if free <= 0 {
			r.sleep(ctx, 0) // a finishing send nudges
			continue
		}
		// Take the destination's tokens before claiming, so that claimed
		// deliveries do not sit in flight waiting for them.
		if err := r.lim.Wait(ctx); err != nil {
			return
		}
		taken, limit := 1, r.d.opts.MaxBatch
		if r.batch == nil {
			taken += r.lim.TakeUpTo(free - 1)
			limit = taken
		}
		now := r.d.clock.Now()
		ds, err := r.claim(ctx, now, limit)
		used := len(ds)
		if r.batch != nil {
			used = min(used, 1) // a batch is one request
		}
		r.lim.Return(taken - used)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("claim failed", "err", err)
			r.sleep(ctx, r.d.opts.Tick)
			continue
		}
		if len(ds) == 0 {
			r.idle(ctx, now)
			continue
		}
		r.start(ctx, wg, ds)
	}
}

// claim claims up to limit due deliveries at now and drops those this
// dispatcher is still working on (claimed again because their lease ran
// out, which renews it). The claim is not canceled with ctx, so that a stop
// cannot leave rows claimed that nobody knows of.
func (r *destRun) claim(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	ds, err := r.d.st.ClaimDeliveries(cctx, store.ClaimRequest{
		Owner: r.d.opts.Owner, Destination: r.dest.Name, Now: now, Lease: r.lease, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := ds[:0]
	for _, dl := range ds {
		if r.inflight[dl.ID] {
			r.log.Warn("lease expired while sending; renewed", "delivery", dl.ID, "key", dl.Key)
			continue
		}
		out = append(out, dl)
	}
	return out, nil
}

// idle sleeps until Wake, the next due delivery or the tick, whichever is
// first. claimedAt is the time of the claim that found nothing.
func (r *destRun) idle(ctx context.Context, claimedAt time.Time) {
	wait := r.d.opts.Tick
	qctx, cancel := context.WithTimeout(ctx, storeTimeout)
	next, ok, err := r.d.st.NextDue(qctx)
	cancel()
	switch {
	case err != nil:
		if ctx.Err() == nil {
			r.log.Warn("next due failed", "err", err)
		}
	case !ok:
	case next.After(claimedAt):
		// Not due at the claim: sleep until it is. (When it is due but
		// was not claimed it waits behind an older delivery of its key, or
		// belongs to another destination: a nudge, a retry or the tick
		// will do.)
		wait = min(wait, next.Sub(r.d.clock.Now()))
	}
	if next, ok := r.nextRetry(claimedAt); ok {
		wait = min(wait, next.Sub(r.d.clock.Now()))
	}
	if wait <= 0 {
		return
	}
	r.sleep(ctx, wait)
}

// noteRetry remembers a scheduled retry.
func (r *destRun) noteRetry(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, at)
}

// nextRetry returns the earliest remembered retry after claimedAt and
// forgets the others: those were due at the claim, so it took them (a
// retried delivery is the oldest open one of its key).
func (r *destRun) nextRetry(claimedAt time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := r.retries[:0]
	var next time.Time
	for _, t := range r.retries {
		if !t.After(claimedAt) {
			continue
		}
		keep = append(keep, t)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	r.retries = keep
	return next, !next.IsZero()
}

// sleep waits for a nudge, ctx's end or, when d > 0, d.
func (r *destRun) sleep(ctx context.Context, d time.Duration) {
	var fire <-chan time.Time
	if d > 0 {
		t := r.d.clock.NewTimer(d)
		defer t.Stop()
		fire = t.C()
	}
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-fire:
	}
}

// start hands claimed deliveries to new workers: one batch when the
// notifier takes batches and there are several, else one worker each.
func (r *destRun) start(ctx context.Context, wg *sync.WaitGroup, ds []store.Delivery) {
	batch := r.batch != nil && len(ds) > 1
	r.mu.Lock()
	for _, dl := range ds {
		r.inflight[dl.ID] = true
	}
	if batch {
		r.busy++
	} else {
		r.busy += len(ds)
	}
	r.mu.Unlock()
	if batch {
		wg.Go(func() {
			defer r.done(&worker{r: r}, ds...)
			r.deliverBatch(ctx, ds)
		})
		return
	}
	for _, dl := range ds {
		wg.Go(func() {
			w := &worker{r: r}
			defer r.done(w, dl)
			r.deliver(ctx, dl, w)
		})
	}
}

// worker is the slot of one send in destRun.busy.
type worker struct {
	r    *destRun
	once sync.Once
}

// release frees the slot (once) and nudges the loop, which may claim more.
func (w *worker) release() {
	w.once.Do(func() {
		w.r.mu.Lock()
		w.r.busy--
		w.r.mu.Unlock()
		w.r.nudge()
	})
}

// done forgets ds, frees their worker slot if still held and nudges the
// loop: the next delivery of their keys may be due.
func (r *destRun) done(w *worker, ds ...store.Delivery) {
	r.mu.Lock()
	for _, dl := range ds {
		delete(r.inflight, dl.ID)
	}
	r.mu.Unlock()
	w.release()
	r.nudge()
}

// startConfirming counts one more delivery waiting for its confirmation
// without a worker, unless Options.MaxPending are already waiting.
func (r *destRun) startConfirming() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.confirming >= r.d.opts.MaxPending {
		return false
	}
	r.confirming++
	return true
}

// confirmed ends a startConfirming.
func (r *destRun) confirmed() {
	r.mu.Lock()
	r.confirming--
	r.mu.Unlock()
}
