package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

// twoPools is one database seen through two stores with pools of their
// own, as two replicas see it: commits and claims alternate between them.
type twoPools struct {
	*Store
	other *Store
	n     atomic.Int64
}

func (p *twoPools) pick() *Store {
	if p.n.Add(1)%2 == 0 {
		return p.other
	}
	return p.Store
}

func (p *twoPools) Commit(ctx context.Context, ts []alert.Transition) error {
	return p.pick().Commit(ctx, ts)
}

func (p *twoPools) ClaimDeliveries(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error) {
	return p.pick().ClaimDeliveries(ctx, req)
}

func (p *twoPools) FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error {
	return p.pick().FinishDelivery(ctx, id, owner, o)
}

func (p *twoPools) Close() error { return errors.Join(p.Store.Close(), p.other.Close()) }

// TestContractTwoPools runs the contract, its concurrent claimers and
// committers included, with every other commit and claim going through a
// second connection pool: exactly-once claims and per-key order hold
// across replicas.
func TestContractTwoPools(t *testing.T) {
	pgtest.BaseDSN(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn := pgtest.DSN(t)
		return &twoPools{Store: openTest(t, dsn), other: openTest(t, dsn)}
	})
}

// TestMigrateConcurrently opens one new schema from several replicas at once:
// each migration is applied exactly once and every Open succeeds.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 5
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", got, len(ms))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openTest(t, dsn)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), dsn); err == nil {
		s.Close()
		t.Fatal("Open accepted a schema from a newer version")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:q.db", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=1"} {
		s, err := Open(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if dsn != "" && containsSecret(err.Error()) {
			t.Errorf("Open(%q) error shows the password: %v", dsn, err)
		}
	}
}

func containsSecret(s string) bool {
	for i := 0; i+6 <= len(s); i++ {
		if s[i:i+6] == "secret" {
			return true
		}
	}
	return false
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                         "postgres://u@h/db",
		"postgresql://h/db?password=pw&user=u":      "postgresql://h/db?password=xxxxx&user=u",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func fire(key string, at time.Time) alert.Transition {
	ep := &alert.Episode{ID: key + "-ep", Key: key, Rule: "sla", QueueID: "q", Start: at, Priority: alert.P2}
	return alert.Transition{Key: key, Rule: "sla", QueueID: "q", At: at, From: alert.Pending, To: alert.Firing,
		Action: alert.ActionCreate, Destinations: []string{"oncall"}, Episode: ep,
		Series: alert.SeriesState{Key: key, Rule: "sla", QueueID: "q", State: alert.Firing, Since: at, Episode: ep, Version: 1}}
}

// TestLeaseAndFence: one holder at a time; a new holder raises the epoch;
// commits fenced on an old epoch store nothing; renewals of a lost lease
// fail; a released lease is free at once.
func TestLeaseAndFence(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	const ttl = time.Hour
	ea, ok, err := s.Acquire(ctx, "leader", "a", ttl)
	if err != nil || !ok || ea != 1 {
		t.Fatalf("a: Acquire = %d, %v, %v; want epoch 1", ea, ok, err)
	}
	if _, ok, err := s.Acquire(ctx, "leader", "b", ttl); err != nil || ok {
		t.Fatalf("b took a running lease: %v, %v", ok, err)
	}
	if e, ok, err := s.Acquire(ctx, "leader", "a", ttl); err != nil || !ok || e != ea {
		t.Fatalf("a re-acquiring = %d, %v, %v; want its epoch %d", e, ok, err, ea)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.CommitFenced(ctx, Fence{"leader", "a", ea}, []alert.Transition{fire("k1", t0)}); err != nil {
		t.Fatalf("a's fenced commit: %v", err)
	}
	if err := s.CommitFenced(ctx, Fence{"leader", "b", 1}, []alert.Transition{fire("k2", t0)}); !errors.Is(err, ErrFenced) ||
		!errors.Is(err, store.ErrConflict) {
		t.Fatalf("b's commit without the lease: %v, want ErrFenced", err)
	}
	// a's lease ends; b takes it with the next epoch.
	if err := s.Release(ctx, "leader", "a", ea); err != nil {
		t.Fatal(err)
	}
	eb, ok, err := s.Acquire(ctx, "leader", "b", ttl)
	if err != nil || !ok || eb != ea+1 {
		t.Fatalf("b: Acquire after release = %d, %v, %v; want epoch %d", eb, ok, err, ea+1)
	}
	if ok, err := s.Renew(ctx, "leader", "a", ea, ttl); err != nil || ok {
		t.Fatalf("a renewed a lost lease: %v, %v", ok, err)
	}
	if err := s.CommitFenced(ctx, Fence{"leader", "a", ea}, []alert.Transition{fire("k3", t0)}); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed a's commit: %v, want ErrFenced", err)
	}
	if err := s.CommitFenced(ctx, Fence{"leader", "b", eb}, []alert.Transition{fire("k4", t0)}); err != nil {
		t.Fatalf("b's fenced commit: %v", err)
	}
	if ok, err := s.Renew(ctx, "leader", "b", eb, ttl); err != nil || !ok {
		t.Fatalf("b's renewal: %v, %v", ok, err)
	}
	for key, want := range map[string]int{"k1": 1, "k2": 0, "k3": 0, "k4": 1} {
		if h, err := s.History(ctx, key, 0); err != nil || len(h) != want {
			t.Errorf("history of %s: %d entries, %v; want %d", key, len(h), err, want)
		}
	}
	if h, e, _, err := s.Holder(ctx, "leader"); err != nil || h != "b" || e != eb {
		t.Errorf("Holder = %s, %d, %v; want b at %d", h, e, err, eb)
	}
}

// TestLeaseExpires: a lease not renewed within its ttl goes to the next
// candidate, on the database's clock.
func TestLeaseExpires(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, pgtest.DSN(t))
	defer s.Close()
	if _, ok, err := s.Acquire(ctx, "leader", "a", time.Millisecond); err != nil || !ok {
		t.Fatalf("a: %v, %v", ok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, ok, err := s.Acquire(ctx, "leader", "b", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if e != 2 {
				t.Errorf("b's epoch %d, want 2", e)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired lease was not given to b")
		}
		time.Sleep(time.Millisecond) // polling the condition the database decides
	}
}

// TestFenceWaitsForCommitInFlight: a takeover waits for a fenced commit
// holding the lease row, so the new leader reads everything the old one
// wrote, and the old leader's later commits fail.
func TestFenceWaitsForCommitInFlight(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	defer a.Close()
	defer b.Close()
	ea, _, err := a.Acquire(ctx, "leader", "a", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	// Hold the row share-locked as a's commit does, then let b try.
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM leader_lease WHERE name = 'leader' FOR SHARE`); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 1)
	go func() {
		for {
			e, ok, err := b.Acquire(ctx, "leader", "b", time.Hour)
			if err != nil || ok {
				got <- e
				return
			}
		}
	}()
	select {
	case e := <-got:
		t.Fatalf("b acquired epoch %d while a's commit held the lease row", e)
	case <-time.After(200 * time.Millisecond): // b must still be waiting; no condition to poll
	}
	if _, err := tx.Exec(ctx, `INSERT INTO transitions (key, at, data) VALUES ('inflight', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if e := <-got; e != ea+1 {
		t.Fatalf("b's epoch %d, want %d", e, ea+1)
	}
	var n int
	if err := b.pool.QueryRow(ctx, `SELECT COUNT(*) FROM transitions WHERE key = 'inflight'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("b does not see the commit in flight: %d, %v", n, err)
	}
	if err := a.CommitFenced(ctx, Fence{"leader", "a", ea}, []alert.Transition{fire("late", t0)}); !errors.Is(err, ErrFenced) {
		t.Fatalf("a's commit after the takeover: %v, want ErrFenced", err)
	}
}

// TestInbox: samples appended by one replica reach another's listener and
// reader intact, and deleted entries are gone.
func TestInbox(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	defer a.Close()
	defer b.Close()
	woke := make(chan struct{}, 16)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go b.ListenInbox(lctx, 10*time.Millisecond, func() { woke <- struct{}{} })
	<-woke // listening
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	var want []metric.Sample
	for i := range 3 {
		smp := metric.Sample{QueueID: fmt.Sprintf("q%d", i), QueueName: "Q", MediaType: "voice",
			Metric: metric.ServiceLevel, Value: 61.5, At: at, Source: metric.SourceWebhook}
		want = append(want, smp)
		if err := a.AppendInbox(ctx, []metric.Sample{smp}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-woke:
	case <-time.After(30 * time.Second):
		t.Fatal("no notification reached the listener")
	}
	es, err := b.ReadInbox(ctx, 2)
	if err != nil || len(es) != 2 {
		t.Fatalf("ReadInbox = %d entries, %v; want 2", len(es), err)
	}
	for i, e := range es {
		if len(e.Samples) != 1 || e.Samples[0] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, e.Samples, want[i])
		}
	}
	if err := b.DeleteInbox(ctx, []int64{es[0].ID, es[1].ID}); err != nil {
		t.Fatal(err)
	}
	es, err = b.ReadInbox(ctx, 10)
	if err != nil || len(es) != 1 || es[0].Samples[0] != want[2] {
		t.Fatalf("after deleting: %+v, %v; want the third sample only", es, err)
	}
}

// TestInboxGroupCommit: concurrent appends share transactions yet each one
// is stored exactly once; appends after Close fail instead of hanging.
func TestInboxGroupCommit(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, pgtest.DSN(t))
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.AppendInbox(ctx, []metric.Sample{{QueueID: fmt.Sprintf("q%03d", i), Metric: metric.Waiting,
				Value: float64(i), At: time.Unix(int64(i), 0).UTC()}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.ReadInbox(ctx, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range es {
		for _, smp := range e.Samples {
			seen[smp.QueueID]++
		}
	}
	if len(es) != n || len(seen) != n {
		t.Fatalf("%d entries for %d queues, want %d of each", len(es), len(seen), n)
	}
	var groups int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(DISTINCT xmin::text) FROM inbox`).Scan(&groups); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d appends in %d transactions", n, groups)
	s.Close()
	if err := s.AppendInbox(ctx, []metric.Sample{{QueueID: "late"}}); err == nil {
		t.Fatal("AppendInbox after Close succeeded")
	}
}
