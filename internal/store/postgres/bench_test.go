package postgres

import (
	"context"
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

func benchBatches(n int) [][]alert.Transition {
	const rounds = 64
	batches := make([][]alert.Transition, rounds)
	for r := range batches {
		batches[r] = storetest.BenchBatch(n, int64(r))
	}
	return batches
}

// BenchmarkCommit commits batches of 1, 64 and 512 firing transitions, each
// owed to two destinations, from one replica (the leader), fenced on its
// lease as serve commits, and reports transitions per second.
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := openTest(b, pgtest.DSN(b))
			defer s.Close()
			ctx := b.Context()
			epoch, _, err := s.Acquire(ctx, "leader", "bench", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			fence := Fence{Name: "leader", Holder: "bench", Epoch: epoch}
			batches := benchBatches(n)
			iters := 0
			for b.Loop() {
				if err := s.CommitFenced(ctx, fence, batches[iters%len(batches)]); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			b.ReportMetric(float64(iters*n)/b.Elapsed().Seconds(), "transitions/s")
		})
	}
}

// BenchmarkCommitThreeReplicas is BenchmarkCommit/batch=64 on a database
// shared by three replicas: while the leader commits, the two followers
// append webhook requests of 10 samples to the inbox as fast as they can.
// It reports the leader's transitions and the followers' inbox appends per
// second.
func BenchmarkCommitThreeReplicas(b *testing.B) {
	dsn := pgtest.DSN(b)
	s := openTest(b, dsn)
	defer s.Close()
	followers := []*Store{openTest(b, dsn), openTest(b, dsn)}
	ctx := b.Context()
	epoch, _, err := s.Acquire(ctx, "leader", "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	fence := Fence{Name: "leader", Holder: "bench", Epoch: epoch}
	samples := make([]metric.Sample, 10)
	for i := range samples {
		samples[i] = metric.Sample{QueueID: fmt.Sprintf("q%d", i), Metric: metric.ServiceLevel, Value: 61.5,
			At: time.Now(), Source: metric.SourceWebhook}
	}
	var appends atomic.Int64
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, f := range followers {
		defer f.Close()
		wg.Go(func() {
			for fctx.Err() == nil {
				if err := f.AppendInbox(fctx, samples); err == nil {
					appends.Add(1)
				}
			}
		})
	}
	batches := benchBatches(64)
	iters := 0
	for b.Loop() {
		if err := s.CommitFenced(ctx, fence, batches[iters%len(batches)]); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	elapsed := b.Elapsed().Seconds()
	stop()
	wg.Wait()
	b.ReportMetric(float64(iters*64)/elapsed, "transitions/s")
	b.ReportMetric(float64(appends.Load())/elapsed, "inbox-appends/s")
}

// BenchmarkClaim claims and finishes deliveries with 1 and 3 replicas (each
// a pool of its own with 4 workers claiming up to 10 rows at a time) on an
// outbox of 2,000 chains of one destination and key, as after a storm, and
// reports deliveries per second. Per-key order holds throughout, so a chain's
// next row is due only once the previous one is finished.
func BenchmarkClaim(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			dsn := pgtest.DSN(b)
			stores := make([]*Store, replicas)
			for i := range stores {
				stores[i] = openTest(b, dsn)
				defer stores[i].Close()
			}
			ctx := b.Context()
			const limit = 10
			// b.N claims of up to limit rows: fill enough, 2 rows per transition.
			for r := 0; r*512*2 < b.N*limit+1024; r++ {
				if err := stores[0].Commit(ctx, storetest.BenchBatch(512, int64(r))); err != nil {
					b.Fatal(err)
				}
			}
			now := storetest.Base.Add(24 * time.Hour)
			var done atomic.Int64
			var n atomic.Int64
			b.ResetTimer()
			b.SetParallelism(2 * replicas) // with 2 CPUs: 4 workers per replica
			b.RunParallel(func(pb *testing.PB) {
				w := n.Add(1)
				s := stores[int(w)%replicas]
				owner := fmt.Sprintf("w%d", w)
				for pb.Next() {
					ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: owner, Now: now, Lease: time.Hour, Limit: limit})
					if err != nil {
						b.Error(err)
						return
					}
					for _, d := range ds {
						if err := s.FinishDelivery(ctx, d.ID, owner, store.Outcome{Status: store.StatusSent, At: now}); err != nil {
							b.Error(err)
							return
						}
					}
					done.Add(int64(len(ds)))
				}
			})
			b.ReportMetric(float64(done.Load())/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkInboxAppend appends webhook requests of 10 samples to the inbox
// from 64 × GOMAXPROCS concurrent callers, as a follower's webhook does
// under load, and reports requests made durable per second.
func BenchmarkInboxAppend(b *testing.B) {
	s := openTest(b, pgtest.DSN(b))
	defer s.Close()
	samples := make([]metric.Sample, 10)
	for i := range samples {
		samples[i] = metric.Sample{QueueID: fmt.Sprintf("q%d", i), Metric: metric.ServiceLevel, Value: 61.5,
			At: time.Now(), Source: metric.SourceWebhook}
	}
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AppendInbox(b.Context(), samples); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// downBacklog commits rows owed to destination "down" in batches of 512
// transitions over 1,000 keys until it owes n, then fails the oldest of each
// key as a destination that is down does, to be tried again an hour after
// now: every row is owed and none is due. The rows are older than anything
// committed afterwards. The table is analyzed, as autovacuum would.
func downBacklog(tb testing.TB, s *Store, n int, now time.Time) { downBacklogDue(tb, s, n, now, 0) }

// downBacklogDue is downBacklog where the oldest row of every dueEvery-th
// key (in id order; none when dueEvery is 0) is due again at now instead
// of an hour later.
func downBacklogDue(tb testing.TB, s *Store, n int, now time.Time, dueEvery int) {
	tb.Helper()
	storetest.DownBacklog(tb, s, n, now, dueEvery, func() { analyze(tb, s) })
}

func analyze(tb testing.TB, s *Store) {
	tb.Helper()
	if _, err := s.pool.Exec(context.Background(), `ANALYZE outbox`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkClaimOneDestination claims up to 10 rows for destination
// "oncall", which owes 3 rows to each of 20 keys, while destination "down"
// owes none (backlog=0) or 84,000 older rows, none of them due. The store
// has one connection, as one dispatcher worker would, and first claims for
// "down" 5 times, as its dispatcher does every few seconds: PostgreSQL plans
// a prepared statement anew for its first 5 executions and then may keep
// one generic plan for all arguments, chosen by comparing with those. Each
// claimed row is then put back as a retry due at once (not timed), so every
// claim finds the same 10 rows. Reports ms per claim for "oncall", and for
// "down" (the mean of the 5).
func BenchmarkClaimOneDestination(b *testing.B) {
	for _, backlog := range []int{0, 84_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			s, err := Open(context.Background(), pgtest.DSN(b), WithMaxConns(1))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			now := storetest.Base.Add(24 * time.Hour)
			downBacklog(b, s, backlog, now)
			var ts []alert.Transition
			for round := range 3 {
				for _, t := range storetest.BenchBatch(20, int64(1000+round)) {
					t.Destinations = []string{"oncall"}
					ts = append(ts, t)
				}
			}
			if err := s.Commit(ctx, ts); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for range 5 {
				if _, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "w", Destination: "down", Now: now,
					Lease: time.Minute, Limit: 10}); err != nil {
					b.Fatal(err)
				}
			}
			down := time.Since(start) / 5
			for b.Loop() {
				ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "w", Destination: "oncall", Now: now,
					Lease: time.Minute, Limit: 10})
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) != 10 {
					b.Fatalf("claimed %d rows, want 10", len(ds))
				}
				b.StopTimer()
				for _, d := range ds {
					if err := s.FinishDelivery(ctx, d.ID, "w", store.Outcome{Status: store.StatusPending, At: now,
						NextAttemptAt: now, Error: "retry"}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/claim")
			b.ReportMetric(float64(down.Microseconds())/1000, "down-ms/claim")
		})
	}
}

// BenchmarkClaimBackloggedDestination measures the dispatcher's store
// calls for a destination that is down (see storetest.BenchClaimBacklogged),
// on one connection, as one dispatcher worker would use.
func BenchmarkClaimBackloggedDestination(b *testing.B) {
	s, err := Open(context.Background(), pgtest.DSN(b), WithMaxConns(1))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchClaimBacklogged(b, s, func() { analyze(b, s) })
}
