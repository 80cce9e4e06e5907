package postgres

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
)

// TestAdvertise: the leader's advertised URL is read back by the others,
// only the current holder at its epoch may publish it, a renewal keeps it
// and a change of holder clears it.
func TestAdvertise(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	if li, err := s.Leader(ctx, "leader"); err != nil || li != (LeaderInfo{}) {
		t.Fatalf("Leader before any lease = %+v, %v; want none", li, err)
	}
	const ttl = time.Hour
	ea, ok, err := s.Acquire(ctx, "leader", "a", ttl)
	if err != nil || !ok {
		t.Fatalf("a: Acquire = %v, %v", ok, err)
	}
	if li, err := s.Leader(ctx, "leader"); err != nil || li != (LeaderInfo{Holder: "a", Epoch: ea, Live: true}) {
		t.Fatalf("Leader before Advertise = %+v, %v; want a live without a URL", li, err)
	}
	if ok, err := s.Advertise(ctx, "leader", "a", ea, "http://10.0.0.5:8080"); err != nil || !ok {
		t.Fatalf("a: Advertise = %v, %v", ok, err)
	}
	if ok, err := s.Advertise(ctx, "leader", "b", ea, "http://10.0.0.6:8080"); err != nil || ok {
		t.Fatalf("b advertised a lease it does not hold: %v, %v", ok, err)
	}
	if _, err := s.Renew(ctx, "leader", "a", ea, ttl); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Acquire(ctx, "leader", "a", ttl); err != nil {
		t.Fatal(err)
	}
	want := LeaderInfo{Holder: "a", Epoch: ea, Live: true, URL: "http://10.0.0.5:8080"}
	if li, err := s.Leader(ctx, "leader"); err != nil || li != want {
		t.Fatalf("Leader = %+v, %v; want %+v", li, err, want)
	}
	if err := s.Release(ctx, "leader", "a", ea); err != nil {
		t.Fatal(err)
	}
	want.Live = false
	if li, err := s.Leader(ctx, "leader"); err != nil || li != want {
		t.Fatalf("Leader after release = %+v, %v; want %+v", li, err, want)
	}
	eb, ok, err := s.Acquire(ctx, "leader", "b", ttl)
	if err != nil || !ok {
		t.Fatalf("b: Acquire = %v, %v", ok, err)
	}
	if li, err := s.Leader(ctx, "leader"); err != nil || li != (LeaderInfo{Holder: "b", Epoch: eb, Live: true}) {
		t.Fatalf("Leader after b took over = %+v, %v; want b without a's URL", li, err)
	}
	if ok, err := s.Advertise(ctx, "leader", "a", ea, "http://10.0.0.5:8080"); err != nil || ok {
		t.Fatalf("deposed a advertised: %v, %v", ok, err)
	}
}
