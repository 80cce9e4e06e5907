package sqlite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// sqlDue selects, without claiming, the rows a claim of one destination may
// take: the definition sqlClaim implements with its indexes.
const sqlDue = `SELECT o.id FROM outbox o
	WHERE o.status IN ('pending', 'inflight') AND o.destination = ?1
		AND ((o.status = 'pending' AND o.next_attempt_at <= ?2)
			OR (o.status = 'inflight' AND o.lease_until <= ?2))
		AND ` + sqlFirstOwed + `
	ORDER BY o.id
	LIMIT ?3`

// TestClaimOfOneDestinationMatchesDefinition drives an outbox of three
// destinations and six keys through random claims, retries, deaths, sends
// and expired leases, and checks before every claim of one destination
// that it takes exactly the oldest due rows by the plain definition: with
// the claim's window of oldest pending rows as in production, and with
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
		t.Run(w.name, func(t *testing.T) { claimsMatchDefinition(t, w.window) })
	}
}

func claimsMatchDefinition(t *testing.T, window func(int) int) {
	s := openTemp(t)
	s.claimWindow = window
	ctx := t.Context()
	dead := []int64{}
	rng := rand.New(rand.NewPCG(7, 11))
	dests := []string{"oncall", "cc-slack", "pd"}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	claimed := map[int64]string{} // in flight: id → owner
	for step := range 400 {
		now = now.Add(time.Duration(rng.IntN(3)) * time.Second) // whole seconds: leases and retries fall due exactly at a claim
		if len(dead) > 0 && rng.IntN(8) == 0 {                  // a dead row owed again blocks the newer rows of its key
			i := rng.IntN(len(dead))
			if err := s.RetryDelivery(ctx, dead[i], now); err != nil {
				t.Fatal(err)
			}
			dead = slices.Delete(dead, i, i+1)
		}
		if rng.IntN(3) == 0 {
			key := fmt.Sprintf("q%d_sla", rng.IntN(6))
			ep := &alert.Episode{ID: fmt.Sprintf("%s@%d", key, step), Key: key, Rule: "sla", QueueID: key[:2], Start: now}
			if err := s.Commit(ctx, []alert.Transition{{Key: key, Rule: "sla", QueueID: key[:2], At: now,
				From: alert.Pending, To: alert.Firing, Action: alert.ActionCreate, Reason: "test",
				Destinations: dests[:1+rng.IntN(3)], Episode: ep,
				Series: alert.SeriesState{Key: key, Rule: "sla", QueueID: key[:2], State: alert.Firing, Since: now, Episode: ep}}}); err != nil {
				t.Fatal(err)
			}
		}
		dest := dests[rng.IntN(len(dests))]
		limit := 1 + rng.IntN(4)
		var want []int64
		rows, err := s.r.QueryContext(ctx, sqlDue, dest, ns(now), limit)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		owner := fmt.Sprintf("w%d", rng.IntN(2))
		ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: owner, Destination: dest, Now: now,
			Lease: time.Duration(1+rng.IntN(10)) * time.Second, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
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
			switch rng.IntN(3) {
			case 0:
				o.Status = store.StatusSent
			case 1:
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
}
