package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

var commitTests = []test{
	{"Commit/EmptyBatch", testCommitEmpty},
	{"Commit/StoresEverything", testCommitStoresEverything},
	{"Commit/NoDestinationsNoOutbox", testCommitNoDestinations},
	{"Commit/DuplicateDestinationOneRow", testCommitDuplicateDestination},
	{"Commit/AtomicOnInvalid", testCommitAtomic},
	{"Commit/CanceledContext", testCommitCanceled},
	{"Commit/SeriesReplacedByLatest", testCommitSeriesLatest},
}

func testCommitEmpty(t *testing.T, s store.Store) {
	for _, b := range [][]alert.Transition{nil, {}} {
		if err := s.Commit(t.Context(), b); err != nil {
			t.Fatalf("Commit(%v): %v", b, err)
		}
	}
	checkNothing(t, s, "after empty commits")
}

// checkNothing fails t unless s holds no series and no deliveries.
func checkNothing(t *testing.T, s store.Store, when string) {
	t.Helper()
	if ss, err := s.LoadSeries(t.Context()); err != nil || len(ss) != 0 {
		t.Errorf("%s: LoadSeries = %v, %v; want none", when, ss, err)
	}
	if ds := all(t, s); len(ds) != 0 {
		t.Errorf("%s: %d deliveries, want none", when, len(ds))
	}
	if c, err := s.PendingCounts(t.Context()); err != nil || len(c) != 0 {
		t.Errorf("%s: PendingCounts = %v, %v; want none", when, c, err)
	}
}

func testCommitStoresEverything(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := episode("q1_sla", "ep-1", at(0))
	fire := tr("q1_sla", at(0), alert.Pending, alert.Firing, alert.ActionCreate, ep, 7, "oncall", "slack")
	pend := tr("q2_sla", at(time.Second), alert.OK, alert.Pending, alert.ActionNone, nil, 1)
	mustCommit(t, s, fire, pend)

	hist, err := s.History(ctx, "q1_sla", 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(hist) != 1 {
		t.Fatalf("History: %d entries, want 1", len(hist))
	}
	same(t, "history entry", normTransition(hist[0]), normTransition(fire))
	eps, err := s.Episodes(ctx, "q1_sla", 0)
	if err != nil {
		t.Fatalf("Episodes: %v", err)
	}
	if len(eps) != 1 {
		t.Fatalf("Episodes: %d, want 1", len(eps))
	}
	same(t, "episode", *normEpisode(&eps[0]), *normEpisode(ep))

	series, err := s.LoadSeries(ctx)
	if err != nil {
		t.Fatalf("LoadSeries: %v", err)
	}
	if len(series) != 2 {
		t.Fatalf("LoadSeries: %d series, want 2", len(series))
	}
	for _, st := range series {
		want := map[string]alert.SeriesState{"q1_sla": fire.Series, "q2_sla": pend.Series}[st.Key]
		same(t, "series "+st.Key, normSeries(st), normSeries(want))
	}

	ds := all(t, s)
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want one per destination (2)", len(ds))
	}
	dests := map[string]bool{}
	for _, d := range ds {
		dests[d.Destination] = true
		checkUTC(t, "delivery times", d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.Transition.At)
		want := store.Delivery{
			ID: d.ID, Destination: d.Destination, Key: "q1_sla", EpisodeID: "ep-1", Action: alert.ActionCreate,
			Transition: fire, Status: store.StatusPending, NextAttemptAt: fire.At, CreatedAt: fire.At,
			UpdatedAt: fire.At,
		}
		same(t, "delivery to "+d.Destination, normDelivery(d), normDelivery(want))
	}
	if !dests["oncall"] || !dests["slack"] {
		t.Errorf("destinations %v, want oncall and slack", dests)
	}
	if ds[0].ID == ds[1].ID {
		t.Errorf("deliveries share id %d", ds[0].ID)
	}
	if c, err := s.PendingCounts(ctx); err != nil || c["oncall"] != 1 || c["slack"] != 1 || len(c) != 2 {
		t.Errorf("PendingCounts = %v, %v; want oncall:1 slack:1", c, err)
	}
}

func testCommitNoDestinations(t *testing.T, s store.Store) {
	ep := episode("q1_sla", "ep-1", at(0))
	held := tr("q1_sla", at(0), alert.Pending, alert.Firing, alert.ActionCreate, ep, 1)
	held.Held = "business hours"
	none := tr("q1_sla", at(time.Minute), alert.Firing, alert.Resolving, alert.ActionNone, ep, 2)
	none.Destinations = []string{}
	mustCommit(t, s, held, none)
	if ds := all(t, s); len(ds) != 0 {
		t.Errorf("%d deliveries for transitions without destinations, want none", len(ds))
	}
	hist, err := s.History(t.Context(), "q1_sla", 0)
	if err != nil || len(hist) != 2 {
		t.Fatalf("History = %d entries, %v; want 2", len(hist), err)
	}
	same(t, "held transition", normTransition(hist[1]), normTransition(held))
}

func testCommitDuplicateDestination(t *testing.T, s store.Store) {
	mustCommit(t, s, simple("q1_sla", at(0), "oncall", "oncall"))
	if ds := all(t, s); len(ds) != 1 {
		t.Errorf("%d deliveries for a destination named twice, want 1", len(ds))
	}
}

func testCommitAtomic(t *testing.T, s store.Store) {
	base := simple("q0_sla", at(0), "oncall")
	mustCommit(t, s, base)
	before := all(t, s)

	ep := episode("q2_sla", "ep-2", at(time.Minute))
	invalid := map[string]func(*alert.Transition){
		"empty key":          func(x *alert.Transition) { x.Key, x.Series.Key = "", "" },
		"zero time":          func(x *alert.Transition) { x.At = time.Time{} },
		"series key differs": func(x *alert.Transition) { x.Series.Key = "other" },
		"episode without id": func(x *alert.Transition) { x.Episode.ID = "" },
		"episode key":        func(x *alert.Transition) { x.Episode.Key = "other" },
		"NaN value":          func(x *alert.Transition) { x.Value = math.NaN() },
		"infinite last":      func(x *alert.Transition) { x.Series.LastValue = math.Inf(1) },
		"empty destination":  func(x *alert.Transition) { x.Destinations = []string{"oncall", ""} },
	}
	for name, spoil := range invalid {
		good1 := simple("q1_sla", at(time.Minute), "oncall", "slack")
		bad := tr("q2_sla", at(time.Minute), alert.Pending, alert.Firing, alert.ActionCreate, ep, 1, "oncall")
		spoil(&bad)
		good2 := simple("q3_sla", at(time.Minute), "oncall")
		err := s.Commit(t.Context(), []alert.Transition{good1, bad, good2})
		if err == nil {
			t.Errorf("%s: Commit accepted an invalid transition", name)
			continue
		}
		wantErr(t, name, err, store.ErrInvalid)
		for _, k := range []string{"q1_sla", "q2_sla", "q3_sla", ""} {
			if h, err := s.History(t.Context(), k, 0); err != nil || len(h) != 0 {
				t.Errorf("%s: History(%q) = %d entries, %v; want none", name, k, len(h), err)
			}
			if e, err := s.Episodes(t.Context(), k, 0); err != nil || len(e) != 0 {
				t.Errorf("%s: Episodes(%q) = %d, %v; want none", name, k, len(e), err)
			}
		}
		series, err := s.LoadSeries(t.Context())
		if err != nil || len(series) != 1 || series[0].Key != "q0_sla" {
			t.Errorf("%s: LoadSeries = %v, %v; want q0_sla only", name, series, err)
		}
		same(t, name+": deliveries", ids(all(t, s)), ids(before))
	}
}

func testCommitCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Commit(ctx, []alert.Transition{simple("q1_sla", at(0), "oncall")}); err == nil {
		t.Fatal("Commit with a canceled context succeeded")
	}
	checkNothing(t, s, "after a canceled commit")
}

func testCommitSeriesLatest(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := episode("q1_sla", "ep-1", at(time.Minute))
	t1 := tr("q1_sla", at(0), alert.OK, alert.Pending, alert.ActionNone, nil, 1)
	t2 := tr("q1_sla", at(time.Minute), alert.Pending, alert.Firing, alert.ActionCreate, ep, 2, "oncall")
	t3 := tr("q1_sla", at(2*time.Minute), alert.Firing, alert.Resolving, alert.ActionNone, ep, 3)
	mustCommit(t, s, t1, t2, t3)
	load := func() []alert.SeriesState {
		t.Helper()
		ss, err := s.LoadSeries(ctx)
		if err != nil {
			t.Fatalf("LoadSeries: %v", err)
		}
		return ss
	}
	if ss := load(); len(ss) != 1 {
		t.Fatalf("LoadSeries: %d series, want 1", len(ss))
	} else {
		same(t, "series after batch", normSeries(ss[0]), normSeries(t3.Series))
		if ss[0].Version != 3 {
			t.Errorf("Version = %d, want 3", ss[0].Version)
		}
	}
	closed := *ep
	closed.End = at(3 * time.Minute)
	t4 := tr("q1_sla", at(3*time.Minute), alert.Resolving, alert.OK, alert.ActionResolve, &closed, 4, "oncall")
	mustCommit(t, s, t4)
	if ss := load(); len(ss) != 0 {
		t.Errorf("LoadSeries after resolve = %v, want none (OK, episode closed)", ss)
	}
	t5 := tr("q1_sla", at(4*time.Minute), alert.OK, alert.Pending, alert.ActionNone, nil, 5)
	mustCommit(t, s, t5)
	if ss := load(); len(ss) != 1 || ss[0].Version != 5 || ss[0].State != alert.Pending {
		t.Errorf("LoadSeries after a new breach = %+v, want the pending state of version 5", ss)
	}
}
