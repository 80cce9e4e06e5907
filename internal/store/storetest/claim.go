package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

var claimTests = []test{
	{"Claim/OnlyDueRows", testClaimOnlyDue},
	{"Claim/StrictOrderPerDestinationAndKey", testClaimOrder},
	{"Claim/DeadRowsDoNotBlock", testClaimDeadDoesNotBlock},
	{"Claim/ExpiredLeaseReclaimable", testClaimExpiredLease},
	{"Claim/LimitOldestFirst", testClaimLimit},
	{"Claim/DestinationFilter", testClaimDestination},
	{"Claim/InvalidRequest", testClaimInvalid},
}

func testClaimOnlyDue(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	mustCommit(t, s, simple("q2_sla", at(10*time.Minute), "oncall"))
	ds := all(t, s)
	now := at(5 * time.Minute)
	got := claim(t, s, "w1", "", now, 30*time.Second, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %v, want only the due row %d", ids(got), ds[0].ID)
	}
	d := got[0]
	want := ds[0]
	want.Status, want.ClaimedBy, want.LeaseUntil, want.UpdatedAt = store.StatusInflight, "w1", now.Add(30*time.Second), now
	same(t, "claimed delivery", normDelivery(d), normDelivery(want))
	checkUTC(t, "claimed delivery", d.LeaseUntil, d.UpdatedAt, d.NextAttemptAt, d.CreatedAt)
	same(t, "listed after claim", normDelivery(get(t, s, d.ID)), normDelivery(want))

	sameIDs(t, "second claim inside the lease", claimIDs(t, s, "w2", "", now, 10))
	sameIDs(t, "claim after the lease, before the second is due", ids(claim(t, s, "w2", "", at(9*time.Minute), time.Hour, 10)), ds[0].ID)
	sameIDs(t, "claim when the second row is due", claimIDs(t, s, "w2", "", at(10*time.Minute), 10), ds[1].ID)

}

func testClaimOrder(t *testing.T, s store.Store) {
	// Row 1 (q1 to oncall) is retried later; row 2 (q1 to oncall) is due
	// but must wait; rows of another destination or key are independent.
	mustCommit(t, s, simple("q1_sla", at(0), "oncall", "slack"))
	mustCommit(t, s, simple("q1_sla", at(time.Minute), "oncall"), simple("q2_sla", at(time.Minute), "oncall"))
	ds := all(t, s)
	first, slack, second, other := ds[0].ID, ds[1].ID, ds[2].ID, ds[3].ID
	if ds[1].Destination != "slack" {
		first, slack = slack, first
	}

	sameIDs(t, "first claim", ids(claim(t, s, "w1", "oncall", at(0), time.Hour, 10)), first)
	// While the first is in flight, the second is not claimable.
	sameIDs(t, "claim while the first is in flight", claimIDs(t, s, "w2", "", at(2*time.Minute), 10), slack, other)
	sameIDs(t, "nothing more", claimIDs(t, s, "w2", "", at(2*time.Minute), 10))
	finish(t, s, slack, "w2", sent(at(2*time.Minute)))
	finish(t, s, other, "w2", sent(at(2*time.Minute)))
	finish(t, s, first, "w1", store.Outcome{Status: store.StatusPending, At: at(2 * time.Minute),
		NextAttemptAt: at(10 * time.Minute), Error: "HTTP 503"})
	// The first is pending but not due: the second still waits.
	sameIDs(t, "claim while the first waits to retry", claimIDs(t, s, "w2", "", at(5*time.Minute), 10))
	sameIDs(t, "the first is due again", claimIDs(t, s, "w2", "", at(10*time.Minute), 10), first)
	finish(t, s, first, "w2", sent(at(10*time.Minute)))
	sameIDs(t, "the second after the first was sent", claimIDs(t, s, "w2", "", at(10*time.Minute), 10), second)
}

func testClaimDeadDoesNotBlock(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	mustCommit(t, s, simple("q1_sla", at(time.Second), "oncall"))
	ds := all(t, s)
	sameIDs(t, "first claim", claimIDs(t, s, "w1", "", at(time.Minute), 10), ds[0].ID)
	finish(t, s, ds[0].ID, "w1", store.Outcome{Status: store.StatusDead, At: at(time.Minute), Error: "HTTP 422", Code: 422})
	sameIDs(t, "claim after the first died", claimIDs(t, s, "w1", "", at(time.Minute), 10), ds[1].ID)
}

func testClaimExpiredLease(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	mustCommit(t, s, simple("q1_sla", at(time.Second), "oncall"))
	ds := all(t, s)
	got := claim(t, s, "w1", "", at(0), time.Minute, 10)
	sameIDs(t, "w1 claim", ids(got), ds[0].ID)
	sameIDs(t, "w2 claim inside the lease", claimIDs(t, s, "w2", "", at(59*time.Second), 10))
	got = claim(t, s, "w2", "", at(time.Minute), 2*time.Minute, 10)
	sameIDs(t, "w2 claim when the lease ends", ids(got), ds[0].ID)
	if len(got) == 1 {
		if got[0].ClaimedBy != "w2" || !got[0].LeaseUntil.Equal(at(3*time.Minute)) {
			t.Errorf("reclaimed by %q until %v, want w2 until %v", got[0].ClaimedBy, got[0].LeaseUntil, at(3*time.Minute))
		}
	}
	wantErr(t, "w1 finishing a reclaimed delivery", s.FinishDelivery(t.Context(), ds[0].ID, "w1", sent(at(time.Minute))), store.ErrLeaseLost)
	finish(t, s, ds[0].ID, "w2", sent(at(time.Minute)))
	if d := get(t, s, ds[0].ID); d.Status != store.StatusSent || d.Attempts != 1 {
		t.Errorf("after w2 finished: status %s, attempts %d; want sent, 1", d.Status, d.Attempts)
	}
}

func testClaimLimit(t *testing.T, s store.Store) {
	var ts []alert.Transition
	for i := range 10 {
		ts = append(ts, simple(fmt.Sprintf("q%d_sla", i), at(time.Duration(i)*time.Second), "oncall"))
	}
	mustCommit(t, s, ts...)
	ds := all(t, s)
	sameIDs(t, "claim of 3", claimIDs(t, s, "w1", "", at(time.Hour), 3), ds[0].ID, ds[1].ID, ds[2].ID)
	sameIDs(t, "claim of 1", claimIDs(t, s, "w1", "", at(time.Hour), 1), ds[3].ID)
	sameIDs(t, "claim with the default limit", claimIDs(t, s, "w1", "", at(time.Hour), 0), ids(ds[4:])...)
}

func testClaimDestination(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall", "slack"), simple("q2_sla", at(0), "slack"))
	var slack []int64
	for _, d := range all(t, s) {
		if d.Destination == "slack" {
			slack = append(slack, d.ID)
		}
	}
	got := claim(t, s, "w1", "slack", at(time.Minute), time.Minute, 10)
	sameIDs(t, "slack claim", ids(got), slack...)
	for _, d := range got {
		if d.Destination != "slack" {
			t.Errorf("claimed a delivery to %s", d.Destination)
		}
	}
	sameIDs(t, "unknown destination", claimIDs(t, s, "w1", "pagerduty", at(time.Minute), 10))
	if got := claimIDs(t, s, "w1", "oncall", at(time.Minute), 10); len(got) != 1 {
		t.Errorf("oncall claim %v, want one", got)
	}
}

func testClaimInvalid(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	for name, req := range map[string]store.ClaimRequest{
		"no owner":   {Now: at(time.Minute), Lease: time.Minute, Limit: 1},
		"zero now":   {Owner: "w1", Lease: time.Minute, Limit: 1},
		"zero lease": {Owner: "w1", Now: at(time.Minute), Limit: 1},
	} {
		_, err := s.ClaimDeliveries(t.Context(), req)
		wantErr(t, name, err, store.ErrInvalid)
	}
	if d := all(t, s)[0]; d.Status != store.StatusPending {
		t.Errorf("status %s after refused claims, want pending", d.Status)
	}
}
