// Package leader elects one leader among the queuewatch replicas sharing a
// database, through a lease row with a fencing epoch (see Lease).
//
// A candidate tries to acquire the lease every RetryInterval. The leader
// renews it every TTL/4; when a renewal is refused (another replica holds
// the lease) or none succeeded for 3/4 of the TTL (the database is out of
// reach), the leader considers its leadership lost before the lease can
// expire for the others, ends its term and Run returns ErrLost. A replica
// that lost the leadership does not campaign again: its in-memory state
// may be stale, so it should exit and be restarted fresh (a crash-only
// design, as Kubernetes controllers do). Writes of a term are fenced on its
// epoch in the database, so even a leader that has not yet noticed its loss
// cannot store anything after another replica took over.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Lease is the shared lease the candidates compete for. Its holder and
// expiry live in the database and are judged by the database's clock.
// *postgres.Store implements it.
type Lease interface {
	// Acquire takes the lease for holder for ttl when it is free, expired
	// or holder's, returning its epoch, or false when another holds it.
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (epoch int64, ok bool, err error)
	// Renew extends holder's lease at epoch, or returns false when it is
	// no longer holder's.
	Renew(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) (bool, error)
	// Release ends holder's lease at epoch early.
	Release(ctx context.Context, name, holder string, epoch int64) error
}

// Clock tells the time and waits; tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// DefaultTTL is the lease's length when Options.TTL is 0 (the configuration
// key leader_lease).
const DefaultTTL = 15 * time.Second

// ErrLost is returned by Run when the leadership was lost rather than given
// up because its context ended.
var ErrLost = errors.New("leader: leadership lost")

// Options configures an Elector.
type Options struct {
	// Name is the lease row; default "leader".
	Name string
	// Holder identifies this replica; it must differ between processes.
	Holder string
	// TTL is how long a lease lasts without renewal; default DefaultTTL.
	TTL time.Duration
	// RetryInterval is how often a follower tries to acquire the lease;
	// default TTL/15, at least 10ms and at most 1s.
	RetryInterval time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Elector campaigns for one replica.
type Elector struct {
	lease Lease
	o     Options
	epoch atomic.Int64 // the epoch of the current term, 0 when following
}

// New returns an elector for holder on lease.
func New(lease Lease, o Options) (*Elector, error) {
	if o.Holder == "" {
		return nil, errors.New("leader: Options.Holder is required")
	}
	if o.Name == "" {
		o.Name = "leader"
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = min(max(o.TTL/15, 10*time.Millisecond), time.Second)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Elector{lease: lease, o: o}, nil
}

// Epoch returns the epoch of the term this replica leads, or 0 when it is
// not the leader.
func (e *Elector) Epoch() int64 { return e.epoch.Load() }

// Holder returns the name this replica campaigns under.
func (e *Elector) Holder() string { return e.o.Holder }

// Name returns the lease's name.
func (e *Elector) Name() string { return e.o.Name }

// Run campaigns until ctx ends or the leadership is lost. While this
// replica leads, lead runs with a context that ends with the term; lead
// must return promptly once it does. When ctx ends during a term the lease
// is released, so another replica takes over at once, and Run returns nil.
// When the leadership is lost Run returns ErrLost after lead returned.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, epoch int64)) error {
	for {
		epoch, ok := e.tryAcquire(ctx)
		if ok {
			return e.term(ctx, epoch, lead)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.o.Clock.After(e.o.RetryInterval):
		}
	}
}

func (e *Elector) tryAcquire(ctx context.Context) (int64, bool) {
	actx, cancel := context.WithTimeout(ctx, e.o.TTL/4)
	defer cancel()
	epoch, ok, err := e.lease.Acquire(actx, e.o.Name, e.o.Holder, e.o.TTL)
	if err != nil {
		if ctx.Err() == nil {
			e.o.Logger.Warn("leader election: acquiring the lease failed", "err", err)
		}
		return 0, false
	}
	return epoch, ok
}

// term leads from epoch until ctx ends or the leadership is lost.
func (e *Elector) term(ctx context.Context, epoch int64, lead func(context.Context, int64)) error {
	start := e.o.Clock.Now()
	e.epoch.Store(epoch)
	defer e.epoch.Store(0)
	e.o.Logger.Info("elected leader", "holder", e.o.Holder, "epoch", epoch, "lease", e.o.TTL)
	termCtx, endTerm := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(termCtx, epoch)
	}()
	stop := func() {
		endTerm()
		<-done
	}
	lost := func(why string, args ...any) error {
		stop()
		e.o.Logger.Error("leadership lost: "+why, append(args, "holder", e.o.Holder, "epoch", epoch)...)
		return fmt.Errorf("%w: %s", ErrLost, why)
	}
	// The lease holds at least TTL from the start of the last renewal that
	// succeeded: the term ends well before, so no two terms overlap.
	lastOK := start
	every := e.o.TTL / 4
	handOver := func() error {
		stop()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := e.lease.Release(rctx, e.o.Name, e.o.Holder, epoch); err != nil {
			e.o.Logger.Warn("releasing the leader lease failed; another replica takes over when it expires", "err", err)
		}
		e.o.Logger.Info("leadership handed over", "holder", e.o.Holder, "epoch", epoch)
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return handOver()
		case <-done:
			if ctx.Err() != nil {
				return handOver()
			}
			return lost("the leader's work ended before its term")
		case <-e.o.Clock.After(every):
		}
		deadline := lastOK.Add(e.o.TTL * 3 / 4)
		attempt := e.o.Clock.Now()
		if !attempt.Before(deadline) {
			return lost("no renewal succeeded in time", "last_renewal", lastOK)
		}
		rctx, cancel := context.WithTimeout(ctx, deadline.Sub(attempt))
		ok, err := e.lease.Renew(rctx, e.o.Name, e.o.Holder, epoch, e.o.TTL)
		cancel()
		switch {
		case err == nil && ok:
			lastOK = attempt
		case err == nil:
			return lost("another replica holds the lease")
		case ctx.Err() == nil:
			e.o.Logger.Warn("renewing the leader lease failed", "err", err, "holder", e.o.Holder, "epoch", epoch,
				"steps_down_at", deadline)
		}
	}
}
