package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

var readTests = []test{
	{"LoadSeries/RoundTripsEveryField", testLoadRoundTrip},
	{"LoadSeries/OmitsSettledSeries", testLoadFilter},
	{"LoadSeries/SeriesEpisodeKeptApart", testLoadSeriesEpisode},
	{"Episodes/NewestFirstWithLimit", testEpisodesOrder},
	{"Episodes/UpdatedByLaterTransitions", testEpisodesUpdated},
	{"History/NewestFirstWithLimit", testHistoryOrder},
}

func testLoadRoundTrip(t *testing.T, s store.Store) {
	cet := time.FixedZone("CET", 3600)
	ep := episode("q1_sla", "ep-1", at(0).In(cet))
	ep.Worst, ep.WorstAt, ep.Priority = 12.5, at(90*time.Second+1).In(cet), alert.P1
	x := tr("q1_sla", at(2*time.Minute).In(cet), alert.Firing, alert.Resolving, alert.ActionNone, ep, 42)
	st := &x.Series
	st.Since = at(2 * time.Minute).In(cet)
	st.PendingSince = at(-time.Minute + 1)
	st.ClearSince = at(2*time.Minute + 999)
	st.Level, st.Priority, st.LastValue = 2, alert.P1, 83.333333333333
	st.LastSampleAt = at(119*time.Second + 123456789)
	st.Stale, st.Flapping = true, true
	st.Flaps = []time.Time{at(-3 * time.Minute).In(cet), at(-2*time.Minute + 1), at(time.Second + 2)}
	st.Held = "silence s-1"
	mustCommit(t, s, x)

	got, err := s.LoadSeries(t.Context())
	if err != nil {
		t.Fatalf("LoadSeries: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("LoadSeries: %d series, want 1", len(got))
	}
	g := got[0]
	same(t, "series", normSeries(g), normSeries(*st))
	checkUTC(t, "series", g.Since, g.PendingSince, g.ClearSince, g.LastSampleAt)
	checkUTC(t, "flaps", g.Flaps...)
	if g.Episode == nil {
		t.Fatal("series episode lost")
	}
	checkUTC(t, "series episode", g.Episode.Start, g.Episode.WorstAt)
	if !g.PendingSince.Equal(at(-time.Minute+1)) || !g.LastSampleAt.Equal(at(119*time.Second+123456789)) {
		t.Errorf("nanoseconds lost: pending since %v, last sample %v", g.PendingSince, g.LastSampleAt)
	}
}

func testLoadFilter(t *testing.T, s store.Store) {
	openEp := func(k string) *alert.Episode { return episode(k, "ep-"+k, at(0)) }
	closedEp := func(k string) *alert.Episode {
		e := episode(k, "ep-"+k, at(0))
		e.End = at(time.Minute)
		return e
	}
	ts := []alert.Transition{
		tr("a_ok_closed", at(time.Minute), alert.Resolving, alert.OK, alert.ActionResolve, closedEp("a_ok_closed"), 4),
		tr("b_ok_plain", at(time.Minute), alert.Pending, alert.OK, alert.ActionNone, nil, 2),
		tr("c_ok_open", at(time.Minute), alert.Resolving, alert.OK, alert.ActionNone, openEp("c_ok_open"), 4),
		tr("d_pending", at(time.Minute), alert.OK, alert.Pending, alert.ActionNone, nil, 1),
		tr("e_firing", at(time.Minute), alert.Pending, alert.Firing, alert.ActionCreate, openEp("e_firing"), 2),
		tr("f_resolving", at(time.Minute), alert.Firing, alert.Resolving, alert.ActionNone, openEp("f_resolving"), 3),
	}
	mustCommit(t, s, ts...)
	got, err := s.LoadSeries(t.Context())
	if err != nil {
		t.Fatalf("LoadSeries: %v", err)
	}
	var keys []string
	for _, st := range got {
		keys = append(keys, st.Key)
	}
	slices.Sort(keys)
	same(t, "loaded keys", keys, []string{"c_ok_open", "d_pending", "e_firing", "f_resolving"})
}

// testLoadSeriesEpisode checks that a series' own episode comes back as
// committed even when the transition carries another or another version.
func testLoadSeriesEpisode(t *testing.T, s store.Store) {
	ctx := t.Context()
	oldEp := episode("q1_sla", "ep-old", at(0))
	oldEp.End = at(time.Minute)
	newEp := episode("q1_sla", "ep-new", at(2*time.Minute))
	a := tr("q1_sla", at(2*time.Minute), alert.Pending, alert.Firing, alert.ActionCreate, oldEp, 5)
	a.Series.Episode = newEp
	b := tr("q2_sla", at(2*time.Minute), alert.Pending, alert.Firing, alert.ActionNone, nil, 1)
	b.Series.Episode = episode("q2_sla", "ep-b", at(time.Minute))
	c := tr("q3_sla", at(2*time.Minute), alert.Firing, alert.Firing, alert.ActionUpdate, episode("q3_sla", "ep-c", at(0)), 3)
	c.Series.Episode.Worst = 40 // the transition's copy says 71.25
	mustCommit(t, s, a, b, c)

	got := loadSeries(t, s)
	if len(got) != 3 {
		t.Fatalf("LoadSeries = %d series; want 3", len(got))
	}
	for i, want := range []alert.Transition{a, b, c} {
		same(t, "series "+want.Key, normSeries(got[i]), normSeries(want.Series))
	}
	for key, want := range map[string]*alert.Episode{"q1_sla": oldEp, "q2_sla": b.Series.Episode, "q3_sla": c.Episode} {
		eps, err := s.Episodes(ctx, key, 0)
		if err != nil || len(eps) != 1 {
			t.Fatalf("Episodes(%s) = %v, %v; want one", key, eps, err)
		}
		same(t, "episode of "+key, *normEpisode(&eps[0]), *normEpisode(want))
	}
}

// commitEpisode commits the create and resolve of one episode of key.
func commitEpisode(t *testing.T, s store.Store, key, id string, start time.Time, version int64) *alert.Episode {
	t.Helper()
	ep := episode(key, id, start)
	fire := tr(key, start, alert.Pending, alert.Firing, alert.ActionCreate, ep, version)
	closed := *ep
	closed.End = start.Add(10 * time.Minute)
	res := tr(key, closed.End, alert.Resolving, alert.OK, alert.ActionResolve, &closed, version+1)
	mustCommit(t, s, fire, res)
	return &closed
}

func testEpisodesOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []alert.Episode
	for i := range 3 {
		e := commitEpisode(t, s, "q1_sla", fmt.Sprintf("ep-%d", i), at(time.Duration(i)*time.Hour), int64(2*i+1))
		want = append([]alert.Episode{*normEpisode(e)}, want...)
	}
	commitEpisode(t, s, "q2_sla", "other", at(5*time.Hour), 1)
	for _, limit := range []int{0, -1, 3, 10} {
		got, err := s.Episodes(ctx, "q1_sla", limit)
		if err != nil {
			t.Fatalf("Episodes(limit %d): %v", limit, err)
		}
		for i := range got {
			got[i] = *normEpisode(&got[i])
		}
		same(t, fmt.Sprintf("Episodes(limit %d)", limit), got, want)
	}
	got, err := s.Episodes(ctx, "q1_sla", 2)
	if err != nil || len(got) != 2 || got[0].ID != "ep-2" || got[1].ID != "ep-1" {
		t.Errorf("Episodes(limit 2) = %v, %v; want ep-2, ep-1", got, err)
	}
	if got, err := s.Episodes(ctx, "unknown", 0); err != nil || len(got) != 0 {
		t.Errorf("Episodes(unknown) = %v, %v; want none and no error", got, err)
	}
}

func testEpisodesUpdated(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := episode("q1_sla", "ep-1", at(0))
	mustCommit(t, s, tr("q1_sla", at(0), alert.Pending, alert.Firing, alert.ActionCreate, ep, 1, "oncall"))

	worse := *ep
	worse.Worst, worse.WorstAt, worse.Priority = 40.5, at(time.Minute+5), alert.P1
	upd := tr("q1_sla", at(time.Minute), alert.Firing, alert.Firing, alert.ActionUpdate, &worse, 2, "oncall")
	mustCommit(t, s, upd)
	got, err := s.Episodes(ctx, "q1_sla", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Episodes = %v, %v; want one", got, err)
	}
	same(t, "episode after update", *normEpisode(&got[0]), *normEpisode(&worse))

	// Two changes of the same episode in one batch: the later one wins.
	clearing := worse
	closed := worse
	closed.End = at(5*time.Minute + 3)
	mustCommit(t, s,
		tr("q1_sla", at(4*time.Minute), alert.Firing, alert.Resolving, alert.ActionNone, &clearing, 3),
		tr("q1_sla", closed.End, alert.Resolving, alert.OK, alert.ActionResolve, &closed, 4, "oncall"))
	got, err = s.Episodes(ctx, "q1_sla", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Episodes = %v, %v; want one", got, err)
	}
	same(t, "episode after resolve", *normEpisode(&got[0]), *normEpisode(&closed))
	if got[0].Open() {
		t.Error("resolved episode is still open")
	}
	checkUTC(t, "episode", got[0].Start, got[0].End, got[0].WorstAt)
}

func testHistoryOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := episode("q1_sla", "ep-1", at(time.Minute))
	ts := []alert.Transition{
		tr("q1_sla", at(0), alert.OK, alert.Pending, alert.ActionNone, nil, 1),
		tr("q1_sla", at(time.Minute), alert.Pending, alert.Firing, alert.ActionCreate, ep, 2, "oncall"),
		tr("q1_sla", at(2*time.Minute), alert.Firing, alert.Firing, alert.ActionUpdate, ep, 3, "oncall"),
	}
	mustCommit(t, s, ts[:2]...)
	mustCommit(t, s, ts[2], tr("q2_sla", at(time.Hour), alert.OK, alert.Pending, alert.ActionNone, nil, 1))
	// Two transitions at the same instant: the one committed later is newer.
	same1 := tr("q1_sla", at(3*time.Minute), alert.Firing, alert.Resolving, alert.ActionNone, ep, 4)
	same2 := tr("q1_sla", at(3*time.Minute), alert.Resolving, alert.Firing, alert.ActionNone, ep, 5)
	mustCommit(t, s, same1, same2)
	ts = append(ts, same1, same2)

	var want []alert.Transition
	for _, x := range slices.Backward(ts) {
		want = append(want, normTransition(x))
	}
	for _, limit := range []int{0, -1, 5, 100} {
		got, err := s.History(ctx, "q1_sla", limit)
		if err != nil {
			t.Fatalf("History(limit %d): %v", limit, err)
		}
		for i := range got {
			checkUTC(t, "history", got[i].At)
			got[i] = normTransition(got[i])
		}
		same(t, fmt.Sprintf("History(limit %d)", limit), got, want)
	}
	got, err := s.History(ctx, "q1_sla", 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("History(limit 2) = %d entries, %v; want 2", len(got), err)
	}
	same(t, "History(limit 2)", []alert.Transition{normTransition(got[0]), normTransition(got[1])}, want[:2])
	if got, err := s.History(ctx, "unknown", 0); err != nil || len(got) != 0 {
		t.Errorf("History(unknown) = %v, %v; want none and no error", got, err)
	}
}
