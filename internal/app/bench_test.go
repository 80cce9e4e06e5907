package app

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
)

// BenchmarkTransitionsToSQLite measures transitions made durable in SQLite
// through the engine, with many concurrent callers grouped into shared
// commits. Every sample flips its queue between breach and recovery, so each
// one is a create or a resolve owing two outbox rows.
func BenchmarkTransitionsToSQLite(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchEngineTransitions(b, st)
}

// benchEngineTransitions feeds an engine committing to c from 64 ×
// GOMAXPROCS concurrent callers, each flipping its own queue between breach
// and recovery, and reports transitions per second and per commit.
func benchEngineTransitions(b *testing.B, c alert.Committer) {
	r := &rule.Rule{Name: "sla", Metric: metric.ServiceLevel, Dir: rule.Below, Queues: []string{"*"},
		Levels: []rule.Level{{Threshold: rule.Threshold{Value: 80}, Clear: rule.Threshold{Value: 80}, Priority: rule.P1}},
		Notify: []string{"oncall", "cc-slack"}}
	eng, err := alert.New(alert.Options{Rules: []*rule.Rule{r}, Committer: c})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(context.Background())
	var caller atomic.Int64
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.SetParallelism(64) // 64 × GOMAXPROCS concurrent callers, as webhook requests would be
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		q := fmt.Sprintf("queue-%d", caller.Add(1))
		i := 0
		for pb.Next() {
			v := 90.0
			if i%2 == 0 {
				v = 50
			}
			if err := eng.Observe(context.Background(), metric.Sample{QueueID: q, Metric: metric.ServiceLevel, Value: v, At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	s := eng.Stats()
	b.ReportMetric(float64(s.Transitions)/b.Elapsed().Seconds(), "transitions/s")
	if s.Commits > 0 {
		b.ReportMetric(float64(s.Transitions)/float64(s.Commits), "transitions/commit")
	}
}
