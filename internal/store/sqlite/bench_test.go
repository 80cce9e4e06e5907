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
