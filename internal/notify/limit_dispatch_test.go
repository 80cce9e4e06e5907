package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// drive advances the fake clock to the next rate-limit wait (a timer due
// within 10s) until want sends happened. It advances only once ready says
// the dispatcher is quiet, so that each send is seen at the fake time it was
// allowed at.
func drive(t *testing.T, c *fakeClock, n *fakeNotifier, want int, ready func(short int) bool) {
	t.Helper()
	short := func() (int, time.Duration) {
		k, first := 0, time.Duration(0)
		for _, p := range c.Pending() {
			if p <= 10*time.Second {
				if k == 0 {
					first = p
				}
				k++
			}
		}
		return k, first
	}
	for len(n.Sent()) < want {
		waitFor(t, "a send or a quiet rate-limit wait", func() bool {
			k, _ := short()
			return len(n.Sent()) >= want || k > 0 && ready(k)
		})
		if k, first := short(); k > 0 && len(n.Sent()) < want {
			c.Advance(first)
		}
	}
}

func commitKeys(t *testing.T, st store.Store, n int, at time.Time, dest string) {
	t.Helper()
	var ts []alert.Transition
	for i := range n {
		ts = append(ts, tr(fmt.Sprintf("q%02d_sla", i), fmt.Sprintf("e%02d", i), alert.ActionCreate, at, dest))
	}
	commit(t, st, ts...)
}

func TestRateLimitHoldsSends(t *testing.T) {
	const total, rate, burst = 12, 2.0, 3
	st, c := openStore(t), newFakeClock(base)
	n := &fakeNotifier{clock: c}
	commitKeys(t, st, total, base, "oncall")
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Rate: rate, Burst: burst}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
	start(t, d)
	// Quiet: everything claimed was sent, the loop waits for a token.
	drive(t, c, n, total, func(int) bool { return countStatus(t, st, "oncall", store.StatusInflight) == 0 })

	sends := n.Sent()
	for i, s := range sends {
		// Sends up to and including this one: at most burst + rate·elapsed.
		allowed := burst + int(rate*s.At.Sub(base).Seconds())
		if i+1 > allowed {
			t.Errorf("send %d at +%v: %d sends, the bucket allows %d", i+1, s.At.Sub(base), i+1, allowed)
		}
	}
	if elapsed, min := c.Now().Sub(base), time.Duration(float64(total-burst)/rate*float64(time.Second)); elapsed < min {
		t.Errorf("%d sends took %v of fake time, want at least %v", total, elapsed, min)
	}
}

// batchNotifier records the batches it gets and fails one key once.
type batchNotifier struct {
	*fakeNotifier
	mu      sync.Mutex
	batches [][]string
	failed  bool
}

func (b *batchNotifier) NotifyBatch(_ context.Context, ds []store.Delivery, prev []*store.Ref) []Result {
	var keys []string
	out := make([]Result, len(ds))
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, d := range ds {
		keys = append(keys, d.Key)
		if d.Key == "q03_sla" && !b.failed {
			b.failed = true
			out[i].Err = errRetry
			continue
		}
		p := ""
		if prev[i] != nil {
			p = prev[i].Value
		}
		b.fakeNotifier.mu.Lock()
		b.fakeNotifier.sent = append(b.fakeNotifier.sent, sent{ID: d.ID, Key: d.Key, Action: d.Action, Prev: p})
		b.fakeNotifier.mu.Unlock()
		out[i].Receipt = Receipt{Code: 200, Ref: "ts-" + d.Key}
	}
	b.batches = append(b.batches, keys)
	return out
}

func TestBatchNotifierGetsBatches(t *testing.T) {
	const keys = 8
	st, c := openStore(t), newFakeClock(base)
	b := &batchNotifier{fakeNotifier: &fakeNotifier{clock: c}}
	commitKeys(t, st, keys, base, "cc-slack")
	var updates []alert.Transition
	for i := range keys {
		updates = append(updates, tr(fmt.Sprintf("q%02d_sla", i), fmt.Sprintf("e%02d", i), alert.ActionUpdate, base, "cc-slack"))
	}
	commit(t, st, updates...)
	d := NewDispatcher(st, []Destination{{Name: "cc-slack", Notifier: b, Backoff: Backoff{Rand: func() float64 { return 0 }}}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
	start(t, d)
	waitFor(t, "all sent", func() bool { return countStatus(t, st, "cc-slack", store.StatusSent) == 2*keys })

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.batches) == 0 || len(b.batches[0]) != keys {
		t.Fatalf("batches %v, want the %d due creates handed over together first", b.batches, keys)
	}
	for _, batch := range b.batches {
		if len(slices.Compact(slices.Sorted(slices.Values(batch)))) != len(batch) {
			t.Errorf("batch %v has a key twice", batch)
		}
	}
	perKey := map[string][]sent{}
	for _, s := range b.Sent() {
		perKey[s.Key] = append(perKey[s.Key], s)
	}
	for key, ss := range perKey {
		if len(ss) != 2 || ss[0].Action != alert.ActionCreate || ss[1].Action != alert.ActionUpdate ||
			ss[1].Prev != "ts-"+key {
			t.Errorf("%s: sends %+v, want create then update with the create's ref", key, ss)
		}
	}
}

func TestNotifierPanicIsDeadLettered(t *testing.T) {
	st, c, obs := openStore(t), newFakeClock(base), &fakeObserver{}
	n := &fakeNotifier{fn: func(context.Context, store.Delivery, *store.Ref) (Receipt, error) { panic("nil map") }}
	commitKeys(t, st, 1, base, "oncall")
	start(t, NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger(), Observer: obs}))
	waitFor(t, "the dead letter", func() bool { return countStatus(t, st, "oncall", store.StatusDead) == 1 })
	if dl := deliveries(t, st, "oncall")[0]; !strings.Contains(dl.LastError, "notifier panicked: nil map") {
		t.Errorf("LastError = %q", dl.LastError)
	}
}

func TestMaxAttemptsGivesUp(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	n := &fakeNotifier{fn: func(context.Context, store.Delivery, *store.Ref) (Receipt, error) { return Receipt{}, errRetry }}
	commitKeys(t, st, 1, base, "oncall")
	start(t, NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, MaxAttempts: 3,
		Backoff: Backoff{Rand: func() float64 { return 0 }}}}, Options{Clock: c, Tick: time.Hour, Logger: quietLogger()}))
	waitFor(t, "the dead letter", func() bool { return countStatus(t, st, "oncall", store.StatusDead) == 1 })
	dl := deliveries(t, st, "oncall")[0]
	if dl.Attempts != 3 || !strings.HasPrefix(dl.LastError, "gave up after 3 attempts: flaky") {
		t.Errorf("delivery = %d attempts, %q; want 3 and a gave-up reason", dl.Attempts, dl.LastError)
	}
}

func TestRunRejectsBadDestinations(t *testing.T) {
	st := openStore(t)
	n := &fakeNotifier{}
	tests := map[string][]Destination{
		"no name":     {{Notifier: n}},
		"no notifier": {{Name: "oncall"}},
		"twice":       {{Name: "oncall", Notifier: n}, {Name: "oncall", Notifier: n}},
	}
	for name, dests := range tests {
		if err := NewDispatcher(st, dests, Options{Logger: quietLogger()}).Run(t.Context()); err == nil {
			t.Errorf("%s: Run = nil, want an error", name)
		}
	}
	d := NewDispatcher(st, nil, Options{Logger: quietLogger()})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, "Run to start", func() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.running })
	if err := d.Run(ctx); err == nil {
		t.Error("second Run = nil, want an error")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
