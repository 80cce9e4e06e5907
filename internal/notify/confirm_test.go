package notify

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// confirmingNotifier begins every send at once and confirms a delivery only
// when the test says so (or fails it when told to).
type confirmingNotifier struct {
	mu      sync.Mutex
	begun   []string                 // "key/action" in the order begun
	confirm map[int64]chan error     // closed or sent to by the test
	waiting map[int64]store.Delivery // begun, not yet confirmed
}

func newConfirmingNotifier() *confirmingNotifier {
	return &confirmingNotifier{confirm: map[int64]chan error{}, waiting: map[int64]store.Delivery{}}
}

func (n *confirmingNotifier) Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (Receipt, error) {
	p, err := n.Begin(ctx, d, prev)
	if err != nil {
		return Receipt{}, err
	}
	return p.Confirm(ctx)
}

func (n *confirmingNotifier) Begin(_ context.Context, d store.Delivery, _ *store.Ref) (Pending, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.begun = append(n.begun, d.Key+"/"+string(d.Action))
	ch, ok := n.confirm[d.ID]
	if !ok {
		ch = make(chan error, 1)
		n.confirm[d.ID] = ch
	}
	n.waiting[d.ID] = d
	return pendingFunc(func(ctx context.Context) (Receipt, error) {
		select {
		case err := <-ch:
			n.mu.Lock()
			delete(n.waiting, d.ID)
			delete(n.confirm, d.ID)
			n.mu.Unlock()
			if err != nil {
				return Receipt{}, err
			}
			return Receipt{Code: 202, Ref: "alert-" + d.Key}, nil
		case <-ctx.Done():
			return Receipt{}, &Error{Reason: "not confirmed", Retryable: true, Err: ctx.Err()}
		}
	}), nil
}

type pendingFunc func(ctx context.Context) (Receipt, error)

func (f pendingFunc) Confirm(ctx context.Context) (Receipt, error) { return f(ctx) }

// Waiting returns the keys begun and not yet confirmed, sorted.
func (n *confirmingNotifier) Waiting() []store.Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []store.Delivery
	for _, d := range n.waiting {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b store.Delivery) int { return int(a.ID - b.ID) })
	return out
}

func (n *confirmingNotifier) Begun() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.begun)
}

// answer confirms (err nil) or fails delivery id.
func (n *confirmingNotifier) answer(id int64, err error) {
	n.mu.Lock()
	ch := n.confirm[id]
	n.mu.Unlock()
	ch <- err
}

// TestConfirmingFreesWorkersAndKeepsKeyOrder: with one worker, a delivery
// that waits for its confirmation does not hold the worker, so the other
// alerts' creates begin meanwhile; but the resolve of the same alert is not
// begun before its create is confirmed, and a failed confirmation is retried
// before the resolve.
func TestConfirmingFreesWorkersAndKeepsKeyOrder(t *testing.T) {
	st := openStore(t)
	n := newConfirmingNotifier()
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: guard,
		Backoff: Backoff{Initial: time.Millisecond, Max: time.Millisecond}}},
		Options{Workers: 1, Logger: quietLogger()})
	now := time.Now()
	for i := range 3 {
		commit(t, st, tr(fmt.Sprintf("q%d_sla", i), fmt.Sprintf("e%d", i), alert.ActionCreate, now, "oncall"))
	}
	commit(t, st, tr("q0_sla", "e0", alert.ActionResolve, now.Add(time.Second), "oncall"))
	start(t, d)

	waitFor(t, "three creates waiting for confirmation at once", func() bool { return len(n.Waiting()) == 3 })
	if got := n.Begun(); !slices.Equal(got, []string{"q0_sla/create", "q1_sla/create", "q2_sla/create"}) {
		t.Fatalf("begun %v", got)
	}
	first := n.Waiting()[0]
	n.answer(first.ID, errRetry)
	waitFor(t, "the failed create to be begun again", func() bool { return len(n.Begun()) == 4 })
	if got := n.Begun()[3]; got != "q0_sla/create" {
		t.Fatalf("after a failed confirmation %s was begun, want the create again", got)
	}
	for _, w := range n.Waiting() {
		n.answer(w.ID, nil)
	}
	waitFor(t, "the resolve", func() bool { return len(n.Waiting()) == 1 && n.Waiting()[0].Action == alert.ActionResolve })
	n.answer(n.Waiting()[0].ID, nil)
	waitFor(t, "all sent", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 4 })
	ref, err := st.GetRef(context.Background(), "oncall", "e0")
	if err != nil || ref.Value != "alert-q0_sla" {
		t.Errorf("ref of e0: %+v, %v; want the confirmed receipt's", ref, err)
	}
	if as := attempts(t, st, first.ID); len(as) != 2 || as[0].Status != store.StatusPending || as[1].Status != store.StatusSent {
		t.Errorf("attempts of the create: %+v, want a failed confirmation, then sent", as)
	}
}

// TestConfirmingIsBoundedByMaxPending: when MaxPending deliveries wait for
// their confirmation, the next one keeps its worker while it waits, so that
// with one worker nothing more is begun.
func TestConfirmingIsBoundedByMaxPending(t *testing.T) {
	st := openStore(t)
	n := newConfirmingNotifier()
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: guard}},
		Options{Workers: 1, MaxPending: 2, Logger: quietLogger()})
	now := time.Now()
	for i := range 4 {
		commit(t, st, tr(fmt.Sprintf("q%d_sla", i), fmt.Sprintf("e%d", i), alert.ActionCreate, now, "oncall"))
	}
	start(t, d)
	// Two wait without a worker, the third holds the only worker.
	r := d.dests[0]
	waitFor(t, "two confirming without a worker and one holding it", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.confirming == 2 && r.busy == 1 && len(r.inflight) == 3 && len(n.Begun()) == 3
	})
	for _, w := range n.Waiting() {
		n.answer(w.ID, nil)
	}
	waitFor(t, "the fourth begun", func() bool { return len(n.Begun()) == 4 })
	n.answer(n.Waiting()[0].ID, nil)
	waitFor(t, "all sent", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 4 })
}
