package genesys

import (
	"sort"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// figure is a set of Figures fields that a source reported.
type figure uint16

const (
	figWaiting figure = 1 << iota
	figInteracting
	figAlerting
	figLongestWait
	figOffered
	figAnswered
	figAbandoned
	figServiceLevel
	figTarget
)

const (
	// observationFigures are what an observation query reports.
	observationFigures = figWaiting | figInteracting | figAlerting | figLongestWait
	// aggregateFigures are what an aggregate query reports.
	aggregateFigures = figOffered | figAnswered | figAbandoned | figServiceLevel
)

// Figures are one queue's figures, for one media type or for all. Fields
// hold zero when not reported; Has tells which metrics were.
type Figures struct {
	// Real-time observations.
	Waiting     int           // oWaiting
	Interacting int           // oInteracting
	Alerting    int           // oAlerting
	LongestWait time.Duration // age of the oldest waiting interaction

	// Interval aggregates.
	Offered    int64         // nOffered
	Answered   int64         // tAnswered count
	AnswerTime time.Duration // tAnswered sum
	Abandoned  int64         // tAbandon count
	OverSLA    int64         // nOverSla
	// SLNumerator and SLDenominator are oServiceLevel's: answered within
	// the target over answered plus abandoned (with the org's switches).
	SLNumerator   float64
	SLDenominator float64
	// SLTarget is the service-level target as a fraction 0-1.
	SLTarget float64

	has figure
}

// holder is what the sums read figures from: Figures, or an
// accumulator's per-media entry.
type holder interface{ figures() Figures }

func (f Figures) figures() Figures { return f }

// Has reports whether the figures include metric n.
func (f Figures) Has(n metric.Name) bool {
	switch n {
	case metric.Waiting:
		return f.has&figWaiting != 0
	case metric.Interacting:
		return f.has&figInteracting != 0
	case metric.Alerting:
		return f.has&figAlerting != 0
	case metric.LongestWait:
		return f.has&figLongestWait != 0
	case metric.Offered, metric.AbandonRate:
		return f.has&figOffered != 0
	case metric.ASA:
		return f.has&figAnswered != 0
	case metric.ServiceLevel:
		return f.has&figServiceLevel != 0
	case metric.ServiceLevelTarget:
		return f.has&figTarget != 0
	}
	return false
}

// ServiceLevel returns the service level in percent; it is 100 when no
// interaction was answered or abandoned (nothing missed the target).
func (f Figures) ServiceLevel() (float64, bool) {
	if f.has&figServiceLevel == 0 {
		return 0, false
	}
	if f.SLDenominator <= 0 {
		return 100, true
	}
	return min(max(100*f.SLNumerator/f.SLDenominator, 0), 100), true
}

// AbandonRate returns abandoned interactions as a percentage of offered
// ones, capped at 100.
func (f Figures) AbandonRate() (float64, bool) {
	if f.has&figOffered == 0 {
		return 0, false
	}
	switch {
	case f.Abandoned <= 0:
		return 0, true
	case f.Offered <= f.Abandoned:
		return 100, true
	}
	return 100 * float64(f.Abandoned) / float64(f.Offered), true
}

// ASA returns the average speed of answer, 0 when nothing was answered.
func (f Figures) ASA() (time.Duration, bool) {
	if f.has&figAnswered == 0 {
		return 0, false
	}
	if f.Answered <= 0 {
		return 0, true
	}
	return f.AnswerTime / time.Duration(f.Answered), true
}

// TargetPercent returns the service-level target in percent.
func (f Figures) TargetPercent() (float64, bool) {
	return f.SLTarget * 100, f.has&figTarget != 0
}

// sumFigures adds up per-media figures into queue totals: counts add up,
// the longest wait is the longest, the service level is the sum of
// numerators over the sum of denominators, and the target is weighted by
// denominators (the highest target when there is no traffic).
func sumFigures[F holder](parts map[string]F) Figures {
	var t Figures
	var tw, td, tmax float64
	for _, h := range parts {
		p := h.figures()
		t.has |= p.has
		t.Waiting += p.Waiting
		t.Interacting += p.Interacting
		t.Alerting += p.Alerting
		t.LongestWait = max(t.LongestWait, p.LongestWait)
		t.Offered += p.Offered
		t.Answered += p.Answered
		t.AnswerTime = min(t.AnswerTime+p.AnswerTime, maxAnswerTime)
		t.Abandoned += p.Abandoned
		t.OverSLA += p.OverSLA
		t.SLNumerator += p.SLNumerator
		t.SLDenominator += p.SLDenominator
		if p.has&figTarget != 0 {
			tw += p.SLTarget * p.SLDenominator
			td += p.SLDenominator
			tmax = max(tmax, p.SLTarget)
		}
	}
	if td > 0 {
		t.SLTarget = tw / td
	} else {
		t.SLTarget = tmax
	}
	return t
}

// Agents are the agent figures of a queue (user observation metrics).
type Agents struct {
	Members   int // oMemberUsers
	Active    int // oActiveUsers
	OnQueue   int // oOnQueueUsers, all routing statuses
	OffQueue  int // oOffQueueUsers
	Available int // on queue and IDLE
	// OnQueueByStatus is oOnQueueUsers by routing-status qualifier and
	// RoutingStatuses oUserRoutingStatuses; zero rows are absent.
	OnQueueByStatus map[string]int
	RoutingStatuses map[string]int
	// Reported is true when the source reported agent figures.
	Reported bool
}

// mergeMax combines the agent figures of two groups of one queue. Agent
// metrics describe the queue, not a media type, so a figure repeated in
// several groups is counted once.
func (a *Agents) mergeMax(b Agents) {
	if !b.Reported {
		return
	}
	a.Reported = true
	a.Members = max(a.Members, b.Members)
	a.Active = max(a.Active, b.Active)
	a.OnQueue = max(a.OnQueue, b.OnQueue)
	a.OffQueue = max(a.OffQueue, b.OffQueue)
	for _, p := range []struct{ dst, src *map[string]int }{{&a.OnQueueByStatus, &b.OnQueueByStatus}, {&a.RoutingStatuses, &b.RoutingStatuses}} {
		for k, v := range *p.src {
			if *p.dst == nil {
				*p.dst = map[string]int{}
			}
			(*p.dst)[k] = max((*p.dst)[k], v)
		}
	}
	a.finish()
}

// finish derives Available: IDLE agents among those on queue, or, when
// on-queue agents are not split by routing status, IDLE routing statuses.
func (a *Agents) finish() {
	if n, ok := a.OnQueueByStatus["IDLE"]; ok {
		a.Available = n
		return
	}
	if len(a.OnQueueByStatus) > 0 {
		a.Available = 0
		return
	}
	a.Available = a.RoutingStatuses["IDLE"]
}

// QueueStats are one queue's figures from one answer or event.
type QueueStats struct {
	QueueID   string
	QueueName string // from the client's queue directory, when known
	// Media holds the figures per analytics media type. The key "" holds
	// figures reported without a media type; they count in Total only.
	Media map[string]Figures
	// Total is the sum over Media, plus what the source reported as
	// zero for the whole queue (rows Genesys omits because they are 0).
	Total  Figures
	Agents Agents
}

// mediaTypes returns the named media types of q in lexical order.
func (q QueueStats) mediaTypes() []string {
	out := make([]string, 0, len(q.Media))
	for k := range q.Media {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Interval is a time interval [Start, End).
type Interval struct {
	Start, End time.Time
}

// String formats the interval as Genesys expects: ISO-8601 start/end.
func (iv Interval) String() string {
	const layout = "2006-01-02T15:04:05.000Z"
	return iv.Start.UTC().Format(layout) + "/" + iv.End.UTC().Format(layout)
}

// Report is the figures of several queues from one query or event.
type Report struct {
	// At is when the figures were taken: the client's clock when the
	// (last) request was sent, or the event's time. The figures are at
	// least that fresh; stamping them with the arrival of the answer
	// instead would let an answer that was slow to come outrank a newer
	// stream event of the same queue.
	At time.Time
	// Interval is the aggregate interval; zero for observations.
	Interval Interval
	Queues   []QueueStats
	// Source is what Samples puts in Sample.Source.
	Source metric.Source
}

// Samples converts the report to samples at time at (r.At when zero):
// queue totals with an empty MediaType, then each media type's figures.
// Only reported metrics are included.
func (r Report) Samples(at time.Time) []metric.Sample {
	if at.IsZero() {
		at = r.At
	}
	var out []metric.Sample
	for _, q := range r.Queues {
		out = q.AppendSamples(out, at, r.Source)
	}
	return out
}

// TotalSamples is Samples without the per-media samples: queue totals and
// agent figures only.
func (r Report) TotalSamples(at time.Time) []metric.Sample {
	var out []metric.Sample
	for _, s := range r.Samples(at) {
		if s.MediaType == "" {
			out = append(out, s)
		}
	}
	return out
}

// AppendSamples appends the samples of q to dst (see Report.Samples).
func (q QueueStats) AppendSamples(dst []metric.Sample, at time.Time, src metric.Source) []metric.Sample {
	add := func(media string, n metric.Name, v float64) {
		dst = append(dst, metric.Sample{QueueID: q.QueueID, QueueName: q.QueueName, MediaType: media, Metric: n, Value: v, At: at, Source: src})
	}
	figures := func(media string, f Figures) {
		if f.has&figWaiting != 0 {
			add(media, metric.Waiting, float64(f.Waiting))
		}
		if f.has&figInteracting != 0 {
			add(media, metric.Interacting, float64(f.Interacting))
		}
		if f.has&figAlerting != 0 {
			add(media, metric.Alerting, float64(f.Alerting))
		}
		if f.has&figLongestWait != 0 {
			add(media, metric.LongestWait, f.LongestWait.Seconds())
		}
		if v, ok := f.ServiceLevel(); ok {
			add(media, metric.ServiceLevel, v)
		}
		if v, ok := f.TargetPercent(); ok {
			add(media, metric.ServiceLevelTarget, v)
		}
		if v, ok := f.AbandonRate(); ok {
			add(media, metric.AbandonRate, v)
			add(media, metric.Offered, float64(f.Offered))
		}
		if v, ok := f.ASA(); ok {
			add(media, metric.ASA, v.Seconds())
		}
	}
	figures("", q.Total)
	if q.Agents.Reported {
		add("", metric.OnQueueAgents, float64(q.Agents.OnQueue))
		add("", metric.AvailableAgents, float64(q.Agents.Available))
	}
	for _, m := range q.mediaTypes() {
		figures(m, q.Media[m])
	}
	return dst
}
