package storetest

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

var finishTests = []test{
	{"Finish/Sent", testFinishSent},
	{"Finish/RetryThenSent", testFinishRetry},
	{"Finish/Dead", testFinishDead},
	{"Finish/LeaseLost", testFinishLeaseLost},
	{"Finish/ExpiredLeaseNotReclaimed", testFinishExpiredNotReclaimed},
	{"Finish/InvalidOutcome", testFinishInvalid},
	{"Retry/DeadBecomesPending", testRetryDead},
	{"Retry/Errors", testRetryErrors},
	{"Attempts/UnknownAndEmpty", testAttemptsUnknown},
}

// claimOne commits one delivery and claims it for w1 at Base+1m.
func claimOne(t *testing.T, s store.Store) store.Delivery {
	t.Helper()
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	ds := claim(t, s, "w1", "", at(time.Minute), time.Minute, 1)
	if len(ds) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(ds))
	}
	return ds[0]
}

func attempts(t *testing.T, s store.Store, id int64) []store.Attempt {
	t.Helper()
	as, err := s.Attempts(t.Context(), id)
	if err != nil {
		t.Fatalf("Attempts(%d): %v", id, err)
	}
	for i := range as {
		checkUTC(t, "attempt", as[i].At)
		as[i].At = utc(as[i].At)
	}
	return as
}

func testFinishSent(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	o := sent(at(time.Minute + 250*time.Millisecond))
	finish(t, s, d.ID, "w1", o)
	want := d
	want.Status, want.Attempts, want.ClaimedBy, want.LeaseUntil = store.StatusSent, 1, "", time.Time{}
	want.UpdatedAt, want.SentAt = o.At, o.At
	got := get(t, s, d.ID)
	same(t, "sent delivery", normDelivery(got), normDelivery(want))
	checkUTC(t, "sent delivery", got.SentAt, got.UpdatedAt)
	same(t, "attempts", attempts(t, s, d.ID), []store.Attempt{{
		DeliveryID: d.ID, At: o.At, Status: store.StatusSent, Code: 202, Duration: 42 * time.Millisecond,
	}})
	if c, err := s.PendingCounts(t.Context()); err != nil || len(c) != 0 {
		t.Errorf("PendingCounts = %v, %v; want none", c, err)
	}
	sameIDs(t, "claim after sent", claimIDs(t, s, "w2", "", at(time.Hour), 10))
}

func testFinishRetry(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	o1 := store.Outcome{Status: store.StatusPending, At: at(61 * time.Second), NextAttemptAt: at(5 * time.Minute),
		Error: "HTTP 503: upstream unavailable", Code: 503, Duration: 3 * time.Second}
	finish(t, s, d.ID, "w1", o1)
	got := get(t, s, d.ID)
	want := d
	want.Status, want.Attempts, want.ClaimedBy, want.LeaseUntil = store.StatusPending, 1, "", time.Time{}
	want.UpdatedAt, want.NextAttemptAt, want.LastError = o1.At, o1.NextAttemptAt, o1.Error
	same(t, "delivery to retry", normDelivery(got), normDelivery(want))

	sameIDs(t, "claim before the retry time", claimIDs(t, s, "w2", "", at(5*time.Minute-1), 10))
	sameIDs(t, "claim at the retry time", claimIDs(t, s, "w2", "", at(5*time.Minute), 10), d.ID)
	o2 := store.Outcome{Status: store.StatusSent, At: at(5*time.Minute + 1), Code: 202, Duration: time.Millisecond}
	finish(t, s, d.ID, "w2", o2)
	got = get(t, s, d.ID)
	if got.Status != store.StatusSent || got.Attempts != 2 || got.LastError != o1.Error || !got.SentAt.Equal(o2.At) {
		t.Errorf("after the second attempt: status %s, attempts %d, last error %q, sent at %v; want sent, 2, %q, %v",
			got.Status, got.Attempts, got.LastError, got.SentAt, o1.Error, o2.At)
	}
	same(t, "attempts", attempts(t, s, d.ID), []store.Attempt{
		{DeliveryID: d.ID, At: o1.At, Status: store.StatusPending, Error: o1.Error, Code: 503, Duration: 3 * time.Second},
		{DeliveryID: d.ID, At: o2.At, Status: store.StatusSent, Code: 202, Duration: time.Millisecond},
	})
}

func testFinishDead(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	o := store.Outcome{Status: store.StatusDead, At: at(2 * time.Minute), Error: "HTTP 422: message too long", Code: 422}
	finish(t, s, d.ID, "w1", o)
	got := get(t, s, d.ID)
	if got.Status != store.StatusDead || got.Attempts != 1 || got.LastError != o.Error || got.ClaimedBy != "" ||
		!got.LeaseUntil.IsZero() || !got.SentAt.IsZero() || !got.UpdatedAt.Equal(o.At) {
		t.Errorf("dead delivery %+v", got)
	}
	sameIDs(t, "claim of a dead delivery", claimIDs(t, s, "w1", "", at(time.Hour), 10))
	if as := attempts(t, s, d.ID); len(as) != 1 || as[0].Status != store.StatusDead || as[0].Code != 422 {
		t.Errorf("attempts %+v, want one dead attempt with code 422", as)
	}
	if c, err := s.PendingCounts(t.Context()); err != nil || len(c) != 0 {
		t.Errorf("PendingCounts = %v, %v; want none", c, err)
	}
}

func testFinishLeaseLost(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := claimOne(t, s)
	mustCommit(t, s, simple("q2_sla", at(time.Hour), "oncall"))
	pending := all(t, s)[1]
	wantErr(t, "wrong owner", s.FinishDelivery(ctx, d.ID, "w2", sent(at(time.Minute))), store.ErrLeaseLost)
	if got := get(t, s, d.ID); got.Status != store.StatusInflight || got.Attempts != 0 || got.ClaimedBy != "w1" {
		t.Errorf("a refused finish changed the delivery: %+v", got)
	}
	if as := attempts(t, s, d.ID); len(as) != 0 {
		t.Errorf("a refused finish was logged: %+v", as)
	}
	finish(t, s, d.ID, "w1", sent(at(time.Minute)))
	wantErr(t, "finishing twice", s.FinishDelivery(ctx, d.ID, "w1", sent(at(time.Minute))), store.ErrLeaseLost)
	wantErr(t, "finishing an unclaimed delivery", s.FinishDelivery(ctx, pending.ID, "w1", sent(at(time.Minute))), store.ErrLeaseLost)
	wantErr(t, "unknown id", s.FinishDelivery(ctx, pending.ID+1000, "w1", sent(at(time.Minute))), store.ErrNotFound)
	if as := attempts(t, s, d.ID); len(as) != 1 {
		t.Errorf("%d attempts logged, want 1", len(as))
	}
}

func testFinishExpiredNotReclaimed(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	finish(t, s, d.ID, "w1", sent(at(time.Hour)))
	if got := get(t, s, d.ID); got.Status != store.StatusSent {
		t.Errorf("status %s, want sent", got.Status)
	}
}

func testFinishInvalid(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	for name, o := range map[string]store.Outcome{
		"inflight status":     {Status: store.StatusInflight, At: at(time.Minute)},
		"empty status":        {At: at(time.Minute)},
		"pending, no retry":   {Status: store.StatusPending, At: at(time.Minute)},
		"sent without a time": {Status: store.StatusSent},
	} {
		wantErr(t, name, s.FinishDelivery(t.Context(), d.ID, "w1", o), store.ErrInvalid)
	}
	if got := get(t, s, d.ID); got.Status != store.StatusInflight || got.Attempts != 0 {
		t.Errorf("refused outcomes changed the delivery: %+v", got)
	}
}

func testRetryDead(t *testing.T, s store.Store) {
	d := claimOne(t, s)
	finish(t, s, d.ID, "w1", store.Outcome{Status: store.StatusDead, At: at(2 * time.Minute), Error: "HTTP 401"})
	now := at(time.Hour + 7)
	if err := s.RetryDelivery(t.Context(), d.ID, now); err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	got := get(t, s, d.ID)
	if got.Status != store.StatusPending || !got.NextAttemptAt.Equal(now) || !got.UpdatedAt.Equal(now) ||
		got.Attempts != 1 || got.LastError != "HTTP 401" || got.ClaimedBy != "" {
		t.Errorf("retried delivery %+v; want pending due at %v, 1 attempt, last error kept", got, now)
	}
	if n, ok, err := s.NextDue(t.Context()); err != nil || !ok || !n.Equal(now) {
		t.Errorf("NextDue = %v, %v, %v; want %v", n, ok, err, now)
	}
	sameIDs(t, "claim just before", claimIDs(t, s, "w2", "", now.Add(-1), 10))
	sameIDs(t, "claim at now", claimIDs(t, s, "w2", "", now, 10), d.ID)
}

func testRetryErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := claimOne(t, s)
	wantErr(t, "retry in flight", s.RetryDelivery(ctx, d.ID, at(time.Hour)), store.ErrConflict)
	finish(t, s, d.ID, "w1", sent(at(time.Minute)))
	wantErr(t, "retry sent", s.RetryDelivery(ctx, d.ID, at(time.Hour)), store.ErrConflict)
	mustCommit(t, s, simple("q2_sla", at(0), "oncall"))
	pending := all(t, s)[1]
	wantErr(t, "retry pending", s.RetryDelivery(ctx, pending.ID, at(time.Hour)), store.ErrConflict)
	wantErr(t, "retry unknown", s.RetryDelivery(ctx, pending.ID+1000, at(time.Hour)), store.ErrNotFound)
	wantErr(t, "retry at the zero time", s.RetryDelivery(ctx, d.ID, time.Time{}), store.ErrInvalid)
	if got := get(t, s, d.ID); got.Status != store.StatusSent {
		t.Errorf("a refused retry changed the delivery: %+v", got)
	}
}

func testAttemptsUnknown(t *testing.T, s store.Store) {
	_, err := s.Attempts(t.Context(), 12345)
	wantErr(t, "Attempts(unknown)", err, store.ErrNotFound)
	mustCommit(t, s, simple("q1_sla", at(0), "oncall"))
	d := all(t, s)[0]
	if as, err := s.Attempts(t.Context(), d.ID); err != nil || len(as) != 0 {
		t.Errorf("Attempts of a new delivery = %v, %v; want none and no error", as, err)
	}
}
