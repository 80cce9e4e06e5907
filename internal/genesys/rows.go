package genesys

import (
	"time"
)

// epochThreshold tells an epoch timestamp in milliseconds (any time after
// 2001-09-09) from a duration in milliseconds (under 31 years).
const epochThreshold = 1e12

// LongestWaitValue converts a Genesys oLongestWaiting value to the age of
// the oldest waiting interaction at now. Live Genesys reports the epoch
// time (ms) at which that interaction started waiting, not a duration;
// values above 1e12 are taken as such timestamps, smaller ones as a
// duration in milliseconds. The result is never negative.
func LongestWaitValue(v float64, now time.Time) time.Duration {
	if v <= 0 {
		return 0
	}
	if v > epochThreshold {
		return max(now.Sub(time.UnixMilli(int64(v))), 0)
	}
	return time.Duration(v * float64(time.Millisecond))
}

// maxAnswerTime bounds a summed answer time (maxSum milliseconds), so that
// adding two of them stays within int64 nanoseconds.
const maxAnswerTime = time.Duration(maxSum) * time.Millisecond

// row is one metric row of an analytics answer or event: a metric, its
// qualifier and its statistics.
type row struct {
	Metric       string             `json:"metric"`
	Qualifier    string             `json:"qualifier,omitempty"`
	Stats        map[string]float64 `json:"stats"`
	Truncated    bool               `json:"truncated,omitempty"`
	Observations []observationValue `json:"observations,omitempty"`
}

// observationValue is one entry of a detail metric's observations.
type observationValue struct {
	ObservationDate time.Time `json:"observationDate"`
	ConversationID  string    `json:"conversationId,omitempty"`
}

// groupAcc accumulates the rows of one group (one queue and media type).
type groupAcc struct {
	f      Figures
	a      Agents
	ratio  float64
	ratios bool
	slRows bool
	over   bool // an nOverSla row came
}

// add applies one row; now is the time relative to which timestamps are
// turned into ages.
func (g *groupAcc) add(r row, now time.Time) {
	count := r.Stats["count"]
	n := int(count)
	f := &g.f
	switch r.Metric {
	case "oWaiting":
		f.Waiting += n
		f.has |= figWaiting
		if oldest, ok := oldestObservation(r.Observations); ok {
			f.LongestWait = max(f.LongestWait, max(now.Sub(oldest), 0))
			f.has |= figLongestWait
		}
	case "oInteracting":
		f.Interacting += n
		f.has |= figInteracting
	case "oAlerting":
		f.Alerting += n
		f.has |= figAlerting
	case "oLongestWaiting":
		f.has |= figLongestWait
		v, ok := r.Stats["calculatedMetricValue"]
		if !ok {
			v, ok = r.Stats["max"]
		}
		if _, counted := r.Stats["count"]; ok && (!counted || count > 0) {
			f.LongestWait = max(f.LongestWait, LongestWaitValue(v, now))
		}
	case "oOnQueueUsers":
		g.agent(&g.a.OnQueue, &g.a.OnQueueByStatus, r.Qualifier, n)
	case "oUserRoutingStatuses":
		g.agent(nil, &g.a.RoutingStatuses, r.Qualifier, n)
	case "oOffQueueUsers":
		g.agent(&g.a.OffQueue, nil, "", n)
	case "oActiveUsers":
		g.agent(&g.a.Active, nil, "", n)
	case "oMemberUsers":
		g.agent(&g.a.Members, nil, "", n)
	case "nOffered":
		f.Offered += int64(count)
		f.has |= figOffered
	case "tAnswered":
		f.Answered += int64(count)
		// Clamped, so that an implausible sum cannot overflow into a
		// negative ASA.
		sum := min(max(r.Stats["sum"], 0), maxSum)
		f.AnswerTime = min(f.AnswerTime+time.Duration(sum*float64(time.Millisecond)), maxAnswerTime)
		f.has |= figAnswered
	case "tAbandon":
		f.Abandoned += int64(count)
		f.has |= figAbandoned
	case "nOverSla":
		f.OverSLA += int64(count)
		g.over = true
	case "oServiceLevel":
		num, okN := r.Stats["numerator"]
		den, okD := r.Stats["denominator"]
		if okN && okD {
			f.SLNumerator += num
			f.SLDenominator += den
			f.has |= figServiceLevel
			g.slRows = true
		} else if ratio, ok := r.Stats["ratio"]; ok {
			g.ratio, g.ratios = ratio, true
		}
		if t, ok := r.Stats["target"]; ok {
			f.SLTarget = t
			f.has |= figTarget
		}
	case "oServiceTarget":
		if t, ok := r.Stats["target"]; ok {
			f.SLTarget = t
			f.has |= figTarget
		}
	}
}

func (g *groupAcc) agent(total *int, by *map[string]int, qualifier string, n int) {
	g.a.Reported = true
	if total != nil {
		*total += n
	}
	if by != nil && qualifier != "" {
		if *by == nil {
			*by = map[string]int{}
		}
		(*by)[qualifier] += n
	}
}

// finish completes the group: a service level reported only as a ratio is
// weighted by answered plus abandoned, and without oServiceLevel it is
// derived as Genesys does with its default switches: (answered − answered
// over the target) / (answered + abandoned).
func (g *groupAcc) finish() {
	f := &g.f
	handled := float64(f.Answered + f.Abandoned)
	switch {
	case g.slRows:
	case g.ratios:
		den := handled
		if den <= 0 {
			den = 1
		}
		f.SLNumerator, f.SLDenominator = g.ratio*den, den
		f.has |= figServiceLevel
	case g.over && f.has&figAnswered != 0:
		f.SLNumerator, f.SLDenominator = float64(f.Answered-f.OverSLA), handled
		f.has |= figServiceLevel
	}
	g.a.finish()
}

func oldestObservation(obs []observationValue) (time.Time, bool) {
	var oldest time.Time
	for _, o := range obs {
		if !o.ObservationDate.IsZero() && (oldest.IsZero() || o.ObservationDate.Before(oldest)) {
			oldest = o.ObservationDate
		}
	}
	return oldest, !oldest.IsZero()
}

// queueAcc accumulates the groups of one queue.
type queueAcc struct {
	media  map[string]Figures
	agents Agents
}

func (q *queueAcc) addGroup(media string, g *groupAcc) {
	g.finish()
	if q.media == nil {
		q.media = map[string]Figures{}
	}
	prev, ok := q.media[media]
	if ok {
		g.f = sumFigures(map[string]Figures{"a": prev, "b": g.f})
	}
	q.media[media] = g.f
	q.agents.mergeMax(g.a)
}

// stats returns the queue's figures; complete are the figures the query
// asked for, which count as reported (zero) for the whole queue even when
// Genesys left their rows out.
func (q *queueAcc) stats(id string, complete figure) QueueStats {
	s := QueueStats{QueueID: id, Media: q.media, Agents: q.agents}
	if s.Media == nil {
		s.Media = map[string]Figures{}
	}
	s.Total = sumFigures(s.Media)
	s.Total.has |= complete
	return s
}
