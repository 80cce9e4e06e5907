package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// Store is the part of store.Store the dispatcher uses.
type Store interface {
	ClaimDeliveries(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error)
	FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error
	RetryDelivery(ctx context.Context, id int64, now time.Time) error
	ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error)
	NextDue(ctx context.Context) (t time.Time, ok bool, err error)
	PendingCounts(ctx context.Context) (map[string]int, error)
	PutRef(ctx context.Context, r store.Ref) error
	GetRef(ctx context.Context, destination, episodeID string) (store.Ref, error)
}

// Observer is told about every attempt, for metrics such as
// queuewatch_notifications_total{destination,action,result} and
// queuewatch_notification_latency_seconds{destination}. Its methods are
// called from many goroutines and must not block.
type Observer interface {
	// Sent reports a delivery accepted by its destination; latency runs from
	// the transition that owed it to now.
	Sent(destination, action string, latency time.Duration)
	// Failed reports a failed attempt. reason is a FailureReason label;
	// retryable reports whether another attempt is scheduled.
	Failed(destination, action, reason string, retryable bool)
	// Dead reports a delivery given up on (after its Failed call).
	Dead(destination, action, reason string)
}

// Destination is one configured destination as the dispatcher sees it.
type Destination struct {
	// Name is the destination's configured name, as in outbox rows.
	Name string
	// Type is the destination's type (opsgenie, slack, …), for logs.
	Type string
	// Notifier sends; it may also implement BatchNotifier or Confirming.
	// A notifier whose destination limits requests per key as well (Slack:
	// about one message a second per channel) paces its own requests.
	Notifier Notifier
	// Timeout bounds each send (each batch for a BatchNotifier; for a
	// Confirming notifier, the send and then its confirmation, each),
	// independent of anything else; 0 means DefaultTimeout.
	Timeout time.Duration
	// Workers is the most sends in flight at once; 0 means Options.Workers.
	Workers int
	// Rate is the most sends per second, Burst the most at once; Rate ≤ 0
	// means no limit.
	Rate  float64
	Burst int
	// Backoff says how long to wait before retrying a retryable failure.
	Backoff Backoff
	// MaxAttempts, when positive, dead-letters a delivery after that many
	// failed attempts even if retryable; 0 retries for as long as it takes.
	MaxAttempts int
}

// DefaultTimeout is the send timeout of a Destination without one.
const DefaultTimeout = 10 * time.Second

// Options tune a Dispatcher. The zero value is usable.
type Options struct {
	// Owner names this dispatcher in claims; it must differ between
	// processes sharing a store. Default: host name, process id and a random
	// suffix.
	Owner string
	// Workers is the most sends in flight per destination without its own
	// Destination.Workers; default 8.
	Workers int
	// MaxBatch is the most deliveries handed to one NotifyBatch; default 50.
	MaxBatch int
	// MaxPending is the most deliveries per destination that wait for
	// their confirmation after freeing their worker (Confirming
	// notifiers); default 4096.
	MaxPending int
	// LeaseMargin is added to a destination's send timeout (and rate-limit
	// waits) to make its claim lease; default 15s.
	LeaseMargin time.Duration
	// Tick is the longest an idle destination sleeps before checking the
	// store again, for rows no Wake announced (another replica's commits,
	// leases of other owners); default 5s.
	Tick time.Duration
	// Clock is the source of time; default SystemClock. Send timeouts are
	// always measured on the system clock.
	Clock Clock
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Observer, when set, is told about every attempt.
	Observer Observer
}

// Dispatcher drains the outbox: per destination it claims due deliveries,
// waits for rate-limit tokens, sends them through the destination's Notifier
// and records the outcome, retrying with backoff and dead-lettering refusals.
//
// Ordering: the store hands out the deliveries of one destination and alert
// key strictly one at a time and oldest first, so an update or resolve waits
// while its create is pending or being retried and is never sent before it.
// Once the create is dead (refused for good, or given up after MaxAttempts),
// later deliveries of the key proceed: a dead letter does not block the alert
// forever. RetryDead refuses to resend a delivery once a later one of its
// key was sent, because that would reorder them.
type Dispatcher struct {
	st     Store
	opts   Options
	clock  Clock
	log    *slog.Logger
	obs    Observer
	dests  []*destRun
	cfgErr error

	mu      sync.Mutex
	running bool
}

// NewDispatcher returns a dispatcher of the given destinations. Problems
// with the destinations (no name, no notifier, a name used twice) are
// reported by Run.
func NewDispatcher(st Store, dests []Destination, opts Options) *Dispatcher {
	opts = opts.withDefaults()
	d := &Dispatcher{st: st, opts: opts, clock: opts.Clock, log: opts.Logger, obs: opts.Observer}
	if d.obs == nil {
		d.obs = nopObserver{}
	}
	seen := map[string]bool{}
	var errs []error
	for _, dest := range dests {
		switch {
		case dest.Name == "":
			errs = append(errs, errors.New("destination without a name"))
			continue
		case dest.Notifier == nil:
			errs = append(errs, fmt.Errorf("destination %q has no notifier", dest.Name))
			continue
		case seen[dest.Name]:
			errs = append(errs, fmt.Errorf("destination %q is listed twice", dest.Name))
			continue
		}
		seen[dest.Name] = true
		d.dests = append(d.dests, newDestRun(d, dest))
		if j, ok := dest.Notifier.(Journaled); ok && st != nil {
			j.UseJournal(refJournal{st: st, dest: dest.Name, clock: d.clock})
		}
	}
	if st == nil {
		errs = append(errs, errors.New("no store"))
	}
	if err := errors.Join(errs...); err != nil {
		d.cfgErr = fmt.Errorf("notify: %w", err)
	}
	return d
}

func (o Options) withDefaults() Options {
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 50
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 4096
	}
	if o.LeaseMargin <= 0 {
		o.LeaseMargin = 15 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "queuewatch"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner returns the name this dispatcher claims deliveries under.
func (d *Dispatcher) Owner() string { return d.opts.Owner }

// Run dispatches until ctx ends. Then it stops claiming, lets the sends in
// flight finish (each within its timeout), records their outcomes and
// returns nil. It returns an error at once for an invalid configuration or
// when the dispatcher is already running.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.cfgErr != nil {
		return d.cfgErr
	}
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("notify: dispatcher is already running")
	}
	d.running = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
	}()

	d.log.Info("dispatcher started", "owner", d.opts.Owner, "destinations", len(d.dests))
	d.warnOrphans(ctx)
	var wg sync.WaitGroup
	for _, r := range d.dests {
		wg.Go(func() { r.loop(ctx, &wg) })
	}
	<-ctx.Done()
	wg.Wait()
	d.log.Info("dispatcher stopped", "owner", d.opts.Owner)
	return nil
}

// warnOrphans logs deliveries owed to destinations that are not configured
// (any more): nothing sends them until the destination is back.
func (d *Dispatcher) warnOrphans(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	counts, err := d.st.PendingCounts(qctx)
	if err != nil {
		d.log.Warn("pending counts failed", "err", err)
		return
	}
	for name, n := range counts {
		if !slices.ContainsFunc(d.dests, func(r *destRun) bool { return r.dest.Name == name }) {
			d.log.Warn("deliveries owed to an unconfigured destination wait until it is configured again",
				"destination", name, "pending", n)
		}
	}
}

// Wake tells the dispatcher that new deliveries were committed, so that it
// claims them now instead of at its next tick. It never blocks and may be
// called at any time, also before Run.
func (d *Dispatcher) Wake() {
	for _, r := range d.dests {
		r.nudge()
	}
}

// RetryDead makes a dead delivery pending again, due now, and wakes the
// dispatcher. It fails with an error wrapping store.ErrNotFound for an
// unknown id, and store.ErrConflict when the delivery is not dead or when a
// later delivery of the same destination and alert key was already sent
// (resending it now would, say, reopen an alert that was closed since).
func (d *Dispatcher) RetryDead(ctx context.Context, id int64) error {
	if err := d.checkRetryOrder(ctx, id); err != nil {
		return fmt.Errorf("notify: retry delivery %d: %w", id, err)
	}
	if err := d.st.RetryDelivery(ctx, id, d.clock.Now()); err != nil {
		return fmt.Errorf("notify: retry delivery %d: %w", id, err)
	}
	d.log.Info("dead delivery retried", "delivery", id)
	d.Wake()
	return nil
}

// deadScanLimit bounds the dead rows RetryDead reads to find the one retried.
const deadScanLimit = 10000

// checkRetryOrder refuses to retry dead delivery id when a later delivery of
// its destination and key was sent. When id is not found among the dead rows
// it leaves the answer to RetryDelivery.
func (d *Dispatcher) checkRetryOrder(ctx context.Context, id int64) error {
	dead, err := d.st.ListDeliveries(ctx, store.DeliveryFilter{Status: store.StatusDead, Limit: deadScanLimit})
	if err != nil {
		return err
	}
	var target *store.Delivery
	for i := range dead {
		if dead[i].ID == id {
			target = &dead[i]
			break
		}
	}
	if target == nil {
		return nil
	}
	later, err := d.st.ListDeliveries(ctx, store.DeliveryFilter{
		Destination: target.Destination, Key: target.Key, Status: store.StatusSent, Limit: 1,
	})
	if err != nil {
		return err
	}
	if len(later) > 0 && later[0].ID > id {
		return fmt.Errorf("%w: %s of %s to %s (delivery %d) was sent after it; resending would reorder them",
			store.ErrConflict, later[0].Action, target.Key, target.Destination, later[0].ID)
	}
	return nil
}

type nopObserver struct{}

func (nopObserver) Sent(string, string, time.Duration)  {}
func (nopObserver) Failed(string, string, string, bool) {}
func (nopObserver) Dead(string, string, string)         {}
