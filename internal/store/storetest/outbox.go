package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

var outboxTests = []test{
	{"ListDeliveries/Filters", testListFilters},
	{"ListDeliveries/Limit", testListLimit},
	{"PendingCounts", testPendingCounts},
	{"NextDue", testNextDue},
	{"Refs/PutGetReplace", testRefs},
}

func list(t *testing.T, s store.Store, f store.DeliveryFilter) []int64 {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), f)
	if err != nil {
		t.Fatalf("ListDeliveries(%+v): %v", f, err)
	}
	return ids(ds)
}

func testListFilters(t *testing.T, s store.Store) {
	e1 := simple("q1_sla", at(0), "oncall", "slack")
	e2 := simple("q2_sla", at(time.Second), "oncall")
	mustCommit(t, s, e1, e2)
	ds := all(t, s) // q1→oncall, q1→slack, q2→oncall in some order per transition
	by := map[string]int64{}
	for _, d := range ds {
		by[d.Key+">"+d.Destination] = d.ID
	}
	q1o, q1s, q2o := by["q1_sla>oncall"], by["q1_sla>slack"], by["q2_sla>oncall"]
	got := claim(t, s, "w1", "slack", at(time.Minute), time.Minute, 1)
	sameIDs(t, "slack claim", ids(got), q1s)
	finish(t, s, q1s, "w1", store.Outcome{Status: store.StatusDead, At: at(time.Minute), Error: "channel_not_found"})

	desc := func(xs ...int64) []int64 { // newest first
		out := slices.Clone(xs)
		slices.Sort(out)
		slices.Reverse(out)
		return out
	}
	for name, c := range map[string]struct {
		f    store.DeliveryFilter
		want []int64
	}{
		"everything":       {store.DeliveryFilter{}, desc(q1o, q1s, q2o)},
		"dead":             {store.DeliveryFilter{Status: store.StatusDead}, desc(q1s)},
		"pending":          {store.DeliveryFilter{Status: store.StatusPending}, desc(q1o, q2o)},
		"sent":             {store.DeliveryFilter{Status: store.StatusSent}, nil},
		"oncall":           {store.DeliveryFilter{Destination: "oncall"}, desc(q1o, q2o)},
		"key q1":           {store.DeliveryFilter{Key: "q1_sla"}, desc(q1o, q1s)},
		"episode of q2":    {store.DeliveryFilter{EpisodeID: e2.Episode.ID}, desc(q2o)},
		"q1 to oncall":     {store.DeliveryFilter{Key: "q1_sla", Destination: "oncall"}, desc(q1o)},
		"dead to oncall":   {store.DeliveryFilter{Status: store.StatusDead, Destination: "oncall"}, nil},
		"unknown episode":  {store.DeliveryFilter{EpisodeID: "nope"}, nil},
		"everything, 2":    {store.DeliveryFilter{Limit: 2}, desc(q1o, q1s, q2o)[:2]},
		"pending, limit 1": {store.DeliveryFilter{Status: store.StatusPending, Limit: 1}, desc(q1o, q2o)[:1]},
	} {
		sameIDs(t, name, list(t, s, c.f), c.want...)
	}
}

func testListLimit(t *testing.T, s store.Store) {
	var ts []alert.Transition
	for i := range 105 {
		ts = append(ts, simple(fmt.Sprintf("q%03d_sla", i), at(time.Duration(i)*time.Millisecond), "oncall"))
	}
	mustCommit(t, s, ts...)
	got := list(t, s, store.DeliveryFilter{})
	if len(got) != store.DefaultLimit {
		t.Fatalf("default limit returned %d, want %d", len(got), store.DefaultLimit)
	}
	for i := 1; i < len(got); i++ {
		if got[i] >= got[i-1] {
			t.Fatalf("not newest first at %d: %v", i, got)
		}
	}
	if n := len(list(t, s, store.DeliveryFilter{Limit: 500})); n != 105 {
		t.Errorf("limit 500 returned %d, want 105", n)
	}
	if n := len(list(t, s, store.DeliveryFilter{Limit: -1})); n != store.DefaultLimit {
		t.Errorf("limit -1 returned %d, want %d", n, store.DefaultLimit)
	}
	newest := list(t, s, store.DeliveryFilter{Limit: 3})
	same(t, "limit 3", newest, got[:3])
}

func testPendingCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCommit(t, s,
		simple("q1_sla", at(0), "oncall", "slack"),
		simple("q2_sla", at(0), "oncall", "slack"),
		simple("q3_sla", at(0), "oncall", "pd"))
	// Claim one of each destination, send the oncall one and kill the pd one.
	for _, dest := range []string{"oncall", "slack", "pd"} {
		got := claim(t, s, "w1", dest, at(time.Minute), time.Minute, 1)
		if len(got) != 1 {
			t.Fatalf("claim to %s: %d rows", dest, len(got))
		}
		switch dest {
		case "oncall":
			finish(t, s, got[0].ID, "w1", sent(at(time.Minute)))
		case "pd":
			finish(t, s, got[0].ID, "w1", store.Outcome{Status: store.StatusDead, At: at(time.Minute)})
		}
	}
	c, err := s.PendingCounts(ctx)
	if err != nil {
		t.Fatalf("PendingCounts: %v", err)
	}
	same(t, "PendingCounts", c, map[string]int{"oncall": 2, "slack": 2})
}

func testNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	next := func() (time.Time, bool) {
		t.Helper()
		n, ok, err := s.NextDue(ctx)
		if err != nil {
			t.Fatalf("NextDue: %v", err)
		}
		checkUTC(t, "NextDue", n)
		return n, ok
	}
	if n, ok := next(); ok {
		t.Errorf("NextDue of an empty outbox = %v, true; want false", n)
	}
	mustCommit(t, s, simple("q1_sla", at(5*time.Minute), "oncall"))
	mustCommit(t, s, simple("q2_sla", at(time.Minute+3), "oncall"))
	if n, ok := next(); !ok || !n.Equal(at(time.Minute+3)) {
		t.Errorf("NextDue = %v, %v; want %v", n, ok, at(time.Minute+3))
	}
	got := claim(t, s, "w1", "", at(2*time.Minute), 10*time.Minute, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %d, want 1", len(got))
	}
	if n, ok := next(); !ok || !n.Equal(at(5*time.Minute)) {
		t.Errorf("NextDue with a lease until +12m = %v, %v; want the pending row at %v", n, ok, at(5*time.Minute))
	}
	got = append(got, claim(t, s, "w1", "", at(6*time.Minute), 30*time.Minute, 10)...)
	if n, ok := next(); !ok || !n.Equal(at(12*time.Minute)) {
		t.Errorf("NextDue with two leases = %v, %v; want the earlier lease end %v", n, ok, at(12*time.Minute))
	}
	finish(t, s, got[0].ID, "w1", sent(at(7*time.Minute)))
	finish(t, s, got[1].ID, "w1", store.Outcome{Status: store.StatusDead, At: at(7 * time.Minute)})
	if n, ok := next(); ok {
		t.Errorf("NextDue with only sent and dead rows = %v, true; want false", n)
	}
}

func testRefs(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetRef(ctx, "slack", "ep-1")
	wantErr(t, "GetRef(unknown)", err, store.ErrNotFound)
	r := store.Ref{Destination: "slack", EpisodeID: "ep-1", Key: "q1_sla", Value: `{"channel":"C1","ts":"1.2"}`,
		UpdatedAt: at(time.Second).In(time.FixedZone("X", -7200))}
	if err := s.PutRef(ctx, r); err != nil {
		t.Fatalf("PutRef: %v", err)
	}
	getRef := func(dest, ep string) store.Ref {
		t.Helper()
		got, err := s.GetRef(ctx, dest, ep)
		if err != nil {
			t.Fatalf("GetRef(%s, %s): %v", dest, ep, err)
		}
		checkUTC(t, "ref", got.UpdatedAt)
		got.UpdatedAt = utc(got.UpdatedAt)
		return got
	}
	want := r
	want.UpdatedAt = utc(r.UpdatedAt)
	same(t, "ref", getRef("slack", "ep-1"), want)

	r2 := store.Ref{Destination: "slack", EpisodeID: "ep-1", Key: "q1_sla", Value: `{"channel":"C1","ts":"3.4"}`,
		UpdatedAt: at(time.Minute)}
	if err := s.PutRef(ctx, r2); err != nil {
		t.Fatalf("PutRef: %v", err)
	}
	same(t, "replaced ref", getRef("slack", "ep-1"), r2)
	other := store.Ref{Destination: "webhook", EpisodeID: "ep-1", Key: "q1_sla", Value: "abc", UpdatedAt: at(time.Hour)}
	if err := s.PutRef(ctx, other); err != nil {
		t.Fatalf("PutRef: %v", err)
	}
	same(t, "slack ref after another destination's", getRef("slack", "ep-1"), r2)
	same(t, "webhook ref", getRef("webhook", "ep-1"), other)
	_, err = s.GetRef(ctx, "slack", "ep-2")
	wantErr(t, "GetRef(other episode)", err, store.ErrNotFound)
	wantErr(t, "PutRef without a destination", s.PutRef(ctx, store.Ref{EpisodeID: "ep-1"}), store.ErrInvalid)
	wantErr(t, "PutRef without an episode", s.PutRef(ctx, store.Ref{Destination: "slack"}), store.ErrInvalid)
}
