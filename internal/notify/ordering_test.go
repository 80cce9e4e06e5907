package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// TestOrderingUnderFlakiness runs many keys through create, update,
// resolve and a second episode, on two destinations, with a notifier that
// fails a third of its sends with retryable errors. At the end every
// delivery was sent exactly once, in order per key, and no two sends of one
// key were ever in flight together.
func TestOrderingUnderFlakiness(t *testing.T) {
	const keys = 30
	dests := []string{"oncall", "cc-slack"}
	rounds := []struct {
		ep     string
		action alert.Action
	}{
		{"e1", alert.ActionCreate}, {"e1", alert.ActionUpdate}, {"e1", alert.ActionResolve},
		{"e2", alert.ActionCreate}, {"e2", alert.ActionResolve},
	}
	st := openStore(t)
	var (
		mu       sync.Mutex
		rng      = rand.New(rand.NewPCG(1, 2))
		busy     = map[string]bool{} // dest/key being sent
		overlaps []string
		fails    int
	)
	flaky := func(dest string) *fakeNotifier {
		return &fakeNotifier{fn: func(_ context.Context, d store.Delivery, _ *store.Ref) (Receipt, error) {
			k := dest + "/" + d.Key
			mu.Lock()
			if busy[k] {
				overlaps = append(overlaps, k)
			}
			busy[k] = true
			fail := rng.Float64() < 0.33
			if fail {
				fails++
			}
			mu.Unlock()
			defer func() { mu.Lock(); delete(busy, k); mu.Unlock() }()
			if fail {
				return Receipt{}, errRetry
			}
			return Receipt{Code: 202}, nil
		}}
	}
	notifiers := map[string]*fakeNotifier{}
	var ds []Destination
	for _, name := range dests {
		notifiers[name] = flaky(name)
		ds = append(ds, Destination{Name: name, Notifier: notifiers[name],
			Backoff: Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	}
	d := NewDispatcher(st, ds, Options{Workers: 4, Tick: 20 * time.Millisecond, Logger: quietLogger()})
	start(t, d)

	order := rand.New(rand.NewPCG(3, 4)).Perm(keys)
	for _, r := range rounds {
		var ts []alert.Transition
		for _, i := range order {
			key := fmt.Sprintf("q%02d_sla", i)
			ts = append(ts, tr(key, key+"/"+r.ep, r.action, time.Now(), dests...))
		}
		commit(t, st, ts...)
		d.Wake()
	}
	total := keys * len(rounds)
	for _, name := range dests {
		waitFor(t, name+" drained", func() bool { return countStatus(t, st, name, store.StatusSent) == total })
	}

	mu.Lock()
	defer mu.Unlock()
	if len(overlaps) > 0 {
		t.Errorf("sends of one key overlapped: %v", overlaps)
	}
	if fails == 0 {
		t.Error("the flaky notifier never failed; the test proves nothing")
	}
	for _, name := range dests {
		perKey := map[string][]sent{}
		for _, s := range notifiers[name].Sent() {
			perKey[s.Key] = append(perKey[s.Key], s)
		}
		for key, ss := range perKey {
			var got []alert.Action
			for i, s := range ss {
				got = append(got, s.Action)
				if i > 0 && s.ID <= ss[i-1].ID {
					t.Errorf("%s %s: delivery %d sent after %d", name, key, s.ID, ss[i-1].ID)
				}
			}
			want := []alert.Action{"create", "update", "resolve", "create", "resolve"}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: sent %v, want %v exactly once each", name, key, got, want)
			}
		}
		if len(perKey) != keys {
			t.Errorf("%s: %d keys sent, want %d", name, len(perKey), keys)
		}
	}
	t.Logf("%d retryable failures along the way", fails)
}

// TestOrderingPerKey checks what a failing create does to the later
// deliveries of its key: a retryable failure holds them back until it is
// sent; a permanent one (dead letter) lets them proceed.
func TestOrderingPerKey(t *testing.T) {
	tests := []struct {
		name      string
		createErr *Error
		wantSent  []alert.Action
	}{
		{"retryable create holds the rest", &Error{Reason: "busy", Code: 503, Retryable: true},
			[]alert.Action{"create", "update", "resolve"}},
		{"dead create lets the rest proceed", &Error{Reason: "Key is invalid", Code: 403},
			[]alert.Action{"update", "resolve"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, c := openStore(t), newFakeClock(base)
			var failed bool
			n := &fakeNotifier{clock: c, fn: func(_ context.Context, d store.Delivery, _ *store.Ref) (Receipt, error) {
				if d.Action == alert.ActionCreate && !failed {
					failed = true // only the notifier's goroutine for this key touches it
					return Receipt{}, tc.createErr
				}
				return Receipt{Code: 202}, nil
			}}
			d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n,
				Backoff: Backoff{Initial: time.Minute, Rand: func() float64 { return 0.5 }}}},
				Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
			commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"),
				tr("q1_sla", "e1", alert.ActionUpdate, base, "oncall"),
				tr("q1_sla", "e1", alert.ActionResolve, base, "oncall"))
			start(t, d)
			if tc.createErr.Retryable {
				// The create waits 30s for its retry, and so do the others.
				waitNextTimer(t, c, "the create's retry timer", 30*time.Second)
				for _, dl := range deliveries(t, st, "oncall")[1:] {
					if dl.Status != store.StatusPending || dl.Attempts != 0 {
						t.Fatalf("%s is %s after %d attempts while its create waits", dl.Action, dl.Status, dl.Attempts)
					}
				}
				if n.Calls() != 1 {
					t.Fatalf("%d sends while the create waits, want 1", n.Calls())
				}
				c.Advance(30 * time.Second)
			}
			waitFor(t, "the key drained", func() bool {
				return countStatus(t, st, "oncall", store.StatusSent) == len(tc.wantSent)
			})
			var got []alert.Action
			for _, s := range n.Sent() {
				got = append(got, s.Action)
			}
			if !slices.Equal(got, tc.wantSent) {
				t.Errorf("sent %v, want %v", got, tc.wantSent)
			}
		})
	}
}

func TestParallelAcrossKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int // Options.Workers
		dest    int // Destination.Workers
	}{
		{name: "dispatcher's workers", workers: 3},
		{name: "destination's own workers", workers: 1, dest: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			const keys = 3
			var wg sync.WaitGroup
			wg.Add(keys)
			arrived := make(chan struct{})
			go func() { wg.Wait(); close(arrived) }()
			n := &fakeNotifier{fn: func(ctx context.Context, _ store.Delivery, _ *store.Ref) (Receipt, error) {
				wg.Done()
				select { // every send waits until all keys are in flight at once
				case <-arrived:
					return Receipt{Code: 202}, nil
				case <-ctx.Done():
					return Receipt{}, errors.New("keys were not sent in parallel")
				}
			}}
			d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: guard, Workers: tc.dest}},
				Options{Workers: tc.workers, Logger: quietLogger()})
			for i := range keys {
				commit(t, st, tr(fmt.Sprintf("q%d_sla", i), fmt.Sprintf("e%d", i), alert.ActionCreate, time.Now(), "oncall"))
			}
			start(t, d)
			waitFor(t, "all sent", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == keys })
		})
	}
}

func TestRestartTakesOverInflight(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
	// Process A claims the delivery and dies mid-send.
	claimed, err := st.ClaimDeliveries(t.Context(), store.ClaimRequest{
		Owner: "A", Destination: "oncall", Now: base, Lease: 30 * time.Second, Limit: 10})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim by A: %v, %v", claimed, err)
	}
	// Process B starts 10s later.
	c.Advance(10 * time.Second)
	n := &fakeNotifier{clock: c}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n}},
		Options{Owner: "B", Clock: c, Tick: time.Hour, Logger: quietLogger()})
	start(t, d)
	// B sleeps until A's lease ends, 20s on, and sends nothing before.
	waitNextTimer(t, c, "B waiting for the lease", 20*time.Second)
	if n.Calls() != 0 {
		t.Fatalf("%d sends before the lease's end, want none", n.Calls())
	}
	c.Advance(20 * time.Second)
	waitFor(t, "B's send", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 1 })
	if s := n.Sent(); len(s) != 1 || !s[0].At.Equal(base.Add(30*time.Second)) {
		t.Errorf("sends %+v, want one at the lease's end", s)
	}
	if a := attempts(t, st, claimed[0].ID); len(a) != 1 || a[0].Status != store.StatusSent {
		t.Errorf("attempts = %+v, want B's one sent attempt", a)
	}
	err = st.FinishDelivery(t.Context(), claimed[0].ID, "A", store.Outcome{Status: store.StatusSent, At: c.Now()})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("A finishing late = %v, want ErrLeaseLost", err)
	}
}

func TestGracefulStopFinishesInflight(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	var sendCtxErr error
	n := &fakeNotifier{fn: func(ctx context.Context, _ store.Delivery, _ *store.Ref) (Receipt, error) {
		<-release
		sendCtxErr = ctx.Err()
		return Receipt{Code: 202}, nil
	}}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: guard}}, Options{Logger: quietLogger()})
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, time.Now(), "oncall"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, "the send in flight", func() bool { return n.Calls() == 1 })
	cancel()
	commit(t, st, tr("q2_sla", "e2", alert.ActionCreate, time.Now(), "oncall"))
	d.Wake()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) with a send in flight", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	// Run returned: the outcome must be recorded already, and nothing new
	// was claimed after the stop.
	ds := deliveries(t, st, "oncall")
	if ds[0].Status != store.StatusSent || ds[1].Status != store.StatusPending || n.Calls() != 1 {
		t.Errorf("after stop: %s and %s after %d sends; want sent, pending and 1", ds[0].Status, ds[1].Status,
			n.Calls())
	}
	if sendCtxErr != nil {
		t.Errorf("the send's context ended with the dispatcher's: %v", sendCtxErr)
	}
}

// TestLapsedLeaseNotSentTwice lets a lease run out while the send is still
// in flight: the dispatcher claims the row again (renewing its lease) but
// must not start a second send of it.
func TestLapsedLeaseNotSentTwice(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	release := make(chan struct{})
	n := &fakeNotifier{clock: c, fn: func(context.Context, store.Delivery, *store.Ref) (Receipt, error) {
		<-release
		return Receipt{Code: 202}, nil
	}}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: guard}},
		Options{Clock: c, Tick: time.Hour, LeaseMargin: time.Second, Logger: quietLogger()})
	lease := guard + abandonGrace + time.Second
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
	start(t, d)
	waitFor(t, "the send in flight", func() bool { return n.Calls() == 1 })
	waitNextTimer(t, c, "the sleep until the lease ends", lease)
	c.Advance(lease + time.Second)
	// Claimed again and skipped: asleep until the renewed lease ends.
	waitNextTimer(t, c, "the sleep until the renewed lease ends", lease)
	if dl := deliveries(t, st, "oncall")[0]; !dl.LeaseUntil.Equal(c.Now().Add(lease)) || n.Calls() != 1 {
		t.Fatalf("lease until %v after %d sends; want renewed to %v and one send", dl.LeaseUntil, n.Calls(),
			c.Now().Add(lease))
	}
	close(release)
	waitFor(t, "the send recorded", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 1 })
	if a := attempts(t, st, deliveries(t, st, "oncall")[0].ID); len(a) != 1 || n.Calls() != 1 {
		t.Errorf("%d attempts, %d sends; want one of each", len(a), n.Calls())
	}
}
