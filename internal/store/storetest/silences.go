package storetest

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

var silenceTests = []test{
	{"Silences/RoundTripNewestFirst", testSilencesRoundTrip},
	{"Silences/DuplicateIDConflicts", testSilenceDuplicate},
	{"Silences/InvalidRefused", testSilenceInvalid},
	{"Silences/Expire", testSilenceExpire},
}

func silence(id string, created time.Duration) store.Silence {
	return store.Silence{
		ID: id, Queues: []string{"Support *", "queue-7"}, Rule: "sla_breach",
		Starts: at(created), Ends: at(created + time.Hour), Comment: "carrier maintenance " + id,
		CreatedBy: "ops@example.com", CreatedAt: at(created + 1),
	}
}

func silences(t *testing.T, s store.Store) []store.Silence {
	t.Helper()
	got, err := s.Silences(t.Context())
	if err != nil {
		t.Fatalf("Silences: %v", err)
	}
	return got
}

func testSilencesRoundTrip(t *testing.T, s store.Store) {
	if got := silences(t, s); got == nil || len(got) != 0 {
		t.Fatalf("empty store: %#v, want an empty non-nil list", got)
	}
	a, b := silence("s-a", 0), silence("s-b", time.Minute)
	b.Queues, b.Rule, b.CreatedBy = nil, "", ""
	b.Starts = b.Starts.In(time.FixedZone("CET", 3600))
	for _, x := range []store.Silence{a, b} {
		if err := s.CreateSilence(t.Context(), x); err != nil {
			t.Fatalf("CreateSilence(%s): %v", x.ID, err)
		}
	}
	got := silences(t, s)
	if len(got) != 2 {
		t.Fatalf("Silences: %d, want 2", len(got))
	}
	checkUTC(t, "silence", got[0].Starts, got[0].Ends, got[0].CreatedAt, got[1].Starts)
	b.Queues, b.Starts = []string{}, b.Starts.UTC()
	same(t, "newest silence", got[0], b)
	same(t, "older silence", got[1], a)
	if !got[1].Active(at(0)) || got[1].Active(at(time.Hour)) || got[1].Active(at(-1)) {
		t.Errorf("Active: start is inclusive and end exclusive")
	}
}

func testSilenceDuplicate(t *testing.T, s store.Store) {
	if err := s.CreateSilence(t.Context(), silence("s-1", 0)); err != nil {
		t.Fatalf("CreateSilence: %v", err)
	}
	again := silence("s-1", time.Minute)
	wantErr(t, "CreateSilence(duplicate id)", s.CreateSilence(t.Context(), again), store.ErrConflict)
	if got := silences(t, s); len(got) != 1 || !got[0].Starts.Equal(at(0)) {
		t.Errorf("duplicate changed the stored silence: %+v", got)
	}
}

func testSilenceInvalid(t *testing.T, s store.Store) {
	for name, mod := range map[string]func(*store.Silence){
		"no id":         func(x *store.Silence) { x.ID = "" },
		"ends first":    func(x *store.Silence) { x.Ends = x.Starts },
		"no start":      func(x *store.Silence) { x.Starts = time.Time{} },
		"no created":    func(x *store.Silence) { x.CreatedAt = time.Time{} },
		"empty pattern": func(x *store.Silence) { x.Queues = []string{"a", ""} },
	} {
		x := silence("s-bad", 0)
		mod(&x)
		wantErr(t, "CreateSilence("+name+")", s.CreateSilence(t.Context(), x), store.ErrInvalid)
	}
	if got := silences(t, s); len(got) != 0 {
		t.Errorf("invalid silences were stored: %+v", got)
	}
	wantErr(t, "ExpireSilence(zero time)", s.ExpireSilence(t.Context(), "s-bad", time.Time{}), store.ErrInvalid)
}

func testSilenceExpire(t *testing.T, s store.Store) {
	running, future := silence("s-run", 0), silence("s-future", 2*time.Hour)
	for _, x := range []store.Silence{running, future} {
		if err := s.CreateSilence(t.Context(), x); err != nil {
			t.Fatalf("CreateSilence(%s): %v", x.ID, err)
		}
	}
	now := at(10 * time.Minute)
	for _, id := range []string{"s-run", "s-future"} {
		if err := s.ExpireSilence(t.Context(), id, now); err != nil {
			t.Fatalf("ExpireSilence(%s): %v", id, err)
		}
	}
	// Expiring again later keeps the first end.
	if err := s.ExpireSilence(t.Context(), "s-run", at(20*time.Minute)); err != nil {
		t.Fatalf("ExpireSilence again: %v", err)
	}
	wantErr(t, "ExpireSilence(unknown)", s.ExpireSilence(t.Context(), "nope", now), store.ErrNotFound)
	byID := map[string]store.Silence{}
	for _, x := range silences(t, s) {
		byID[x.ID] = x
	}
	if r := byID["s-run"]; !r.Starts.Equal(at(0)) || !r.Ends.Equal(now) || r.Active(now) {
		t.Errorf("running silence after expiry: %v .. %v", r.Starts.Sub(Base), r.Ends.Sub(Base))
	}
	if f := byID["s-future"]; !f.Starts.Equal(now) || !f.Ends.Equal(now) || f.Active(at(3*time.Hour)) {
		t.Errorf("future silence after expiry: %v .. %v", f.Starts.Sub(Base), f.Ends.Sub(Base))
	}
	if f := byID["s-future"]; f.Comment != future.Comment {
		t.Errorf("expiry changed the comment: %q", f.Comment)
	}
}
