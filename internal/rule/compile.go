package rule

import (
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/calendar"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Compile turns validated configuration into rules. Configuration problems are
// reported by config.Load with file and line; Compile only guards against
// configurations that did not come through it.
func Compile(cfg *config.Config) ([]*Rule, error) {
	schedules := make(map[string]*calendar.Schedule, len(cfg.Schedules))
	for _, s := range cfg.Schedules {
		cs, err := compileSchedule(s)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", s.Name, err)
		}
		schedules[s.Name] = cs
	}
	out := make([]*Rule, 0, len(cfg.Rules))
	for _, rc := range cfg.Rules {
		r, err := compileRule(rc, schedules)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", rc.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func compileRule(rc config.Rule, schedules map[string]*calendar.Schedule) (*Rule, error) {
	r := &Rule{
		Name:       rc.Name,
		Metric:     metric.Name(rc.Metric),
		For:        rc.For.D(),
		ClearFor:   rc.ClearFor.D(),
		StaleAfter: rc.StaleAfter.D(),
		Queues:     rc.Queues,
		Exclude:    rc.Exclude,
		MediaTypes: rc.MediaTypes,
		Notify:     rc.Notify,
		Flap: Flap{
			Window:      rc.Flap.Window.D(),
			Transitions: rc.Flap.Transitions,
			ClearFor:    rc.Flap.ClearFor.D(),
		},
	}
	if len(r.Queues) == 0 {
		r.Queues = []string{"*"}
	}
	if _, ok := metric.Lookup(r.Metric); !ok {
		return nil, fmt.Errorf("unknown metric %q", rc.Metric)
	}
	if rc.Schedule != "" {
		s, ok := schedules[rc.Schedule]
		if !ok {
			return nil, fmt.Errorf("unknown schedule %q", rc.Schedule)
		}
		r.Schedule = s
	}
	var err error
	if len(rc.Levels) > 0 {
		r.Dir, r.Levels, err = compileLevels(rc.Levels)
	} else {
		r.Dir, r.Levels, err = singleLevel(rc.Above, rc.Below, rc.Clear, rc.Priority)
	}
	if err != nil {
		return nil, err
	}
	for _, oc := range rc.Overrides {
		o := Override{Queues: oc.Queues, Disabled: oc.Disabled, Levels: r.Levels}
		if len(oc.Levels) > 0 {
			dir, levels, err := compileLevels(oc.Levels)
			if err != nil {
				return nil, fmt.Errorf("override: %w", err)
			}
			if dir != r.Dir {
				return nil, fmt.Errorf("override levels are %s the threshold but the rule is %s", dir, r.Dir)
			}
			o.Levels = levels
		}
		if oc.Threshold != nil || oc.Clear != nil {
			o.Levels = append([]Level(nil), o.Levels...)
			if oc.Threshold != nil {
				o.Levels[0].Threshold = threshold(*oc.Threshold)
				o.Levels[0].Clear = o.Levels[0].Threshold
			}
			if oc.Clear != nil {
				o.Levels[0].Clear = threshold(*oc.Clear)
			}
		}
		r.Overrides = append(r.Overrides, o)
	}
	return r, nil
}

func singleLevel(above, below, clear *config.Threshold, priority string) (Direction, []Level, error) {
	var dir Direction
	var thr *config.Threshold
	switch {
	case above != nil && below != nil:
		return 0, nil, fmt.Errorf("both above and below are set")
	case above != nil:
		dir, thr = Above, above
	case below != nil:
		dir, thr = Below, below
	default:
		return 0, nil, fmt.Errorf("neither above, below nor levels is set")
	}
	l := Level{Threshold: threshold(*thr)}
	l.Clear = l.Threshold
	if clear != nil {
		l.Clear = threshold(*clear)
	}
	p, err := priorityOrDefault(priority)
	if err != nil {
		return 0, nil, err
	}
	l.Priority = p
	return dir, []Level{l}, nil
}

func compileLevels(lcs []config.Level) (Direction, []Level, error) {
	var dir Direction
	levels := make([]Level, 0, len(lcs))
	for i, lc := range lcs {
		d, ls, err := singleLevel(lc.Above, lc.Below, lc.Clear, lc.Priority)
		if err != nil {
			return 0, nil, fmt.Errorf("level %d: %w", i+1, err)
		}
		if i > 0 && d != dir {
			return 0, nil, fmt.Errorf("level %d is %s its threshold but level 1 is %s", i+1, d, dir)
		}
		dir = d
		levels = append(levels, ls[0])
	}
	return dir, levels, nil
}

func priorityOrDefault(p string) (Priority, error) {
	if p == "" {
		return P3, nil
	}
	return ParsePriority(p)
}

func threshold(t config.Threshold) Threshold { return Threshold{Target: t.Target, Value: t.Value} }

func compileSchedule(sc config.Schedule) (*calendar.Schedule, error) {
	tz := sc.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	days, err := calendar.ParseWeekdays(sc.Weekdays)
	if err != nil {
		return nil, err
	}
	s := &calendar.Schedule{Name: sc.Name, Location: loc, Weekdays: days, Holidays: map[string]bool{}}
	for _, h := range sc.Hours {
		r, err := calendar.ParseRange(h)
		if err != nil {
			return nil, err
		}
		s.Ranges = append(s.Ranges, r)
	}
	for _, d := range sc.Holidays {
		if _, err := time.ParseInLocation(time.DateOnly, d, loc); err != nil {
			return nil, fmt.Errorf("holiday %q is not a YYYY-MM-DD date", d)
		}
		s.Holidays[d] = true
	}
	return s, nil
}
