package genesys

import (
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// Accumulator keeps the latest per-media figures of each queue from a
// stream of events, so that queue totals can be given for events that
// carry one media type each. It is safe for concurrent use.
type Accumulator struct {
	names func(queueID string) string

	mu     sync.Mutex
	queues map[string]map[string]Figures
}

// NewAccumulator returns an empty accumulator; names, when not nil, gives
// the queue names put in samples (for example from Client.KnownQueue).
func NewAccumulator(names func(queueID string) string) *Accumulator {
	return &Accumulator{names: names, queues: map[string]map[string]Figures{}}
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

// Apply merges a queue's figures into the accumulator and returns them
// with Total recomputed over every media type seen for the queue. When
// whole is true, the figures cover every media type: media types they
// leave out are taken to be zero for the metrics they report.
func (a *Accumulator) Apply(s QueueStats, whole bool) QueueStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	media := a.queues[s.QueueID]
	if media == nil {
		media = map[string]Figures{}
		a.queues[s.QueueID] = media
	}
	if whole {
		var bits figure
		for _, f := range s.Media {
			bits |= f.has
		}
		bits |= s.Total.has
		for m, f := range media {
			if _, ok := s.Media[m]; !ok {
				media[m] = zeroed(f, bits)
			}
		}
	}
	out := s
	out.Media = make(map[string]Figures, len(s.Media))
	for m, f := range s.Media {
		merged := overlay(media[m], f)
		media[m] = merged
		out.Media[m] = merged
	}
	out.Total = sumFigures(media)
	if out.QueueName == "" && a.names != nil {
		out.QueueName = a.names(s.QueueID)
	}
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
// seen. Errors are those of ParseEvent.
func (a *Accumulator) Parse(body []byte, now time.Time) ([]metric.Sample, error) {
	e, err := ParseEvent(body, now)
	if err != nil {
		return nil, err
	}
	at := now
	if !e.Time.IsZero() {
		at = e.Time
	}
	s := a.Apply(e.Stats, e.Whole)
	return s.AppendSamples(nil, at, metric.SourceStream), nil
}
