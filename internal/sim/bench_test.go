package sim

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// BenchmarkAdvance simulates 100 queues (the demo scenario, at its busy
// late-morning peak) for one minute of simulated time per operation and
// collects their samples.
func BenchmarkAdvance(b *testing.B) {
	s := New(DemoScenario(testStart, 100))
	b.ReportAllocs()
	for b.Loop() {
		s.Advance(time.Minute)
	}
}

// BenchmarkAdvanceHour simulates 100 queues for an hour of simulated time
// per operation, one minute at a time, reusing the sample slice.
func BenchmarkAdvanceHour(b *testing.B) {
	s := New(DemoScenario(testStart, 100))
	buf := make([]metric.Sample, 0, 100*len(sampleMetrics))
	b.ReportAllocs()
	for b.Loop() {
		for range 60 {
			s.Run(time.Minute)
			buf = s.AppendSamples(buf[:0])
		}
	}
}
