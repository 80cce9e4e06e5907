package genesys

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// MaxMediaPerQueue is how many media types an Accumulator remembers per
// queue (Genesys has about a dozen). Figures of further media types are
// returned by Apply for the media type itself but are neither remembered
// nor counted in the queue total.
const MaxMediaPerQueue = 16

// intervalFigures are the figures that belong to an aggregation interval.
const intervalFigures = figOffered | figAnswered | figAbandoned | figServiceLevel

// Accumulator keeps the latest per-media figures of each queue from a
// stream of events, so that queue totals can be given for events that
// carry one media type each. It is the one place where queuewatch keeps
// such figures: the streamer and the webhook both use it. It is safe for
// concurrent use.
//
// Interval figures (offered, answered, abandoned, service level) of an
// observations event belong to the event's 30-minute interval. When an
// event of a newer interval arrives for a queue, the interval figures of
// the queue's other media types, still those of an older interval, count
// as zero (Genesys publishes on change, so a media type without an event
// in the new interval has had no traffic in it yet); an event of an older
// interval than the queue's newest gives no interval figures. The queue
// total thus never mixes two intervals.
type Accumulator struct {
	names     func(queueID string) string
	maxQueues int

	mu     sync.Mutex
	queues map[string]map[string]mediaFigures
}

// mediaFigures are the remembered figures of one media type.
type mediaFigures struct {
	Figures
	// interval is the start of the interval of the interval figures;
	// zero when unknown (a poll, an activity event).
	interval time.Time
}

func (m mediaFigures) figures() Figures { return m.Figures }

// NewAccumulator returns an empty accumulator without a limit on queues;
// names, when not nil, gives the queue names put in samples (for example
// from Client.KnownQueue).
func NewAccumulator(names func(queueID string) string) *Accumulator {
	return NewBoundedAccumulator(names, 0)
}

// NewBoundedAccumulator returns an empty accumulator that remembers at
// most maxQueues queues (no limit when maxQueues is 0), and so at most
// maxQueues × MaxMediaPerQueue figures. Once full, it refuses to Admit
// further queues, and Apply and Parse give their figures without
// remembering them: per-media figures as they are, totals over the
// event's media types alone. Forget makes room.
func NewBoundedAccumulator(names func(queueID string) string, maxQueues int) *Accumulator {
	return &Accumulator{names: names, maxQueues: max(maxQueues, 0), queues: map[string]map[string]mediaFigures{}}
}

// Admit reports whether the accumulator remembers queueID, starting to
// remember it when there is room.
func (a *Accumulator) Admit(queueID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.admitLocked(queueID)
	return ok
}

// admitLocked returns the memory of a queue, made when there is room.
func (a *Accumulator) admitLocked(queueID string) (map[string]mediaFigures, bool) {
	media, ok := a.queues[queueID]
	if ok {
		return media, true
	}
	if a.maxQueues > 0 && len(a.queues) >= a.maxQueues {
		return nil, false
	}
	media = map[string]mediaFigures{}
	a.queues[queueID] = media
	return media, true
}

// Len returns how many queues the accumulator remembers.
func (a *Accumulator) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queues)
}

// overlay copies into dst the figures src reports.
func overlay(dst, src Figures) Figures {
	h := src.has
	if h&figWaiting != 0 {
		dst.Waiting = src.Waiting
	}
	if h&figInteracting != 0 {
		dst.Interacting = src.Interacting
	}
	if h&figAlerting != 0 {
		dst.Alerting = src.Alerting
	}
	if h&figLongestWait != 0 {
		dst.LongestWait = src.LongestWait
	}
	if h&figOffered != 0 {
		dst.Offered = src.Offered
	}
	if h&figAnswered != 0 {
		dst.Answered, dst.AnswerTime = src.Answered, src.AnswerTime
	}
	if h&figAbandoned != 0 {
		dst.Abandoned = src.Abandoned
	}
	if h&figServiceLevel != 0 {
		dst.SLNumerator, dst.SLDenominator, dst.OverSLA = src.SLNumerator, src.SLDenominator, src.OverSLA
	}
	if h&figTarget != 0 {
		dst.SLTarget = src.SLTarget
	}
	dst.has |= h
	return dst
}

// zeroed returns f with the figures in bits reset to reported zeros.
func zeroed(f Figures, bits figure) Figures {
	return overlay(f, Figures{has: bits & f.has})
}

// queueTotal adds up per-media figures into queue totals (see
// sumFigures). The longest wait is left out when a media type has
// interactions waiting for an unknown time: the longest of the known
// waits could understate it.
func queueTotal[F holder](media map[string]F) Figures {
	t := sumFigures(media)
	for _, h := range media {
		if f := h.figures(); f.has&figWaiting != 0 && f.Waiting > 0 && f.has&figLongestWait == 0 {
			t.LongestWait = 0
			t.has &^= figLongestWait
			break
		}
	}
	return t
}

// Apply merges a queue's figures into the accumulator and returns them
// with Total recomputed over every media type remembered for the queue.
// When whole is true, the figures cover every media type: media types they
// leave out are taken to be zero for the metrics they report.
func (a *Accumulator) Apply(s QueueStats, whole bool) QueueStats {
	return a.apply(s, whole, time.Time{})
}

// ApplyEvent merges the figures of a parsed event (see Apply), minding
// the interval its interval figures belong to.
func (a *Accumulator) ApplyEvent(e Event) QueueStats {
	return a.apply(e.Stats, e.Whole, e.interval)
}

func (a *Accumulator) apply(s QueueStats, whole bool, interval time.Time) QueueStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := s
	out.Media = make(map[string]Figures, len(s.Media))
	if out.QueueName == "" && a.names != nil {
		out.QueueName = a.names(s.QueueID)
	}
	media, ok := a.admitLocked(s.QueueID)
	if !ok {
		for m, f := range s.Media {
			out.Media[m] = f
		}
		out.Total = queueTotal(out.Media)
		return out
	}
	strip := figure(0)
	if !interval.IsZero() {
		var newest time.Time
		for _, f := range media {
			if f.interval.After(newest) {
				newest = f.interval
			}
		}
		switch {
		case interval.Before(newest):
			strip = intervalFigures
		case interval.After(newest):
			for m, f := range media {
				if !f.interval.IsZero() && f.interval.Before(interval) {
					media[m] = mediaFigures{zeroed(f.Figures, intervalFigures), interval}
				}
			}
		}
	}
	if whole {
		var bits figure
		for _, f := range s.Media {
			bits |= f.has
		}
		bits |= s.Total.has
		bits &^= strip
		for m, f := range media {
			if _, ok := s.Media[m]; !ok {
				media[m] = mediaFigures{zeroed(f.Figures, bits), f.interval}
			}
		}
	}
	// In name order, so that which media types are remembered when there
	// are too many does not depend on map order.
	var names []string
	if len(s.Media) == 1 {
		for m := range s.Media {
			names = []string{m} // does not escape
		}
	} else {
		names = make([]string, 0, len(s.Media))
		for m := range s.Media {
			names = append(names, m)
		}
		sort.Strings(names)
	}
	for _, m := range names {
		f := s.Media[m]
		f.has &^= strip
		prev, ok := media[m]
		if !ok && len(media) >= MaxMediaPerQueue {
			out.Media[m] = f
			continue
		}
		merged := mediaFigures{overlay(prev.Figures, f), prev.interval}
		if !interval.IsZero() && f.has&intervalFigures != 0 {
			merged.interval = interval
		}
		media[m] = merged
		out.Media[m] = merged.Figures
	}
	out.Total = queueTotal(media)
	return out
}

// Seed merges figures of a poll (Report.Queues), which cover every media
// type, so that totals of later events start from them.
func (a *Accumulator) Seed(r Report) {
	for _, q := range r.Queues {
		a.Apply(q, true)
	}
}

// Forget drops what the accumulator holds for a queue.
func (a *Accumulator) Forget(queueID string) {
	a.mu.Lock()
	delete(a.queues, queueID)
	a.mu.Unlock()
}

// Parse parses one notification (see ParseEvent), merges it and returns
// its samples from source stream at the event's time or now: the figures
// of the media types it carries and the queue totals over every media type
// seen. now also ages oLongestWaiting timestamps of an event without a
// time of its own. Errors are those of ParseEvent.
func (a *Accumulator) Parse(body []byte, now time.Time) ([]metric.Sample, error) {
	e, err := ParseEvent(body, now)
	if err != nil {
		return nil, err
	}
	at := now
	if !e.Time.IsZero() {
		at = e.Time
	}
	s := a.ApplyEvent(e)
	return s.AppendSamples(nil, at, metric.SourceStream), nil
}

// SampleStats returns the figures one per-media sample gives, for Apply:
// a waiting, interacting, alerting or longest-wait sample with a media
// type, whose value is a count or a number of seconds that fits. ok is
// false for other samples, whose figures cannot be added up (queue-level
// samples, percentages, interval figures). It lets a source of single
// samples, such as the webhook's tutorial events, keep queue totals in an
// Accumulator.
func SampleStats(s metric.Sample) (stats QueueStats, ok bool) {
	const maxValue = 1e9 // 31 years in seconds; far more than any count
	if s.MediaType == "" || !(s.Value >= 0 && s.Value <= maxValue) {
		return QueueStats{}, false
	}
	var f Figures
	n := int(math.Round(s.Value))
	switch s.Metric {
	case metric.Waiting:
		f.Waiting, f.has = n, figWaiting
	case metric.Interacting:
		f.Interacting, f.has = n, figInteracting
	case metric.Alerting:
		f.Alerting, f.has = n, figAlerting
	case metric.LongestWait:
		f.LongestWait, f.has = time.Duration(s.Value*float64(time.Second)), figLongestWait
	default:
		return QueueStats{}, false
	}
	return QueueStats{QueueID: s.QueueID, QueueName: s.QueueName, Media: map[string]Figures{s.MediaType: f}}, true
}
