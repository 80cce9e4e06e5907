package alert

import (
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// heldFunc says why notifications for a series are held back at a time, or "".
type heldFunc func(s *series, at time.Time) string

// series is the live state machine of one (rule, queue, media type).
// It is owned by exactly one shard goroutine.
type series struct {
	st     SeriesState
	rule   *rule.Rule
	levels []rule.Level
	q      *queueInfo
	// Results of the latest evaluation, for transitions and snapshots.
	threshold, clear float64
	breach           bool
	noTarget         bool
}

func newSeries(r *rule.Rule, levels []rule.Level, q *queueInfo) *series {
	return &series{
		rule:   r,
		levels: levels,
		q:      q,
		st: SeriesState{
			Key:       Key(q.id, r.Name, q.media),
			Rule:      r.Name,
			QueueID:   q.id,
			QueueName: q.name,
			MediaType: q.media,
			Metric:    r.Metric,
			State:     OK,
			Level:     -1,
		},
	}
}

// effectiveClearFor is clear_for, extended while the series is flapping.
func (s *series) effectiveClearFor() time.Duration {
	if s.st.Flapping && s.rule.Flap.ClearFor > s.rule.ClearFor {
		return s.rule.Flap.ClearFor
	}
	return s.rule.ClearFor
}

// observe feeds one sample value through the state machine and appends any
// transitions to out.
func (s *series) observe(out []Transition, v float64, at time.Time, held heldFunc) ([]Transition, bool) {
	if !s.st.LastSampleAt.IsZero() && at.Before(s.st.LastSampleAt) {
		return out, false // out of order: evaluation follows the sample clock forwards only
	}
	s.st.LastValue, s.st.LastSampleAt = v, at
	if s.st.Stale {
		s.st.Stale = false
		if s.st.State.Open() {
			out = s.emit(out, s.st.State, at, ActionUpdate, "data received again", "Samples are arriving again.")
		}
	}
	hold := -1
	if s.st.State.Open() {
		hold = max(s.st.Level, 0)
	}
	ev, ok := rule.Evaluate(s.rule.Dir, s.levels, v, s.q.target, s.q.haveTarget, hold)
	s.noTarget = !ok
	if !ok {
		return out, true // the rule needs the queue's target, which is not known yet
	}
	s.threshold, s.clear, s.breach = ev.Threshold, ev.Clear, ev.Breach
	if ep := s.st.Episode; ep != nil && s.st.State.Open() && s.rule.Dir.Worse(v, ep.Worst) {
		ep.Worst, ep.WorstAt = v, at
	}
	switch s.st.State {
	case OK:
		if ev.Breach {
			if s.rule.For == 0 {
				out = s.fire(out, at, ev, "breach", held)
			} else {
				s.st.PendingSince = at
				s.st.Level, s.st.Priority = ev.Level, ev.Priority
				out = s.moveTo(out, Pending, at, fmt.Sprintf("breach; firing if it holds for %s", s.rule.For))
			}
		}
	case Pending:
		switch {
		case !ev.Breach:
			s.st.PendingSince = time.Time{}
			s.st.Level, s.st.Priority = -1, ""
			out = s.moveTo(out, OK, at, "breach ended before "+s.rule.For.String())
		case at.Sub(s.st.PendingSince) >= s.rule.For:
			out = s.fire(out, at, ev, "breach held for "+s.rule.For.String(), held)
		default:
			s.st.Level, s.st.Priority = ev.Level, ev.Priority
		}
	case Firing:
		if ev.Level < 0 {
			s.st.ClearSince = at
			started := s.countFlap(at)
			if s.effectiveClearFor() == 0 {
				return s.resolve(out, at, "value past the clear threshold", held), true
			}
			out = s.moveTo(out, Resolving, at, "value past the clear threshold; resolving after "+s.effectiveClearFor().String())
			if started {
				out = s.emit(out, s.st.State, at, ActionUpdate, "flapping", s.flapNote())
			}
			return out, true
		}
		out = s.changeLevel(out, at, ev)
	case Resolving:
		if ev.Level >= 0 {
			s.st.ClearSince = time.Time{}
			out = s.moveTo(out, Firing, at, "breach again before clear held for "+s.effectiveClearFor().String())
			out = s.changeLevel(out, at, ev)
			return s.noteFlap(out, at), true
		}
		if at.Sub(s.st.ClearSince) >= s.effectiveClearFor() {
			return s.resolve(out, at, "clear held for "+s.effectiveClearFor().String(), held), true
		}
	}
	return s.release(out, at, held), true
}

// advance moves the series' clock to now without a sample: a pending breach
// or a resolving clear that has held long enough completes, silence turns
// into a staleness note, and held notifications are released.
func (s *series) advance(out []Transition, now time.Time, held heldFunc) []Transition {
	if now.Before(s.st.LastSampleAt) {
		return out
	}
	fresh := s.rule.StaleAfter == 0 || now.Sub(s.st.LastSampleAt) < s.rule.StaleAfter
	switch s.st.State {
	case Pending:
		if s.breach && fresh && now.Sub(s.st.PendingSince) >= s.rule.For {
			ev := rule.Evaluation{Level: s.st.Level, Breach: true, Threshold: s.threshold, Clear: s.clear, Priority: s.st.Priority}
			return s.fire(out, now, ev, "breach held for "+s.rule.For.String(), held)
		}
	case Resolving:
		if now.Sub(s.st.ClearSince) >= s.effectiveClearFor() {
			return s.resolve(out, now, "clear held for "+s.effectiveClearFor().String(), held)
		}
	}
	if s.st.State.Open() && !fresh && !s.st.Stale {
		s.st.Stale = true
		silent := now.Sub(s.st.LastSampleAt).Round(time.Second)
		out = s.emit(out, s.st.State, now, ActionUpdate, "no data for "+silent.String(),
			fmt.Sprintf("No data: no sample for %s; the alert stays open until the queue is seen to recover.", silent))
	}
	s.pruneFlaps(now)
	return s.release(out, now, held)
}

func (s *series) fire(out []Transition, at time.Time, ev rule.Evaluation, reason string, held heldFunc) []Transition {
	from := s.st.State
	s.st.State, s.st.Since = Firing, at
	s.st.Level, s.st.Priority = ev.Level, ev.Priority
	s.st.ClearSince = time.Time{}
	s.st.Stale = false
	s.st.Episode = &Episode{
		ID:        fmt.Sprintf("%s@%d", s.st.Key, at.UnixMilli()),
		Key:       s.st.Key,
		Rule:      s.st.Rule,
		QueueID:   s.st.QueueID,
		QueueName: s.st.QueueName,
		MediaType: s.st.MediaType,
		Metric:    s.st.Metric,
		Start:     at,
		Worst:     s.st.LastValue,
		WorstAt:   at,
		Priority:  ev.Priority,
	}
	s.st.Held = held(s, at)
	if s.st.Held == "" {
		s.st.Episode.Notified, s.st.Episode.Destinations = true, s.rule.Notify
	}
	note := ""
	if s.countFlap(at); s.st.Flapping {
		note = s.flapNote()
	}
	return s.emit(out, from, at, ActionCreate, reason, note)
}

func (s *series) resolve(out []Transition, at time.Time, reason string, _ heldFunc) []Transition {
	from := s.st.State
	ep := s.st.Episode
	if ep != nil {
		ep.End = at
	}
	note := ""
	if s.st.Flapping {
		note = "The queue was flapping; it was held open until it stayed clear for " + s.effectiveClearFor().String() + "."
	}
	s.st.State, s.st.Since = OK, at
	s.st.PendingSince, s.st.ClearSince = time.Time{}, time.Time{}
	prio := s.st.Priority
	s.st.Level, s.st.Priority = -1, ""
	s.st.Stale = false
	out = s.emit(out, from, at, ActionResolve, reason, note)
	out[len(out)-1].Priority = prio
	s.st.Episode = nil
	s.st.Held = ""
	return out
}

// changeLevel emits a priority update when the active level's priority changes.
func (s *series) changeLevel(out []Transition, at time.Time, ev rule.Evaluation) []Transition {
	prev := s.st.Priority
	s.st.Level = ev.Level
	if ev.Priority == prev {
		return out
	}
	s.st.Priority = ev.Priority
	if ep := s.st.Episode; ep != nil && ev.Priority.Rank() < ep.Priority.Rank() {
		ep.Priority = ev.Priority
	}
	out = s.emit(out, s.st.State, at, ActionUpdate, fmt.Sprintf("priority %s → %s", prev, ev.Priority), "")
	out[len(out)-1].PrevPriority = prev
	return out
}

// countFlap records an open/close change (a fire, the start of a clear, a
// breach during resolving) and reports whether it made the series start flapping.
func (s *series) countFlap(at time.Time) bool {
	f := s.rule.Flap
	if f.Transitions <= 0 || f.Window <= 0 {
		return false
	}
	s.st.Flaps = append(s.st.Flaps, at)
	s.pruneFlaps(at)
	if s.st.Flapping || len(s.st.Flaps) < f.Transitions {
		return false
	}
	s.st.Flapping = true
	return true
}

func (s *series) flapNote() string {
	return fmt.Sprintf("Flapping: %d state changes within %s; the alert resolves only after the queue stays clear for %s.",
		len(s.st.Flaps), s.rule.Flap.Window, s.effectiveClearFor())
}

// noteFlap counts an open/close change of an open alert and tells the
// destinations when it starts flapping.
func (s *series) noteFlap(out []Transition, at time.Time) []Transition {
	if !s.countFlap(at) {
		return out
	}
	return s.emit(out, s.st.State, at, ActionUpdate, "flapping", s.flapNote())
}

func (s *series) pruneFlaps(now time.Time) {
	if len(s.st.Flaps) == 0 {
		return
	}
	cut := now.Add(-s.rule.Flap.Window)
	i := 0
	for i < len(s.st.Flaps) && !s.st.Flaps[i].After(cut) {
		i++
	}
	if i > 0 {
		s.st.Flaps = append(s.st.Flaps[:0], s.st.Flaps[i:]...)
	}
	if s.st.Flapping && len(s.st.Flaps) < s.rule.Flap.Transitions {
		s.st.Flapping = false
	}
}

// release sends a held create once notifications are no longer held (the
// schedule opened or a silence ended) while the breach is still open.
func (s *series) release(out []Transition, at time.Time, held heldFunc) []Transition {
	ep := s.st.Episode
	if ep == nil || ep.Notified || !s.st.State.Open() {
		return out
	}
	why := held(s, at)
	if why != "" {
		s.st.Held = why
		return out
	}
	was := s.st.Held
	s.st.Held = ""
	ep.Notified, ep.Destinations = true, s.rule.Notify
	return s.emit(out, s.st.State, at, ActionCreate, "notifications no longer held ("+was+"); breach still open", "")
}

func (s *series) moveTo(out []Transition, to State, at time.Time, reason string) []Transition {
	from := s.st.State
	s.st.State, s.st.Since = to, at
	return s.emit(out, from, at, ActionNone, reason, "")
}

// emit appends a transition carrying a deep copy of the series state. Only
// transitions of a notified episode owe notifications.
func (s *series) emit(out []Transition, from State, at time.Time, action Action, reason, note string) []Transition {
	s.st.Version++
	t := Transition{
		Key:       s.st.Key,
		Rule:      s.st.Rule,
		QueueID:   s.st.QueueID,
		QueueName: s.st.QueueName,
		MediaType: s.st.MediaType,
		Metric:    s.st.Metric,
		At:        at,
		From:      from,
		To:        s.st.State,
		Action:    action,
		Reason:    reason,
		Note:      note,
		Value:     s.st.LastValue,
		Threshold: s.threshold,
		Clear:     s.clear,
		Priority:  s.st.Priority,
		Series:    s.snapshotState(),
	}
	if rule.NeedsTarget(s.levels) {
		t.Target = s.q.target
	}
	if ep := s.st.Episode; ep != nil {
		c := *ep
		t.Episode = &c
		if action != ActionNone {
			if ep.Notified {
				t.Destinations = ep.Destinations
			} else {
				t.Held = s.st.Held
			}
		}
	}
	return append(out, t)
}

// snapshotState returns a copy of the state that shares no memory with the series.
func (s *series) snapshotState() SeriesState {
	c := s.st
	if s.st.Episode != nil {
		ep := *s.st.Episode
		c.Episode = &ep
	}
	if len(s.st.Flaps) > 0 {
		c.Flaps = append([]time.Time(nil), s.st.Flaps...)
	}
	return c
}

// queueInfo is what a shard knows of one queue and media type.
type queueInfo struct {
	id, name, media string
	target          float64
	haveTarget      bool
	byMetric        map[metric.Name][]*series
	values          []float64 // latest value per metric.Index
	valueAt         []int64   // unix nanoseconds of values, 0 when never seen
}
