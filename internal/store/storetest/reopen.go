package storetest

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// RunReopen checks that committed state survives closing and reopening a
// store. open(t, name) must open the database called name, creating it empty
// the first time and reopening the same one on later calls within t (an
// implementation maps name to a file, schema or database of its own). The
// suite closes every store it opens.
func RunReopen(t *testing.T, open func(t *testing.T, name string) store.Store) {
	t.Run("Reopen/CommittedStateSurvives", func(t *testing.T) { testReopen(t, open) })
}

func testReopen(t *testing.T, open func(t *testing.T, name string) store.Store) {
	ctx := t.Context()
	s := open(t, "reopen")
	ep := episode("q1_sla", "ep-1", at(0))
	fire := tr("q1_sla", at(0), alert.Pending, alert.Firing, alert.ActionCreate, ep, 2, "oncall", "slack")
	mustCommit(t, s, fire, simple("q2_sla", at(time.Second), "oncall"))
	ds := all(t, s)
	got := claim(t, s, "w1", "", at(time.Minute), time.Minute, 2)
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	finish(t, s, got[0].ID, "w1", sent(at(time.Minute)))
	finish(t, s, got[1].ID, "w1", store.Outcome{Status: store.StatusDead, At: at(time.Minute), Error: "gone"})
	ref := store.Ref{Destination: "slack", EpisodeID: "ep-1", Key: "q1_sla", Value: "C1/1.2", UpdatedAt: at(time.Minute)}
	if err := s.PutRef(ctx, ref); err != nil {
		t.Fatalf("PutRef: %v", err)
	}
	before := all(t, s)
	wantSeries := loadSeries(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, "reopen")
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	after := all(t, s)
	if len(after) != len(before) {
		t.Fatalf("%d deliveries after reopening, want %d", len(after), len(before))
	}
	for i := range after {
		same(t, "delivery after reopening", normDelivery(after[i]), normDelivery(before[i]))
	}
	series := loadSeries(t, s)
	if len(series) != len(wantSeries) || len(series) == 0 {
		t.Fatalf("LoadSeries after reopening = %d series; want %d", len(series), len(wantSeries))
	}
	for i := range series {
		same(t, "series after reopening", normSeries(series[i]), normSeries(wantSeries[i]))
	}
	if h, err := s.History(ctx, "q1_sla", 0); err != nil || len(h) != 1 {
		t.Errorf("History after reopening = %d entries, %v; want 1", len(h), err)
	}
	if e, err := s.Episodes(ctx, "q1_sla", 0); err != nil || len(e) != 1 || e[0].ID != "ep-1" {
		t.Errorf("Episodes after reopening = %v, %v; want ep-1", e, err)
	}
	if as, err := s.Attempts(ctx, got[1].ID); err != nil || len(as) != 1 || as[0].Error != "gone" {
		t.Errorf("Attempts after reopening = %v, %v; want the dead attempt", as, err)
	}
	if r, err := s.GetRef(ctx, "slack", "ep-1"); err != nil || r.Value != ref.Value {
		t.Errorf("GetRef after reopening = %+v, %v; want %q", r, err, ref.Value)
	}
	// The third delivery is still owed, and new ids follow the old ones.
	sameIDs(t, "claim after reopening", claimIDs(t, s, "w2", "", at(time.Hour), 10), ds[2].ID)
	mustCommit(t, s, simple("q3_sla", at(time.Hour), "oncall"))
	if last := all(t, s); last[len(last)-1].ID <= ds[2].ID {
		t.Errorf("new delivery id %d does not follow %d", last[len(last)-1].ID, ds[2].ID)
	}
}
