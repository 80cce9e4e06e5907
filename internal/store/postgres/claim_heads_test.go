package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

// sqlDefinitelyDue selects, without claiming, the rows a claim of one
// destination may take by the plain definition: owed, due at $2, no older
// owed row of its destination and key; the oldest $3.
const sqlDefinitelyDue = `SELECT o.id FROM outbox o
	WHERE o.status IN ('pending', 'inflight') AND o.destination = $1
		AND ((o.status = 'pending' AND o.next_attempt_at <= $2)
			OR (o.status = 'inflight' AND o.lease_until <= $2))
		AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination AND p.key = o.key
			AND p.id < o.id AND p.status IN ('pending', 'inflight'))
	ORDER BY o.id
	LIMIT $3`

// commitOne commits a transition of key at now owed to dests.
func commitOne(t *testing.T, s *Store, key string, step int, now time.Time, dests []string) {
	t.Helper()
	ep := &alert.Episode{ID: fmt.Sprintf("%s@%d", key, step), Key: key, Rule: "sla", QueueID: key[:2], Start: now}
	if err := s.Commit(t.Context(), []alert.Transition{{Key: key, Rule: "sla", QueueID: key[:2], At: now,
		From: alert.Pending, To: alert.Firing, Action: alert.ActionCreate, Reason: "test",
		Destinations: dests, Episode: ep,
		Series: alert.SeriesState{Key: key, Rule: "sla", QueueID: key[:2], State: alert.Firing, Since: now, Episode: ep}}}); err != nil {
		t.Fatal(err)
	}
}

// TestClaimOfOneDestinationMatchesDefinition drives an outbox of three
// destinations and seven keys through random commits, claims by two owners,
// retries, deaths, retries of dead rows, sends and expired leases, and
// checks before every claim of one destination that it takes exactly the
// oldest due rows by the plain definition. Keys get tens of rows each, and
// one key only starts late, so its head is far behind the others' rows. It
// runs with the claim's window of oldest rows as in production, and with
// windows of one row and of the limit, which leave most claims to the walk
// of the keys' heads.
func TestClaimOfOneDestinationMatchesDefinition(t *testing.T) {
	for _, w := range []struct {
		name   string
		window func(int) int
	}{
		{"window=default", nil},
		{"window=1", func(int) int { return 1 }},
		{"window=limit", func(limit int) int { return limit }},
	} {
		t.Run(w.name, func(t *testing.T) {
			s := openTest(t, pgtest.DSN(t))
			defer s.Close()
			s.claimWindow = w.window
			ctx := t.Context()
			rng := rand.New(rand.NewPCG(7, 11))
			dests := []string{"oncall", "cc-slack", "pd"}
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			// Rows to start with: 6 keys × 30 rounds, then the late key.
			for round := range 30 {
				for k := range 6 {
					commitOne(t, s, fmt.Sprintf("q%d_sla", k), 1000+round*10+k, now, dests[:1+(round+k)%3])
				}
			}
			for round := range 5 {
				commitOne(t, s, "q9_sla", 2000+round, now, dests)
			}
			claimed := map[int64]string{} // in flight: id → owner
			var dead []int64
			heads := 0 // claims that needed more than the window
			for step := range 500 {
				now = now.Add(time.Duration(rng.IntN(3)) * time.Second) // whole seconds: leases and retries fall due exactly at a claim
				switch rng.IntN(6) {
				case 0:
					commitOne(t, s, fmt.Sprintf("q%d_sla", rng.IntN(7)), step, now, dests[:1+rng.IntN(3)])
				case 1:
					if len(dead) > 0 { // a dead row owed again blocks the newer rows of its key
						i := rng.IntN(len(dead))
						if err := s.RetryDelivery(ctx, dead[i], now); err != nil {
							t.Fatal(err)
						}
						dead = slices.Delete(dead, i, i+1)
					}
				}
				dest := dests[rng.IntN(len(dests))]
				limit := 1 + rng.IntN(4)
				rows, err := s.pool.Query(ctx, sqlDefinitelyDue, dest, now.UnixNano(), limit)
				if err != nil {
					t.Fatal(err)
				}
				want := []int64{}
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					want = append(want, id)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				window := claimWindow(limit)
				if w.window != nil {
					window = w.window(limit)
				}
				var firstOwed []int64
				if err := s.pool.QueryRow(ctx, `SELECT array(SELECT id FROM outbox WHERE destination = $1
					AND status IN ('pending', 'inflight') ORDER BY id LIMIT $2)`, dest, window).Scan(&firstOwed); err != nil {
					t.Fatal(err)
				}
				if len(want) > 0 && !slices.Contains(firstOwed, want[len(want)-1]) || len(want) < limit {
					heads++
				}
				owner := fmt.Sprintf("w%d", rng.IntN(2))
				ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: owner, Destination: dest, Now: now,
					Lease: time.Duration(1+rng.IntN(10)) * time.Second, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				got := []int64{}
				for _, d := range ds {
					got = append(got, d.ID)
					claimed[d.ID] = owner
				}
				if !slices.Equal(got, want) {
					t.Fatalf("step %d: claim of %s (limit %d) took %v, want %v", step, dest, limit, got, want)
				}
				// Finish some of what is in flight; the rest keeps or loses its lease.
				for id, owner := range claimed {
					if rng.IntN(3) != 0 {
						continue
					}
					o := store.Outcome{At: now}
					switch rng.IntN(4) {
					case 0, 1:
						o.Status = store.StatusSent
					case 2:
						o.Status, o.NextAttemptAt, o.Error = store.StatusPending, now.Add(time.Duration(rng.IntN(4))*time.Second), "flaky"
					default:
						o.Status, o.Error = store.StatusDead, "refused"
					}
					// A lapsed lease may have passed the row to the other owner.
					err := s.FinishDelivery(ctx, id, owner, o)
					if err == nil && o.Status == store.StatusDead {
						dead = append(dead, id)
					}
					if err == nil || rng.IntN(2) == 0 {
						delete(claimed, id)
					}
				}
			}
			if heads < 50 {
				t.Errorf("only %d of 500 claims needed the heads beyond the window; the test no longer checks that walk", heads)
			}
		})
	}
}

// TestClaimTwoOwnersKeepOrder has two owners claim and finish the rows of
// one destination at once, 8 keys × 25 rows, each claim up to 3 rows and a
// third of the attempts retried at once, with the window of oldest rows as
// in production and of one row (the heads' walk). It checks that no key
// ever has two rows in flight, that every row is sent once, and that each
// key's rows are sent in order.
func TestClaimTwoOwnersKeepOrder(t *testing.T) {
	for _, w := range []struct {
		name   string
		window func(int) int
	}{
		{"window=default", nil},
		{"window=1", func(int) int { return 1 }},
	} {
		t.Run(w.name, func(t *testing.T) {
			s := openTest(t, pgtest.DSN(t))
			defer s.Close()
			s.claimWindow = w.window
			now := storetest.Base.Add(24 * time.Hour)
			const keys, rounds = 8, 25
			for round := range rounds {
				for k := range keys {
					commitOne(t, s, fmt.Sprintf("q%d_sla", k), round*keys+k, now.Add(-time.Hour), []string{"oncall"})
				}
			}
			var mu sync.Mutex
			busy := map[string]int64{}   // key → row in flight
			sent := map[string][]int64{} // key → rows sent, in order
			total := 0
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			errs := make(chan error, 2)
			var wg sync.WaitGroup
			for o := range 2 {
				owner := fmt.Sprintf("w%d", o)
				rng := rand.New(rand.NewPCG(uint64(o), 3))
				wg.Go(func() {
					err := func() error {
						for {
							mu.Lock()
							done := total == keys*rounds
							mu.Unlock()
							if done {
								return nil
							}
							if err := ctx.Err(); err != nil {
								return fmt.Errorf("%s: %d of %d rows sent: %w", owner, total, keys*rounds, err)
							}
							ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: owner, Destination: "oncall",
								Now: now, Lease: time.Hour, Limit: 3})
							if err != nil {
								return err
							}
							mu.Lock()
							for _, d := range ds {
								if other, ok := busy[d.Key]; ok {
									mu.Unlock()
									return fmt.Errorf("%s claimed %d of %s while %d is in flight", owner, d.ID, d.Key, other)
								}
								busy[d.Key] = d.ID
							}
							mu.Unlock()
							for _, d := range ds {
								o := store.Outcome{Status: store.StatusSent, At: now}
								if rng.IntN(3) == 0 {
									o = store.Outcome{Status: store.StatusPending, At: now, NextAttemptAt: now, Error: "retry"}
								}
								mu.Lock()
								delete(busy, d.Key)
								if o.Status == store.StatusSent {
									sent[d.Key] = append(sent[d.Key], d.ID)
									total++
								}
								mu.Unlock()
								if err := s.FinishDelivery(ctx, d.ID, owner, o); err != nil {
									return err
								}
							}
						}
					}()
					if err != nil {
						cancel() // the other owner stops too
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for k, ids := range sent {
				inOrder := slices.IsSortedFunc(ids, func(a, b int64) int { return cmp.Compare(a, b) }) &&
					len(slices.Compact(slices.Clone(ids))) == len(ids)
				if len(ids) != rounds || !inOrder {
					t.Errorf("key %s: rows sent %v, want %d rows in id order", k, ids, rounds)
				}
			}
			if len(sent) != keys {
				t.Errorf("rows of %d keys sent, want %d", len(sent), keys)
			}
			if n := len(all(t, s, store.StatusSent)); n != keys*rounds {
				t.Errorf("%d rows sent in the store, want %d", n, keys*rounds)
			}
		})
	}
}

// all lists the deliveries with status st.
func all(t *testing.T, s *Store, st store.DeliveryStatus) []store.Delivery {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), store.DeliveryFilter{Status: st, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
