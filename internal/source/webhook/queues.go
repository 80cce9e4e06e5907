package webhook

import (
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// maxMediaPerQueue bounds the media types remembered per queue.
const maxMediaPerQueue = 16

// additive are the current-state counts whose queue total is the sum over
// media types. Interval figures are left out: the media of a queue report
// different intervals at different times.
var additive = map[metric.Name]int{metric.Waiting: 0, metric.Interacting: 1, metric.Alerting: 2}

// queueState is what the tracker remembers of one queue.
type queueState struct {
	// media holds the latest additive counts per media type.
	media map[string]*[3]mediaFigure
}

type mediaFigure struct {
	value float64
	ok    bool
}

// tracker bounds the queues the webhook feeds into the engine and derives
// queue totals from per-media figures.
type tracker struct {
	max int

	mu      sync.Mutex
	queues  map[string]*queueState
	dropped uint64
}

func newTracker(max int) *tracker {
	return &tracker{max: max, queues: map[string]*queueState{}}
}

// totalKey is one queue's total of one metric.
type totalKey struct {
	queue  string
	metric metric.Name
}

// process drops samples of queues beyond the cap, remembers per-media
// counts, and appends a queue total for every queue and additive metric the
// samples report per media type only. It returns the samples to evaluate
// and how many were dropped.
func (t *tracker) process(samples []metric.Sample) ([]metric.Sample, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := samples[:0:0]
	dropped := 0
	haveTotal := map[totalKey]bool{}
	wantTotal := map[totalKey]metric.Sample{} // the latest per-media sample
	var order []totalKey
	for _, s := range samples {
		q := t.queues[s.QueueID]
		if q == nil {
			if len(t.queues) >= t.max {
				dropped++
				continue
			}
			q = &queueState{}
			t.queues[s.QueueID] = q
		}
		out = append(out, s)
		i, ok := additive[s.Metric]
		if !ok {
			continue
		}
		k := totalKey{s.QueueID, s.Metric}
		if s.MediaType == "" {
			haveTotal[k] = true
			continue
		}
		if q.media == nil {
			q.media = map[string]*[3]mediaFigure{}
		}
		f := q.media[s.MediaType]
		if f == nil {
			if len(q.media) >= maxMediaPerQueue {
				continue
			}
			f = &[3]mediaFigure{}
			q.media[s.MediaType] = f
		}
		f[i] = mediaFigure{s.Value, true}
		if _, seen := wantTotal[k]; !seen {
			order = append(order, k)
		}
		wantTotal[k] = s
	}
	for _, k := range order {
		if haveTotal[k] {
			continue
		}
		last := wantTotal[k]
		var sum float64
		for _, f := range t.queues[k.queue].media {
			if fig := f[additive[k.metric]]; fig.ok {
				sum += fig.value
			}
		}
		out = append(out, metric.Sample{QueueID: last.QueueID, QueueName: last.QueueName, Metric: k.metric,
			Value: sum, At: last.At, Source: last.Source})
	}
	t.dropped += uint64(dropped)
	return out, dropped
}

// stats returns the number of queues tracked and of samples dropped.
func (t *tracker) stats() (queues int, dropped uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queues), t.dropped
}

// stamp fills what a parser may leave out: the sample time and the source.
func stamp(samples []metric.Sample, at time.Time) {
	for i := range samples {
		if samples[i].At.IsZero() {
			samples[i].At = at
		}
		samples[i].Source = metric.SourceWebhook
	}
}
