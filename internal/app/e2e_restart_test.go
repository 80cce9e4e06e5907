package app

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// errProcessDied is what a dead process's store calls "return".
var errProcessDied = errors.New("the process died")

// dyingStore is the store as seen by a process that dies just before it
// records the outcome of a send: everything up to that point goes through
// (claims, Slack's message ref), then FinishDelivery blocks until the test
// pulls the plug with kill, and from then on every call fails, so the
// rows the process claimed stay in flight, claimed by it, until their
// leases run out. This is a SIGKILL between the vendor's answer and the
// outbox update, made deterministic.
type dyingStore struct {
	notify.Store
	dead     chan struct{}
	once     sync.Once
	finishes atomic.Int32 // FinishDelivery calls waiting for (or failed by) the death
}

func newDyingStore(st notify.Store) *dyingStore {
	return &dyingStore{Store: st, dead: make(chan struct{})}
}

func (s *dyingStore) kill() { s.once.Do(func() { close(s.dead) }) }

func (s *dyingStore) isDead() bool {
	select {
	case <-s.dead:
		return true
	default:
		return false
	}
}

func (s *dyingStore) FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error {
	s.finishes.Add(1)
	select {
	case <-s.dead:
	case <-ctx.Done():
	}
	return errProcessDied
}

func (s *dyingStore) ClaimDeliveries(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error) {
	if s.isDead() {
		return nil, errProcessDied
	}
	return s.Store.ClaimDeliveries(ctx, req)
}

func (s *dyingStore) PutRef(ctx context.Context, r store.Ref) error {
	if s.isDead() {
		return errProcessDied
	}
	return s.Store.PutRef(ctx, r)
}

func (s *dyingStore) GetRef(ctx context.Context, destination, episodeID string) (store.Ref, error) {
	if s.isDead() {
		return store.Ref{}, errProcessDied
	}
	return s.Store.GetRef(ctx, destination, episodeID)
}

// TestE2ERestartWithDeliveriesInFlight: a service dies (or is stopped) while
// deliveries are in flight; a new service with another dispatcher owner
// opens the same SQLite file. After the old claims' leases run out, it
// finishes the episode: OpsGenie has exactly one alert for the alias,
// created once (a create the old process got accepted is confirmed, not
// sent again),
// and Slack, whose message ts the old process stored, gets its message
// updated instead of a second one posted.
//
// Leases are not configurable; they are destination timeout + 2 s grace +
// the dispatcher's LeaseMargin, and for OpsGenie as much again for the
// confirmation. The test sets the timeouts to 2 s in the YAML and builds
// the dispatchers with LeaseMargin 100 ms and 2 workers, so the wait for the
// old claims is about 8 s (OpsGenie) and 4 s (Slack).
func TestE2ERestartWithDeliveriesInFlight(t *testing.T) {
	cases := []struct {
		name string
		// die abandons the old process (no shutdown code runs);
		// otherwise it is stopped gracefully.
		die bool
		// hang holds OpsGenie's create until the old process gives up,
		// so OpsGenie never processes it; otherwise OpsGenie creates
		// the alert and the old process dies before recording that.
		hang bool
	}{
		{name: "killed while the OpsGenie create hangs", die: true, hang: true},
		{name: "killed after OpsGenie and Slack answered", die: true},
		{name: "stopped while the OpsGenie create hangs", hang: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			rule := rules(waitRule, "oncall", "cc-slack")
			opts := func(owner string) e2eOpts {
				return e2eOpts{
					dests:      []string{"oncall", "cc-slack"},
					extra:      map[string]string{"*": fastRetry + "\ntimeout: 2s"},
					dispatcher: &notify.Options{Owner: owner, Workers: 2, LeaseMargin: 100 * time.Millisecond, Tick: 100 * time.Millisecond},
				}
			}
			if tc.hang {
				h.og.Faults.Add(faults.Fault{Hang: time.Minute, Method: "POST", Path: "/v2/alerts"})
			}
			oldOpts := opts("old-process")
			var dying *dyingStore
			if tc.die {
				oldOpts.wrapStore = func(st notify.Store) notify.Store {
					dying = newDyingStore(st)
					return dying
				}
			}
			old := h.start(rule, oldOpts)
			if dying != nil {
				t.Cleanup(dying.kill)
			}

			q := queueID(1)
			alias := q + "_long_wait"
			at := time.Now().Add(-time.Minute)
			h.send(event{queue: q, metric: "longest_wait", value: 200, at: at})

			// Wait until both sends are where the case wants them.
			waitFor(t, 15*time.Second, "the old process's sends", func() bool {
				if len(ogOps(h.og.Requests())) == 0 || len(h.slack.Messages(fakeslack.DefaultChannel)) != 1 {
					return false
				}
				switch {
				case tc.die && tc.hang:
					return dying.finishes.Load() >= 1 // Slack's outcome is about to be written
				case tc.die:
					return dying.finishes.Load() >= 2 && len(h.og.Alerts()) == 1
				default:
					return len(h.deliveriesOf(store.DeliveryFilter{Destination: "cc-slack", Status: store.StatusSent})) == 1
				}
			}, h.outboxSummary)

			if tc.die {
				dying.kill()
			} else if err := old.stop(); err != nil { // waits for the hung send to time out
				t.Fatal(err)
			}
			// What the old process left in the file, read as a third party.
			ctx := context.Background()
			st, err := OpenStore(ctx, "sqlite:"+h.db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			left, err := st.ListDeliveries(ctx, store.DeliveryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			before := map[string]store.Delivery{}
			for _, d := range left {
				before[d.Destination] = d
			}
			if tc.die {
				for dest, d := range before {
					if d.Status != store.StatusInflight || d.ClaimedBy != "old-process" {
						t.Fatalf("%s create is %s, claimed by %q; want in flight with the dead process", dest, d.Status, d.ClaimedBy)
					}
				}
				ep := before["cc-slack"].EpisodeID
				if _, err := st.GetRef(ctx, "cc-slack", ep); err != nil {
					t.Fatalf("the Slack message ts was not stored: %v", err)
				}
			} else if d := before["oncall"]; d.Status != store.StatusPending {
				t.Fatalf("after a graceful stop the hung create is %s, want pending", d.Status)
			}

			// The new process: same file, another owner.
			h.start(rule, opts("new-process"))
			waitFor(t, 30*time.Second, "the new process to finish the creates", func() bool {
				return h.owed() == 0
			}, h.outboxSummary)

			if tc.die {
				// The new owner waited for the dead owner's lease.
				lease := before["oncall"].LeaseUntil
				for _, o := range ogOps(h.og.Requests())[1:] {
					if o.At.Before(lease) {
						t.Errorf("%s sent at %v, before the dead process's lease ended at %v", o, o.At, lease)
					}
				}
			}
			for dest, d := range before {
				log, err := h.svc.store.Attempts(ctx, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := 1
				if !tc.die && dest == "oncall" {
					want = 2 // the timed-out attempt, recorded at the graceful stop
				}
				if len(log) != want || log[len(log)-1].Status != store.StatusSent {
					t.Errorf("%s create attempts %+v, want %d ending sent", dest, log, want)
				}
			}

			// Recovery: the new process closes what the old one opened.
			h.send(event{queue: q, metric: "longest_wait", value: 10, at: at.Add(time.Second)})
			waitFor(t, 30*time.Second, "the resolve", func() bool {
				a := h.og.Alerts()
				msgs := h.slack.Messages(fakeslack.DefaultChannel)
				return h.owed() == 0 && len(a) == 1 && a[0].Status == "closed" && len(msgs) == 1 && len(msgs[0].Replies) == 1
			}, h.outboxSummary)

			a := h.og.Alerts()
			// A create the old process got accepted is confirmed by the new
			// one through its recorded requestId, not sent again.
			wantCount, wantOps := 1, "create,close"
			if len(a) != 1 || a[0].Alias != alias || a[0].Count != wantCount {
				t.Errorf("OpsGenie alerts %+v, want one for %s with count %d", a, alias, wantCount)
			}
			if got := opNames(accepted(ogOps(h.og.Requests()))); got != wantOps {
				t.Errorf("accepted OpsGenie requests %s, want %s", got, wantOps)
			}

			msgs := h.slack.Messages(fakeslack.DefaultChannel)
			var calls []string
			for _, c := range h.slack.Calls() {
				calls = append(calls, c.Method)
			}
			wantEdits, wantCalls := 1, "chat.postMessage,chat.update,chat.postMessage"
			if tc.die {
				// The create is redone as an edit of the stored message.
				wantEdits, wantCalls = 2, "chat.postMessage,chat.update,chat.update,chat.postMessage"
			}
			if len(msgs) != 1 || msgs[0].Edits != wantEdits || len(msgs[0].Replies) != 1 {
				t.Errorf("Slack messages %+v, want one with %d edits and a reply", msgs, wantEdits)
			}
			if got := strings.Join(calls, ","); got != wantCalls {
				t.Errorf("Slack calls %s, want %s", got, wantCalls)
			}
			for _, d := range h.deliveriesOf(store.DeliveryFilter{}) {
				if d.Status != store.StatusSent {
					t.Errorf("delivery %d %s %s is %s", d.ID, d.Destination, d.Action, d.Status)
				}
			}
		})
	}
}
