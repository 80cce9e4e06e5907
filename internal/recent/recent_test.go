package recent

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// sk is the series most tests record into.
var sk = Key("s", "voice", metric.Waiting)

func TestRecorderKeepsWindowAtStep(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := New(time.Hour, time.Minute)
	// Two hours of a value every 20 s: the ring keeps one point a minute,
	// the latest value of each minute, for the last hour.
	for i := 0; i < 360; i++ {
		r.Record(Key("q1", "", metric.ServiceLevel), t0.Add(time.Duration(i)*20*time.Second), float64(i))
	}
	pts := r.Points(Key("q1", "", metric.ServiceLevel))
	if len(pts) != 61 {
		t.Fatalf("got %d points, want 61 (one a minute over an hour, both ends included)", len(pts))
	}
	last := pts[len(pts)-1]
	if want := t0.Add(119 * time.Minute); !last.At.Equal(want) || last.V != 359 {
		t.Errorf("last point = %v %v, want %v 359", last.At, last.V, want)
	}
	if first := pts[0]; !first.At.Equal(t0.Add(59*time.Minute)) || first.V != 179 {
		t.Errorf("first point = %v %v, want 09:59 179", first.At, first.V)
	}
	for i := 1; i < len(pts); i++ {
		if !pts[i].At.After(pts[i-1].At) {
			t.Fatalf("points out of order at %d: %v then %v", i, pts[i-1].At, pts[i].At)
		}
	}
}

func TestRecorderIgnoresOlderValues(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := New(time.Hour, time.Minute)
	r.Record(sk, t0.Add(5*time.Minute), 1)
	r.Record(sk, t0, 2)                                // older: ignored
	r.Record(sk, t0.Add(5*time.Minute+time.Second), 3) // same minute: replaces
	pts := r.Points(sk)
	if len(pts) != 1 || pts[0].V != 3 {
		t.Fatalf("points = %+v, want one point with value 3", pts)
	}
	r2 := New(time.Hour, time.Minute, metric.ServiceLevel)
	r2.Add(metric.Sample{QueueID: "q", Metric: metric.ServiceLevel, Value: 81, At: t0},
		metric.Sample{QueueID: "q", Metric: metric.Waiting, Value: 4, At: t0})
	if pts := r2.Points(Key("q", "", metric.ServiceLevel)); len(pts) != 1 || pts[0].V != 81 {
		t.Errorf("Add kept %+v for service_level, want 81", pts)
	}
	if pts := r2.Points(Key("q", "", metric.Waiting)); pts != nil {
		t.Errorf("Add kept %+v for a metric it was not asked to keep", pts)
	}
	if r.Points(Key("unknown", "", metric.Waiting)) != nil {
		t.Error("unknown series has points")
	}
	r.Forget(t0.Add(time.Hour))
	if r.Points(sk) != nil {
		t.Error("Forget kept a series older than the cut-off")
	}
}

func BenchmarkAdd(b *testing.B) {
	r := New(time.Hour, 30*time.Second, metric.ServiceLevel, metric.Waiting)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	smp := []metric.Sample{
		{QueueID: "3f0c8d1e-0000-4000-8000-000000000003", Metric: metric.ServiceLevel, Value: 81},
		{QueueID: "3f0c8d1e-0000-4000-8000-000000000003", Metric: metric.Waiting, Value: 4},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		smp[0].At, smp[1].At = at, at
		r.Add(smp...)
	}
}
