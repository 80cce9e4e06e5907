package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// deliver sends one claimed delivery on worker w and records the outcome.
func (r *destRun) deliver(ctx context.Context, dl store.Delivery, w *worker) {
	prev, err := r.ref(ctx, dl)
	if err != nil {
		r.record(ctx, dl, r.d.clock.Now(), Receipt{}, &Error{Reason: "store", Retryable: true, Err: err})
		return
	}
	if r.async != nil {
		r.deliverConfirmed(ctx, dl, prev, w)
		return
	}
	start := r.d.clock.Now()
	rc, err := call(ctx, r.dest.Timeout, func(sctx context.Context) (Receipt, error) {
		return r.dest.Notifier.Notify(sctx, dl, prev)
	})
	r.record(ctx, dl, start, rc, err)
}

// deliverConfirmed sends dl through a Confirming notifier: it begins the
// send on worker w, frees w once the destination accepted it, and waits for
// the confirmation, each within the destination's timeout. The delivery
// stays claimed (and later deliveries of its key wait) until the outcome is
// recorded. When Options.MaxPending deliveries already wait for their
// confirmation, w stays taken, so that claiming slows down.
func (r *destRun) deliverConfirmed(ctx context.Context, dl store.Delivery, prev *store.Ref, w *worker) {
	start := r.d.clock.Now()
	p, err := call(ctx, r.dest.Timeout, func(sctx context.Context) (Pending, error) {
		return r.async.Begin(sctx, dl, prev)
	})
	if err == nil && p == nil {
		err = &Error{Reason: "the notifier began no send", Retryable: true}
	}
	if err != nil {
		r.record(ctx, dl, start, Receipt{}, err)
		return
	}
	if r.startConfirming() {
		defer r.confirmed()
		w.release()
	}
	rc, err := call(ctx, r.dest.Timeout, p.Confirm)
	r.record(ctx, dl, start, rc, err)
}

// deliverBatch sends several claimed deliveries, at most one per key,
// through the BatchNotifier and records each outcome.
func (r *destRun) deliverBatch(ctx context.Context, ds []store.Delivery) {
	send := make([]store.Delivery, 0, len(ds))
	prevs := make([]*store.Ref, 0, len(ds))
	for _, dl := range ds {
		prev, err := r.ref(ctx, dl)
		if err != nil {
			r.record(ctx, dl, r.d.clock.Now(), Receipt{}, &Error{Reason: "store", Retryable: true, Err: err})
			continue
		}
		send = append(send, dl)
		prevs = append(prevs, prev)
	}
	switch len(send) {
	case 0:
		return
	case 1:
		start := r.d.clock.Now()
		rc, err := call(ctx, r.dest.Timeout, func(sctx context.Context) (Receipt, error) {
			return r.dest.Notifier.Notify(sctx, send[0], prevs[0])
		})
		r.record(ctx, send[0], start, rc, err)
		return
	}
	start := r.d.clock.Now()
	results, err := call(ctx, r.dest.Timeout, func(sctx context.Context) ([]Result, error) {
		return r.batch.NotifyBatch(sctx, send, prevs), nil
	})
	for i, dl := range send {
		res := Result{Err: err}
		switch {
		case err != nil:
		case i < len(results):
			res = results[i]
		default:
			res.Err = &Error{Reason: fmt.Sprintf("batch notifier returned %d results for %d deliveries",
				len(results), len(send)), Retryable: true}
		}
		r.record(ctx, dl, start, res.Receipt, res.Err)
	}
}

// call runs one send with the destination's timeout. The send's context is
// not canceled when the dispatcher stops: a send in flight may finish. A
// notifier that panics fails permanently; one that ignores its context is
// left behind after the timeout and a grace period, and counts as timed out.
func call[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1) // buffered: an abandoned send must not leak blocked
	go func() {
		v, err := protect(func() (T, error) { return f(sctx) })
		ch <- result{v, err}
	}()
	select {
	case res := <-ch:
		return res.v, res.err
	case <-sctx.Done():
	}
	grace := time.NewTimer(abandonGrace)
	defer grace.Stop()
	select {
	case res := <-ch:
		return res.v, res.err
	case <-grace.C:
		var zero T
		return zero, &Error{Reason: "timeout", Retryable: true,
			Err: fmt.Errorf("notifier did not return within %v of its timeout %v: %w",
				abandonGrace, timeout, context.DeadlineExceeded)}
	}
}

// protect calls f, turning a panic into a permanent *Error.
func protect[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Reason: fmt.Sprintf("notifier panicked: %v", p)}
		}
	}()
	return f()
}

// ref returns the destination's stored handle on dl's episode, or nil.
func (r *destRun) ref(ctx context.Context, dl store.Delivery) (*store.Ref, error) {
	if dl.EpisodeID == "" {
		return nil, nil
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	ref, err := r.d.st.GetRef(qctx, r.dest.Name, dl.EpisodeID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get ref: %w", err)
	}
	return &ref, nil
}

// record turns a send's result into the delivery's outcome, tells the
// observer and the log, and stores it.
func (r *destRun) record(ctx context.Context, dl store.Delivery, start time.Time, rc Receipt, err error) {
	now := r.d.clock.Now()
	o := store.Outcome{At: now, Duration: max(now.Sub(start), 0)}
	action := string(dl.Action)
	attempt := dl.Attempts + 1
	log := r.log.With("delivery", dl.ID, "key", dl.Key, "action", action, "attempt", attempt)
	if err == nil {
		o.Status, o.Code = store.StatusSent, rc.Code
		// The ref is stored before the delivery is marked sent: after a crash
		// in between, the resend updates the same message instead of
		// posting a second one.
		if rc.Ref != "" && dl.EpisodeID != "" {
			if perr := r.putRef(ctx, dl, rc.Ref, now); perr != nil {
				o.Error = "sent, but the destination's reference was not stored: " + perr.Error()
				log.Error("store ref failed", "err", perr)
			}
		}
		at := dl.Transition.At
		if at.IsZero() {
			at = dl.CreatedAt
		}
		r.d.obs.Sent(r.dest.Name, action, max(now.Sub(at), 0))
		log.Info("notification sent", "code", rc.Code, "note", rc.Note, "duration", o.Duration)
		r.finish(ctx, dl, o)
		return
	}
	e := AsError(err)
	o.Code, o.Error = e.Code, describe(e)
	reason := FailureReason(e)
	retry := e.Retryable && (r.dest.MaxAttempts <= 0 || attempt < r.dest.MaxAttempts)
	if retry {
		o.Status = store.StatusPending
		o.NextAttemptAt = now.Add(r.dest.Backoff.Wait(attempt, e))
		r.d.obs.Failed(r.dest.Name, action, reason, true)
		log.Warn("notification failed; will retry", "code", e.Code, "reason", o.Error,
			"retry_at", o.NextAttemptAt, "retry_after", e.RetryAfter)
	} else {
		if e.Retryable {
			o.Error = fmt.Sprintf("gave up after %d attempts: %s", attempt, o.Error)
		}
		o.Status = store.StatusDead
		r.d.obs.Failed(r.dest.Name, action, reason, false)
		r.d.obs.Dead(r.dest.Name, action, reason)
		log.Error("notification failed for good; dead-lettered", "code", e.Code, "reason", o.Error)
	}
	r.finish(ctx, dl, o)
	if o.Status == store.StatusPending {
		r.noteRetry(o.NextAttemptAt)
	}
}

func (r *destRun) putRef(ctx context.Context, dl store.Delivery, value string, now time.Time) error {
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	return r.d.st.PutRef(qctx, store.Ref{
		Destination: r.dest.Name, EpisodeID: dl.EpisodeID, Key: dl.Key, Value: value, UpdatedAt: now,
	})
}

// finishTries is how often a failing FinishDelivery is tried.
const finishTries = 3

// finish stores an outcome, trying again on errors that may pass. If it
// cannot, the delivery stays claimed and is sent again after its lease.
func (r *destRun) finish(ctx context.Context, dl store.Delivery, o store.Outcome) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	var err error
	for try := range finishTries {
		if err = r.d.st.FinishDelivery(fctx, dl.ID, r.d.opts.Owner, o); err == nil {
			return
		}
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) ||
			errors.Is(err, store.ErrInvalid) || try == finishTries-1 {
			break
		}
		t := time.NewTimer(time.Duration(try+1) * 100 * time.Millisecond)
		select {
		case <-t.C:
		case <-fctx.Done():
		}
		t.Stop()
	}
	log := r.log.With("delivery", dl.ID, "key", dl.Key, "action", string(dl.Action), "status", string(o.Status))
	if errors.Is(err, store.ErrLeaseLost) {
		log.Warn("outcome not recorded: another dispatcher took the delivery over", "err", err)
		return
	}
	log.Error("outcome not recorded; the delivery will be attempted again after its lease", "err", err)
}
