// Package recent keeps the last stretch of each queue metric in memory, at a
// fixed resolution, for the dashboard's sparklines and charts. It is a
// cache: it starts empty after a restart and is not shared between replicas.
package recent

import (
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// Point is one value at one time.
type Point struct {
	At time.Time
	V  float64
}

// Recorder keeps, per series, the points of the last window, one per step:
// a new value in the same step replaces the previous one. It is safe for
// concurrent use.
type Recorder struct {
	window, step time.Duration
	size         int
	keep         map[metric.Name]bool

	mu     sync.Mutex
	series map[SeriesKey]*ring
}

type ring struct {
	pts  []Point // circular, len == size once full
	next int     // index of the oldest point once full
	full bool
}

// New returns a Recorder keeping window worth of points at step resolution
// of the given metrics (Add ignores the others).
func New(window, step time.Duration, metrics ...metric.Name) *Recorder {
	if step <= 0 {
		step = time.Second
	}
	if window < step {
		window = step
	}
	keep := map[metric.Name]bool{}
	for _, n := range metrics {
		keep[n] = true
	}
	return &Recorder{window: window, step: step, size: int(window/step) + 1, keep: keep, series: map[SeriesKey]*ring{}}
}

// SeriesKey names the series of one metric of a queue (and media type). It
// is a plain comparable value, so looking a series up allocates nothing.
type SeriesKey struct {
	QueueID, MediaType string
	Metric             metric.Name
}

// Key returns the SeriesKey of one metric of a queue (and media type).
func Key(queueID, mediaType string, name metric.Name) SeriesKey {
	return SeriesKey{QueueID: queueID, MediaType: mediaType, Metric: name}
}

// Add records samples of the recorder's metrics; it may be called on every
// sample on its way into the engine, and takes the lock once per call.
func (r *Recorder) Add(samples ...metric.Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range samples {
		if r.keep[s.Metric] {
			r.recordLocked(Key(s.QueueID, s.MediaType, s.Metric), s.At, s.Value)
		}
	}
}

// Record adds a value of a series. Values older than the series' latest
// step are ignored, so replayed or out-of-order samples do not bend charts.
func (r *Recorder) Record(series SeriesKey, at time.Time, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordLocked(series, at, v)
}

func (r *Recorder) recordLocked(series SeriesKey, at time.Time, v float64) {
	at = at.Truncate(r.step)
	rg := r.series[series]
	if rg == nil {
		rg = &ring{pts: make([]Point, 0, min(r.size, 16))}
		r.series[series] = rg
	}
	if last, ok := rg.last(); ok {
		switch {
		case at.Equal(last.At):
			rg.setLast(Point{At: at, V: v})
			return
		case at.Before(last.At):
			return
		}
	}
	rg.push(Point{At: at, V: v}, r.size)
}

// Points returns the points of a series within the window before its
// latest point, oldest first. It returns nil for an unknown series.
func (r *Recorder) Points(series SeriesKey) []Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	rg := r.series[series]
	if rg == nil {
		return nil
	}
	all := rg.ordered()
	if len(all) == 0 {
		return nil
	}
	from := all[len(all)-1].At.Add(-r.window)
	i := 0
	for i < len(all) && all[i].At.Before(from) {
		i++
	}
	return all[i:]
}

// Forget drops every series whose latest point is older than before.
func (r *Recorder) Forget(before time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, rg := range r.series {
		if last, ok := rg.last(); !ok || last.At.Before(before) {
			delete(r.series, k)
		}
	}
}

func (rg *ring) last() (Point, bool) {
	if len(rg.pts) == 0 {
		return Point{}, false
	}
	if !rg.full {
		return rg.pts[len(rg.pts)-1], true
	}
	return rg.pts[(rg.next+len(rg.pts)-1)%len(rg.pts)], true
}

func (rg *ring) setLast(p Point) {
	if !rg.full {
		rg.pts[len(rg.pts)-1] = p
		return
	}
	rg.pts[(rg.next+len(rg.pts)-1)%len(rg.pts)] = p
}

func (rg *ring) push(p Point, size int) {
	if !rg.full {
		rg.pts = append(rg.pts, p)
		if len(rg.pts) == size {
			rg.full, rg.next = true, 0
		}
		return
	}
	rg.pts[rg.next] = p
	rg.next = (rg.next + 1) % len(rg.pts)
}

func (rg *ring) ordered() []Point {
	out := make([]Point, 0, len(rg.pts))
	if !rg.full {
		return append(out, rg.pts...)
	}
	out = append(out, rg.pts[rg.next:]...)
	return append(out, rg.pts[:rg.next]...)
}
