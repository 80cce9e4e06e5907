// Package rule holds compiled alert rules: which queues and media types a rule
// applies to, its thresholds and levels, and the pure function that maps a
// value to the active level with hysteresis. It does no I/O and keeps no state.
package rule

import (
	"fmt"
	"path"
	"time"

	"github.com/queuewatch/queuewatch/internal/calendar"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Direction says which side of a threshold is a breach.
type Direction int

// Directions.
const (
	// Above breaches when the value is greater than the threshold.
	Above Direction = iota + 1
	// Below breaches when the value is less than the threshold.
	Below
)

func (d Direction) String() string {
	if d == Below {
		return "below"
	}
	return "above"
}

// Threshold is an absolute number, or an offset from the queue's own
// service-level target.
type Threshold struct {
	Target bool
	Value  float64
}

// Resolve returns the threshold's number for a queue whose target is target.
// ok is false when the threshold needs a target and none is known.
func (t Threshold) Resolve(target float64, haveTarget bool) (v float64, ok bool) {
	if !t.Target {
		return t.Value, true
	}
	if !haveTarget {
		return 0, false
	}
	return target + t.Value, true
}

// String renders the threshold as it is written in the configuration.
func (t Threshold) String() string {
	if !t.Target {
		return fmt.Sprint(t.Value)
	}
	switch {
	case t.Value > 0:
		return fmt.Sprintf("target+%v", t.Value)
	case t.Value < 0:
		return fmt.Sprintf("target%v", t.Value)
	}
	return "target"
}

// Level is one threshold with its own clear threshold and priority.
type Level struct {
	Threshold Threshold
	Clear     Threshold
	Priority  Priority
}

// Override replaces the levels of a rule for the queues it matches.
type Override struct {
	Queues   []string
	Levels   []Level
	Disabled bool
}

// Flap configures flap detection.
type Flap struct {
	Window      time.Duration
	Transitions int
	ClearFor    time.Duration
}

// Rule is a compiled alert rule.
type Rule struct {
	Name       string
	Metric     metric.Name
	Dir        Direction
	Levels     []Level // least to most severe; never empty
	For        time.Duration
	ClearFor   time.Duration
	StaleAfter time.Duration
	Queues     []string
	Exclude    []string
	MediaTypes []string
	Overrides  []Override
	Schedule   *calendar.Schedule
	Notify     []string
	Flap       Flap
}

// Applies reports whether the rule watches the given queue and media type, and
// returns the levels that apply to it (overrides taken into account).
//
// A rule without media types watches the queue's totals (samples with no
// media type) only, so a breach pages once however many media types the
// queue serves; a rule with media types watches those media types' own
// figures, each as a series of its own, and "*" stands for every media type.
func (r *Rule) Applies(queueID, queueName, mediaType string) ([]Level, bool) {
	if !r.watchesMedia(mediaType) {
		return nil, false
	}
	if !MatchQueue(r.Queues, queueID, queueName) || MatchQueue(r.Exclude, queueID, queueName) {
		return nil, false
	}
	for _, o := range r.Overrides {
		if MatchQueue(o.Queues, queueID, queueName) {
			if o.Disabled {
				return nil, false
			}
			return o.Levels, true
		}
	}
	return r.Levels, true
}

// NeedsTarget reports whether any of levels is relative to the queue's target.
func NeedsTarget(levels []Level) bool {
	for _, l := range levels {
		if l.Threshold.Target || l.Clear.Target {
			return true
		}
	}
	return false
}

// MatchQueue reports whether a queue matches any pattern: an exact id, or a
// path.Match glob on the name. Malformed patterns never match (config
// validation rejects them).
func MatchQueue(patterns []string, queueID, queueName string) bool {
	for _, p := range patterns {
		if p == queueID || p == "*" {
			return true
		}
		if ok, _ := path.Match(p, queueName); ok {
			return true
		}
	}
	return false
}

func (r *Rule) watchesMedia(mediaType string) bool {
	if len(r.MediaTypes) == 0 || mediaType == "" {
		return len(r.MediaTypes) == 0 && mediaType == ""
	}
	return contains(r.MediaTypes, "*") || contains(r.MediaTypes, mediaType)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Breaches reports whether v is on the breach side of threshold t.
func (d Direction) Breaches(v, t float64) bool {
	if d == Below {
		return v < t
	}
	return v > t
}

// Cleared reports whether v is past the clear threshold c (on the safe side).
// A value exactly at the clear threshold counts as cleared.
func (d Direction) Cleared(v, c float64) bool {
	if d == Below {
		return v >= c
	}
	return v <= c
}

// Evaluation is the result of evaluating one value against a series' levels.
type Evaluation struct {
	// Level is the active level index, or -1 when the value is clear.
	Level int
	// Breach is true when the value breaches at least the first threshold
	// (as opposed to being held in the hysteresis band).
	Breach    bool
	Threshold float64 // threshold of the active level (of level 0 when clear)
	Clear     float64 // clear threshold of the active level (of level 0 when clear)
	Priority  Priority
}

// Evaluate maps v to the active level given the level currently held (-1 for
// none). A level breached by v is active; a level up to the held one stays
// active until v crosses that level's clear threshold (hysteresis). ok is false
// when a threshold needs the queue's target and none is known.
func Evaluate(dir Direction, levels []Level, v, target float64, haveTarget bool, held int) (Evaluation, bool) {
	ev := Evaluation{Level: -1}
	for i, l := range levels {
		thr, ok1 := l.Threshold.Resolve(target, haveTarget)
		clr, ok2 := l.Clear.Resolve(target, haveTarget)
		if !ok1 || !ok2 {
			return Evaluation{Level: -1}, false
		}
		if i == 0 {
			ev.Threshold, ev.Clear = thr, clr
		}
		breach := dir.Breaches(v, thr)
		if breach && i == 0 {
			ev.Breach = true
		}
		if breach || (i <= held && !dir.Cleared(v, clr)) {
			ev.Level, ev.Threshold, ev.Clear, ev.Priority = i, thr, clr, l.Priority
		}
	}
	return ev, true
}

// Worse reports whether a is a worse value than b for this direction.
func (d Direction) Worse(a, b float64) bool {
	if d == Below {
		return a < b
	}
	return a > b
}
