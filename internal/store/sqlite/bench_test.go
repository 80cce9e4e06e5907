package sqlite

import (
	"fmt"
	"testing"

	"github.com/queuewatch/queuewatch/internal/alert"
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

// BenchmarkClaimBackloggedDestination measures the dispatcher's store
// calls for a destination that is down (see storetest.BenchClaimBacklogged).
func BenchmarkClaimBackloggedDestination(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	storetest.BenchClaimBacklogged(b, s, nil)
}
