package recent

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

func TestRecorderKeepsWindowAtStep(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := New(time.Hour, time.Minute)
	// Two hours of a value every 20 s: the ring keeps one point a minute,
	// the latest value of each minute, for the last hour.
	for i := 0; i < 360; i++ {
		r.Record("q1/service_level", t0.Add(time.Duration(i)*20*time.Second), float64(i))
	}
	pts := r.Points("q1/service_level")
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
	r.Record("s", t0.Add(5*time.Minute), 1)
	r.Record("s", t0, 2)                                // older: ignored
	r.Record("s", t0.Add(5*time.Minute+time.Second), 3) // same minute: replaces
	pts := r.Points("s")
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
	if r.Points("unknown") != nil {
		t.Error("unknown series has points")
	}
	r.Forget(t0.Add(time.Hour))
	if r.Points("s") != nil {
		t.Error("Forget kept a series older than the cut-off")
	}
}
