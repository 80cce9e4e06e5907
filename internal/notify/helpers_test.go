package notify

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
)

// base is the fake time tests start at.
var base = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// guard bounds every wait of a test; it only ends a test that would hang.
const guard = 20 * time.Second

// fakeClock is a Clock whose time moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t, timers: map[*fakeTimer]bool{}} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
	} else {
		c.timers[t] = true
	}
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// Advance moves the time on by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			delete(c.timers, t)
		}
	}
}

// Pending returns how far ahead the pending timers fire, soonest first.
func (c *fakeClock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	slices.Sort(out)
	return out
}

// waitFor waits until cond holds, failing the test after guard. It checks
// again every millisecond: a condition wait, not a timing assumption.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// waitNextTimer waits until the fake clock's soonest timer fires in exactly
// d: the dispatcher went to sleep planning to wake then.
func waitNextTimer(t testing.TB, c *fakeClock, what string, d time.Duration) {
	t.Helper()
	waitFor(t, what, func() bool {
		p := c.Pending()
		return len(p) > 0 && p[0] == d
	})
}

// waitTimer waits until the fake clock has a timer firing within d.
func waitTimer(t testing.TB, c *fakeClock, what string, d time.Duration) {
	t.Helper()
	waitFor(t, what, func() bool {
		p := c.Pending()
		return len(p) > 0 && p[0] <= d
	})
}

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qw.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// tr returns a transition of key's episode ep asking dests for action.
func tr(key, ep string, action alert.Action, at time.Time, dests ...string) alert.Transition {
	from, to := alert.Pending, alert.Firing
	switch action {
	case alert.ActionUpdate:
		from = alert.Firing
	case alert.ActionResolve:
		from, to = alert.Resolving, alert.OK
	}
	e := &alert.Episode{ID: ep, Key: key, Rule: "sla", QueueID: "q-" + key, QueueName: "Queue " + key, Start: at}
	return alert.Transition{
		Key: key, Rule: "sla", QueueID: "q-" + key, QueueName: "Queue " + key, At: at,
		From: from, To: to, Action: action, Reason: string(action), Destinations: dests, Episode: e,
		Series: alert.SeriesState{Key: key, Rule: "sla", QueueID: "q-" + key, State: to, Since: at, Episode: e},
	}
}

func commit(t testing.TB, st store.Store, ts ...alert.Transition) {
	t.Helper()
	if err := st.Commit(context.Background(), ts); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// deliveries returns every delivery, oldest first.
func deliveries(t testing.TB, st store.Store, dest string) []store.Delivery {
	t.Helper()
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{Destination: dest, Limit: 1 << 20})
	if err != nil {
		t.Fatalf("list deliveries: %v", err)
	}
	slices.Reverse(ds)
	return ds
}

func countStatus(t testing.TB, st store.Store, dest string, s store.DeliveryStatus) int {
	t.Helper()
	n := 0
	for _, d := range deliveries(t, st, dest) {
		if d.Status == s {
			n++
		}
	}
	return n
}

func attempts(t testing.TB, st store.Store, id int64) []store.Attempt {
	t.Helper()
	as, err := st.Attempts(context.Background(), id)
	if err != nil {
		t.Fatalf("attempts of %d: %v", id, err)
	}
	return as
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs d until the test ends and checks that Run returns nil.
func start(t testing.TB, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(guard):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// sent is one successful send seen by a fake notifier.
type sent struct {
	ID     int64
	Key    string
	Action alert.Action
	At     time.Time // on the dispatcher's clock
	Prev   string    // the stored ref passed in, "" for nil
}

// fakeNotifier records successful sends; fn, when set, decides each send.
type fakeNotifier struct {
	clock Clock
	fn    func(ctx context.Context, d store.Delivery, prev *store.Ref) (Receipt, error)

	mu    sync.Mutex
	calls int
	sent  []sent
}

func (n *fakeNotifier) Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (Receipt, error) {
	n.mu.Lock()
	n.calls++
	n.mu.Unlock()
	rc := Receipt{Code: 202}
	if n.fn != nil {
		var err error
		if rc, err = n.fn(ctx, d, prev); err != nil {
			return rc, err
		}
	}
	s := sent{ID: d.ID, Key: d.Key, Action: d.Action}
	if n.clock != nil {
		s.At = n.clock.Now()
	}
	if prev != nil {
		s.Prev = prev.Value
	}
	n.mu.Lock()
	n.sent = append(n.sent, s)
	n.mu.Unlock()
	return rc, nil
}

func (n *fakeNotifier) Sent() []sent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sent)
}

func (n *fakeNotifier) Calls() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls
}

// event is one Observer call.
type event struct {
	Kind, Dest, Action, Reason string
	Retryable                  bool
	Latency                    time.Duration
}

type fakeObserver struct {
	mu     sync.Mutex
	events []event
}

func (o *fakeObserver) add(e event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *fakeObserver) Sent(dest, action string, latency time.Duration) {
	o.add(event{Kind: "sent", Dest: dest, Action: action, Latency: latency})
}

func (o *fakeObserver) Failed(dest, action, reason string, retryable bool) {
	o.add(event{Kind: "failed", Dest: dest, Action: action, Reason: reason, Retryable: retryable})
}

func (o *fakeObserver) Dead(dest, action, reason string) {
	o.add(event{Kind: "dead", Dest: dest, Action: action, Reason: reason})
}

func (o *fakeObserver) Events() []event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.events)
}

// errRetry is a retryable failure for fake notifiers.
var errRetry = &Error{Reason: "flaky", Code: 503, Retryable: true}
