package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

// oncallRounds commits rounds transitions of each of keys keys owed to
// "oncall", one round per commit, on the keys the backlog of "down" uses.
func oncallRounds(t *testing.T, s *Store, rounds, keys int) {
	t.Helper()
	for r := range rounds {
		ts := storetest.BenchBatch(keys, int64(2000+r))
		for i := range ts {
			ts[i].Key = fmt.Sprintf("queue-%04d_sla_breach", i*7)
			ts[i].Series.Key = ts[i].Key
			ts[i].Episode.Key = ts[i].Key
			ts[i].Episode.ID = fmt.Sprintf("%s@%d", ts[i].Key, r)
			ts[i].Series.Episode = ts[i].Episode
			ts[i].Destinations = []string{"oncall"}
		}
		if err := s.Commit(t.Context(), ts); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClaimOfOneDestinationIgnoresOthers drives the rows of "oncall" through
// the same claims, retries and sends on two stores, one where "down" owes
// 5,000 rows on the same keys (older and newer than those of "oncall", the
// oldest of each key waiting for a retry and the rest behind them), one
// where nothing else is owed, and checks that every claim takes the same
// deliveries, oldest first, within its limit and in order per key.
func TestClaimOfOneDestinationIgnoresOthers(t *testing.T) {
	now := storetest.Base.Add(24 * time.Hour)
	busy := openTest(t, pgtest.DSN(t))
	defer busy.Close()
	quiet := openTest(t, pgtest.DSN(t))
	defer quiet.Close()
	downBacklog(t, busy, 5000, now)
	oncallRounds(t, busy, 4, 6)
	oncallRounds(t, quiet, 4, 6)
	due := storetest.BenchBatch(500, 99) // newer rows of "down", due at once
	for i := range due {
		due[i].Destinations = []string{"down"}
	}
	if err := busy.Commit(t.Context(), due); err != nil {
		t.Fatal(err)
	}
	analyze(t, busy)

	claim := func(s *Store, at time.Time) []store.Delivery {
		t.Helper()
		ds, err := s.ClaimDeliveries(t.Context(), store.ClaimRequest{Owner: "w", Destination: "oncall", Now: at,
			Lease: time.Minute, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	type item struct{ Key, Episode string }
	items := func(ds []store.Delivery) []item {
		out := []item{}
		for _, d := range ds {
			out = append(out, item{d.Key, d.EpisodeID})
		}
		return out
	}
	claimed := map[string][]string{} // key → episodes claimed, in order
	sent := 0
	for step := 0; sent < 24; step++ {
		if step > 100 {
			t.Fatalf("%d of 24 deliveries sent after %d claims", sent, step)
		}
		at := now.Add(time.Duration(step) * time.Second)
		got, want := claim(busy, at), claim(quiet, at)
		if !slices.Equal(items(got), items(want)) {
			t.Fatalf("claim %d with the backlog of down took %v, without %v", step, items(got), items(want))
		}
		if len(got) == 0 || len(got) > 4 {
			t.Fatalf("claim %d took %d deliveries, want 1 to 4 (6 keys owe)", step, len(got))
		}
		for i, d := range got {
			if d.Destination != "oncall" || i > 0 && d.ID <= got[i-1].ID {
				t.Fatalf("claim %d: %+v", step, items(got))
			}
			if eps := claimed[d.Key]; len(eps) > 0 && eps[len(eps)-1] > d.EpisodeID {
				t.Fatalf("claim %d took %s after %s", step, d.EpisodeID, eps[len(eps)-1])
			}
			claimed[d.Key] = append(claimed[d.Key], d.EpisodeID)
		}
		// The oldest is retried a second later; the others are sent.
		for _, pair := range []struct {
			s  *Store
			ds []store.Delivery
		}{{busy, got}, {quiet, want}} {
			for i, d := range pair.ds {
				o := store.Outcome{Status: store.StatusSent, At: at}
				if i == 0 && step%2 == 0 {
					o = store.Outcome{Status: store.StatusPending, At: at, NextAttemptAt: at.Add(time.Second), Error: "retry"}
				}
				if err := pair.s.FinishDelivery(t.Context(), d.ID, "w", o); err != nil {
					t.Fatal(err)
				}
				if o.Status == store.StatusSent && pair.s == busy {
					sent++
				}
			}
		}
	}
}

// TestClaimPlanReadsOnlyItsDestination explains a claim for "oncall", which
// owes 24 rows, while "down" owes 5,000 older ones, both as ClaimDeliveries
// has it planned (for its arguments) and planned once for any destination
// (a generic plan; the statistics know both destinations), and
// checks that the plan walks outbox_claim and reads no more rows than
// "oncall" owes, plus one probe of each for an older row of its key, and
// two reads (to lock and to update) of each row it claims.
func TestClaimPlanReadsOnlyItsDestination(t *testing.T) {
	now := storetest.Base.Add(24 * time.Hour)
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	downBacklog(t, s, 5000, now)
	oncallRounds(t, s, 4, 6)
	analyze(t, s)
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			plan := explainClaim(t, s, mode, sqlClaim, "oncall", now, claimWindow(10))
			scans, read := outboxScans(plan)
			if !slices.Contains(scans, "Index Scan outbox_claim") || slices.Contains(scans, "Index Scan outbox_open_id") ||
				read > 24+24+2*10 {
				b, _ := json.MarshalIndent(plan, "", "  ")
				t.Fatalf("claim scans %v and reads %d rows, want a scan of outbox_claim and at most 68 rows read:\n%s",
					scans, read, b)
			}
		})
	}
}

// TestClaimHeadsPlanReadsOneRowPerKey explains sqlClaimHeads for "down",
// which owes 5,000 rows over 1,000 keys, none due, planned for its
// arguments and once for any destination, and checks that it reads one row
// per key (the head) and not the rows behind the heads.
func TestClaimHeadsPlanReadsOneRowPerKey(t *testing.T) {
	now := storetest.Base.Add(24 * time.Hour)
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	downBacklog(t, s, 5000, now)
	oncallRounds(t, s, 4, 6)
	analyze(t, s)
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			plan := explainClaim(t, s, mode, sqlClaimHeads, "down", now)
			scans, read := outboxScans(plan)
			if read < 1000 || read > 1010 {
				b, _ := json.MarshalIndent(plan, "", "  ")
				t.Fatalf("claim of the heads scans %v and reads %d rows, want 1,000 (one per key; 5,000 owed):\n%s",
					scans, read, b)
			}
		})
	}
}

// outboxScans returns the scans of table outbox in plan, as node type and
// index, and how many rows they returned or filtered out over all their
// loops.
func outboxScans(plan map[string]any) (scans []string, read int) {
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if rel, _ := n["Relation Name"].(string); rel == "outbox" && n["Node Type"] != "ModifyTable" {
			idx, _ := n["Index Name"].(string)
			scans = append(scans, fmt.Sprint(n["Node Type"], " ", idx))
			rows, _ := n["Actual Rows"].(float64)
			removed, _ := n["Rows Removed by Filter"].(float64)
			loops, _ := n["Actual Loops"].(float64)
			read += int((rows + removed) * loops)
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			walk(k.(map[string]any))
		}
	}
	walk(plan)
	return scans, read
}

// explainClaim prepares claim statement q, runs a claim of up to 10 rows of
// dest at now (with more, the statement's further arguments) under EXPLAIN
// ANALYZE with plan_cache_mode set to mode, rolls it back and returns the
// plan's top node. ClaimDeliveries has sqlClaim planned for its arguments,
// as force_custom_plan does.
func explainClaim(t *testing.T, s *Store, mode, q, dest string, now time.Time, more ...int) map[string]any {
	t.Helper()
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `PREPARE explain_claim AS `+q); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `DEALLOCATE explain_claim`)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
		t.Fatal(err)
	}
	args := fmt.Sprintf(`'w', %d, %d, 10, '%s'`, now.Add(time.Minute).UnixNano(), now.UnixNano(), dest)
	for _, m := range more {
		args += fmt.Sprintf(", %d", m)
	}
	var out []struct{ Plan map[string]any }
	err = tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explain_claim(`+args+`)`).Scan(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("EXPLAIN returned %d plans", len(out))
	}
	return out[0].Plan
}

// TestNextDuePlanReadsOneEntry explains NextDue while "down" owes 5,000
// rows and checks that it reads the first entry of outbox_due_at instead
// of the owed rows.
func TestNextDuePlanReadsOneEntry(t *testing.T) {
	now := storetest.Base.Add(24 * time.Hour)
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	downBacklog(t, s, 5000, now)
	var out []struct{ Plan map[string]any }
	if err := s.pool.QueryRow(t.Context(), `EXPLAIN (ANALYZE, FORMAT JSON) `+sqlNextDue).Scan(&out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("EXPLAIN returned %d plans", len(out))
	}
	scans, read := outboxScans(out[0].Plan)
	if len(scans) != 1 || !strings.HasSuffix(scans[0], " outbox_due_at") || read > 1 {
		b, _ := json.MarshalIndent(out[0].Plan, "", "  ")
		t.Fatalf("NextDue scans %v and reads %d rows, want one entry of outbox_due_at:\n%s", scans, read, b)
	}
}
