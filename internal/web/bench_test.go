package web

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// BenchmarkQueuesAPI measures GET /api/v1/queues over loopback for 500
// queues, each with a full hour of chart history for the five board metrics.
func BenchmarkQueuesAPI(b *testing.B) {
	e := newEnv(b, nil)
	const queues = 500
	for q := 0; q < queues; q++ {
		id := fmt.Sprintf("3f0c8d1e-0000-4000-8000-%012d", q)
		name := fmt.Sprintf("Queue %03d", q)
		var last []metric.Sample
		for i := 0; i < int(ChartWindow/ChartStep); i++ {
			at := e.now.Add(-ChartWindow + time.Duration(i)*ChartStep)
			last = last[:0]
			for j, n := range boardMetrics {
				last = append(last, metric.Sample{QueueID: id, QueueName: name, Metric: n, Value: 85 + float64((i+j+q)%10), At: at})
			}
			e.hist.Add(last...)
		}
		if err := e.eng.Observe(b.Context(), last...); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{}
	var size int64
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(e.url + "/api/v1/queues")
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("answered %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(size)/1024, "KiB/response")
}

// BenchmarkHistoryAdd measures the cost each sample pays on its way into
// the engine for the dashboard's charts.
func BenchmarkHistoryAdd(b *testing.B) {
	h := NewHistory()
	t0 := time.Now()
	samples := make([]metric.Sample, 1000)
	for i := range samples {
		samples[i] = metric.Sample{QueueID: fmt.Sprintf("q%d", i/10), Metric: boardMetrics[i%len(boardMetrics)], Value: float64(i)}
	}
	i := 0
	for b.Loop() {
		s := samples[i%len(samples)]
		s.At = t0.Add(time.Duration(i) * time.Second)
		h.Add(s)
		i++
	}
}
