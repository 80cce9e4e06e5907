package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

// BenchmarkCommit commits batches of 1, 64 and 512 firing transitions, each
// owed to two destinations, and reports transitions per second. The outbox
// is never drained, as during a destination outage.
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := openTemp(b)
			defer s.Close()
			const rounds = 64
			batches := make([][]alert.Transition, rounds)
			for r := range batches {
				batches[r] = storetest.BenchBatch(n, int64(r))
			}
			ctx := b.Context()
			iters := 0
			for b.Loop() {
				if err := s.Commit(ctx, batches[iters%rounds]); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			b.ReportMetric(float64(iters*n)/b.Elapsed().Seconds(), "transitions/s")
		})
	}
}

// BenchmarkCommitBurst commits the scale burst of docs/benchmarks.md —
// 40,000 distinct series firing at once, in commits of 500 transitions,
// into a fresh database — with the default writer cache and with the 64 MiB
// one it replaced, so that their commit speeds compare in one run.
func BenchmarkCommitBurst(b *testing.B) {
	const series, batch = 40000, 500
	batches := make([][]alert.Transition, series/batch)
	for r := range batches {
		ts := storetest.BenchBatch(batch, int64(r))
		for i := range ts {
			// BenchBatch spreads over 1,000 keys; give every transition its own series.
			key := fmt.Sprintf("queue-%05d_sla_breach", r*batch+i)
			ts[i].Key, ts[i].QueueID, ts[i].Series.Key, ts[i].Series.QueueID = key, key[:11], key, key[:11]
			ts[i].Episode.Key, ts[i].Episode.ID, ts[i].Episode.QueueID = key, key+"@1", key[:11]
			ep := *ts[i].Episode
			ts[i].Series.Episode = &ep
		}
		batches[r] = ts
	}
	for _, kib := range []int{writerCacheKiB, 65536} {
		b.Run(fmt.Sprintf("cache=%dMiB", kib/1024), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := openTemp(b, func(o *options) { o.cacheKiB = kib })
				b.StartTimer()
				for _, ts := range batches {
					if err := s.Commit(b.Context(), ts); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*series)/b.Elapsed().Seconds(), "transitions/s")
		})
	}
}

// downBacklog commits rows owed to destination "down" in batches of 512
// transitions over 1,000 keys until it owes n, then fails the oldest of each
// key as a destination that is down does, to be tried again an hour after
// now, except that of every dueEvery-th key (in id order), due again at now.
func downBacklog(tb testing.TB, s *Store, n int, now time.Time, dueEvery int) {
	tb.Helper()
	ctx := context.Background()
	for r := 0; r*512 < n; r++ {
		ts := storetest.BenchBatch(min(512, n-r*512), int64(r))
		for i := range ts {
			ts[i].Destinations = []string{"down"}
		}
		if err := s.Commit(ctx, ts); err != nil {
			tb.Fatal(err)
		}
	}
	heads, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "down", Destination: "down", Now: now,
		Lease: time.Hour, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	for i, d := range heads {
		next := now.Add(time.Hour)
		if dueEvery > 0 && i%dueEvery == 0 {
			next = now
		}
		if err := s.FinishDelivery(ctx, d.ID, "down", store.Outcome{Status: store.StatusPending, At: now,
			NextAttemptAt: next, Error: "503 Service Unavailable"}); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkClaimBackloggedDestination measures the store calls of the
// dispatcher of a destination that is down: "down" owes 84,000 rows over
// 1,000 keys, the oldest of each waiting for a retry an hour away except
// those of 5 keys, which are due. claim/due=5 claims up to 10 rows of
// "down" and takes those 5 (each is put back as a retry due at once, not
// timed, so every claim finds them again); claim/due=0 claims a second
// earlier, when none is due, as the dispatcher's claims that find nothing
// do; next-due is NextDue. claim/storm claims 10 rows of "storm", which
// owes 3 rows to each of 1,000 keys, all due, as after a storm. Reports ms
// per call.
func BenchmarkClaimBackloggedDestination(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	now := storetest.Base.Add(24 * time.Hour)
	downBacklog(b, s, 84_000, now, 200)
	var ts []alert.Transition
	for round := range 3 {
		for _, t := range storetest.BenchBatch(1000, int64(3000+round)) {
			t.Destinations = []string{"storm"}
			ts = append(ts, t)
		}
	}
	if err := s.Commit(context.Background(), ts); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, dest string
		at         time.Time
		want       int
	}{
		{"claim/due=0", "down", now.Add(-time.Second), 0},
		{"claim/due=5", "down", now, 5},
		{"claim/storm", "storm", now, 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			for b.Loop() {
				ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "w", Destination: c.dest, Now: c.at,
					Lease: time.Minute, Limit: 10})
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) != c.want {
					b.Fatalf("claimed %d rows, want %d", len(ds), c.want)
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
		})
	}
	b.Run("next-due", func(b *testing.B) {
		ctx := b.Context()
		for b.Loop() {
			if _, ok, err := s.NextDue(ctx); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/call")
	})
}
