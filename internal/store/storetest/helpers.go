package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

func mustCommit(t *testing.T, s store.Store, ts ...alert.Transition) {
	t.Helper()
	if err := s.Commit(t.Context(), ts); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// all returns every delivery, oldest first.
func all(t *testing.T, s store.Store) []store.Delivery {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), store.DeliveryFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	slices.Reverse(ds)
	return ds
}

// get returns the delivery with id.
func get(t *testing.T, s store.Store, id int64) store.Delivery {
	t.Helper()
	for _, d := range all(t, s) {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delivery %d not listed", id)
	return store.Delivery{}
}

func claim(t *testing.T, s store.Store, owner, dest string, now time.Time, lease time.Duration, limit int) []store.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(t.Context(), store.ClaimRequest{
		Owner: owner, Destination: dest, Now: now, Lease: lease, Limit: limit,
	})
	if err != nil {
		t.Fatalf("ClaimDeliveries(%s at %v): %v", owner, now.Sub(Base), err)
	}
	return ds
}

// claimIDs claims like claim and returns the ids claimed, in order.
func claimIDs(t *testing.T, s store.Store, owner, dest string, now time.Time, limit int) []int64 {
	t.Helper()
	return ids(claim(t, s, owner, dest, now, time.Minute, limit))
}

func ids(ds []store.Delivery) []int64 {
	out := []int64{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func finish(t *testing.T, s store.Store, id int64, owner string, o store.Outcome) {
	t.Helper()
	if err := s.FinishDelivery(t.Context(), id, owner, o); err != nil {
		t.Fatalf("FinishDelivery(%d, %s): %v", id, owner, err)
	}
}

func sent(now time.Time) store.Outcome {
	return store.Outcome{Status: store.StatusSent, At: now, Code: 202, Duration: 42 * time.Millisecond}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func sameIDs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if got == nil {
		got = []int64{}
	}
	same(t, what, got, want)
}

// loadSeries returns LoadSeries sorted by key (the contract sets no order).
func loadSeries(t *testing.T, s store.Store) []alert.SeriesState {
	t.Helper()
	ss, err := s.LoadSeries(t.Context())
	if err != nil {
		t.Fatalf("LoadSeries: %v", err)
	}
	slices.SortFunc(ss, func(a, b alert.SeriesState) int { return strings.Compare(a.Key, b.Key) })
	return ss
}
