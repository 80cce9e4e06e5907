package alert

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

func benchRules() []*rule.Rule {
	sla := below("sla", 80, 85)
	sla.For, sla.ClearFor, sla.StaleAfter = time.Minute, 2*time.Minute, 5*time.Minute
	wait := &rule.Rule{Name: "long_wait", Metric: metric.LongestWait, Dir: rule.Above, Queues: []string{"*"},
		Levels: []rule.Level{lvl(120, 120, rule.P3), lvl(300, 300, rule.P1)}, Notify: []string{"oncall"}}
	return []*rule.Rule{sla, wait}
}

// BenchmarkObserveNoChange measures samples that change no state, the common
// case, through one shard (one core): samples/s is reported per op batch.
func BenchmarkObserveNoChange(b *testing.B) {
	e, _ := New(Options{Rules: benchRules(), Committer: &memCommitter{}, Shards: 1})
	defer e.Close(context.Background())
	const queues, batch = 1000, 1000
	samples := make([]metric.Sample, batch)
	for i := range samples {
		q := fmt.Sprintf("queue-%04d", i%queues)
		m, v := metric.ServiceLevel, 95.0
		if i%2 == 1 {
			m, v = metric.LongestWait, 15
		}
		samples[i] = metric.Sample{QueueID: q, QueueName: q, Metric: m, Value: v, At: t0}
	}
	ctx := context.Background()
	_ = e.Observe(ctx, samples...)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n++
		at := t0.Add(time.Duration(n) * time.Second)
		for i := range samples {
			samples[i].At = at
		}
		if err := e.Observe(ctx, samples...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSeriesMemory reports the heap held per tracked series with
// 100,000 series (50,000 queues × 2 rules).
func BenchmarkSeriesMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, _ := New(Options{Rules: benchRules(), Committer: &memCommitter{}, Shards: 2})
		const queues = 50000
		batch := make([]metric.Sample, 0, 2000)
		for q := 0; q < queues; q++ {
			id := fmt.Sprintf("%08x-1d1a-11f1-b111-1cf1c11111fc", q)
			name := fmt.Sprintf("Queue %d", q)
			batch = append(batch,
				metric.Sample{QueueID: id, QueueName: name, Metric: metric.ServiceLevel, Value: 95, At: t0},
				metric.Sample{QueueID: id, QueueName: name, Metric: metric.LongestWait, Value: 10, At: t0})
			if len(batch) == cap(batch) {
				_ = e.Observe(context.Background(), batch...)
				batch = batch[:0]
			}
		}
		_ = e.Observe(context.Background(), batch...)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(2*queues), "heap-bytes/series")
		_ = e.Close(context.Background())
	}
}
