package config

import (
	"fmt"
	"strings"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// direction is the side of its threshold a rule fires on.
type direction int

const (
	noDirection direction = iota
	fireAbove
	fireBelow
)

func (dir direction) key() string {
	if dir == fireBelow {
		return "below"
	}
	return "above"
}

// mediaTypes are the Genesys media types a rule may be limited to.
var mediaTypes = []string{"voice", "chat", "email", "callback", "message"}

func (d *decoder) validateRules(c *Config) {
	destinations := make([]string, 0, len(c.Destinations))
	for _, dst := range c.Destinations {
		if dst.Name != "" {
			destinations = append(destinations, dst.Name)
		}
	}
	schedules := make([]string, 0, len(c.Schedules))
	for _, s := range c.Schedules {
		if s.Name != "" {
			schedules = append(schedules, s.Name)
		}
	}
	names := map[string]string{}
	for i := range c.Rules {
		p := indexPath("rules", i)
		r := &c.Rules[i]
		d.checkName(p, "rule", r.Name, names)
		d.validateRule(p, r, destinations, schedules)
	}
}

func (d *decoder) validateRule(p string, r *Rule, destinations, schedules []string) {
	// The metric.
	info, known := metric.Lookup(metric.Name(r.Metric))
	switch {
	case r.Metric == "":
		d.required(p+".metric", "")
	case !known:
		names := make([]string, 0, len(metric.Names()))
		for _, n := range metric.Names() {
			names = append(names, string(n))
		}
		d.atf(p+".metric", "unknown metric %q; known metrics are %s", r.Metric, strings.Join(names, ", "))
	}

	// The threshold: above, below or levels.
	dir := d.ruleForm(p, r)

	if r.Clear != nil && len(r.Levels) > 0 {
		d.at(p+".clear", "cannot be used with levels; give each level its own clear")
	}
	d.checkClear(p+".clear", dir, single(r.Above, r.Below), r.Clear)
	d.checkLevels(p+".levels", r.Levels, noDirection)

	r.Priority = d.checkPriority(p+".priority", r.Priority)

	d.checkNonEmptyList(p+".queues", len(r.Queues), "leave it out to match every queue")
	d.checkGlobs(p+".queues", r.Queues)
	d.checkGlobs(p+".exclude", r.Exclude)

	for i, m := range r.MediaTypes {
		k := indexPath(p+".media_types", i)
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "call" {
			m = "voice"
		}
		r.MediaTypes[i] = m
		switch {
		case m == "":
			d.at(k, d.emptyMsg(k))
		case m == "*":
		case !contains(mediaTypes, m):
			d.atf(k, "unknown media type %q; use one of %s (or call for voice, * for every one)", m, strings.Join(mediaTypes, ", "))
		}
	}
	r.MediaTypes = dedupe(r.MediaTypes)

	for i := range r.Overrides {
		d.checkOverride(indexPath(p+".overrides", i), &r.Overrides[i], r, dir)
	}

	if r.Schedule != "" && !contains(schedules, r.Schedule) {
		d.atf(p+".schedule", "unknown schedule %q; defined schedules: %s", r.Schedule, quotedList(schedules))
	}
	for i, n := range r.Notify {
		k := indexPath(p+".notify", i)
		switch {
		case n == "":
			d.at(k, d.emptyMsg(k))
		case !contains(destinations, n):
			d.atf(k, "unknown destination %q; defined destinations: %s", n, quotedList(destinations))
		}
	}
	r.Notify = dedupe(r.Notify)

	switch {
	case r.Flap.Transitions < 0:
		d.at(p+".flap.transitions", "must not be negative")
	case r.Flap.Transitions == 1:
		d.at(p+".flap.transitions", "must be 0 (off) or at least 2")
	}

	// Thresholds must make sense for the metric.
	if known {
		for _, t := range r.thresholds(p) {
			d.checkThresholdFor(t.key, t.t, info)
		}
	}
}

// ruleForm checks that a rule has exactly one of above, below or levels and
// returns the direction it fires in, when known.
func (d *decoder) ruleForm(p string, r *Rule) direction {
	if d.bad[p+".above"] || d.bad[p+".below"] || d.bad[p+".levels"] {
		return noDirection
	}
	switch {
	case r.Above != nil && r.Below != nil:
		d.bothDirections(p, "rule")
		return noDirection
	case (r.Above != nil || r.Below != nil) && len(r.Levels) > 0:
		d.at(p+".levels", `cannot be used together with "above" or "below"; put every threshold in levels`)
		return noDirection
	case r.Above != nil:
		return fireAbove
	case r.Below != nil:
		return fireBelow
	case len(r.Levels) > 0:
		return levelsDirection(r.Levels)
	case d.present[p+".levels"]:
		d.at(p+".levels", `is empty; give at least one level, or use "above" or "below"`)
	default:
		d.at(p, `needs a threshold: "above", "below" or "levels"`)
	}
	return noDirection
}

// bothDirections reports a rule or level that has both above and below,
// on whichever of the two keys comes later in the file.
func (d *decoder) bothDirections(p, what string) {
	second, first := "below", "above"
	if d.line(p+".above") > d.line(p+".below") {
		second, first = first, second
	}
	d.atf(p+"."+second, "cannot be used together with %q; a %s fires either above or below its threshold", first, what)
}

// levelsDirection is the direction of the first level that has one.
func levelsDirection(levels []Level) direction {
	for _, l := range levels {
		switch {
		case l.Above != nil && l.Below == nil:
			return fireAbove
		case l.Below != nil && l.Above == nil:
			return fireBelow
		}
	}
	return noDirection
}

// checkLevels validates the levels of a rule or override. want is the
// direction they must fire in, or noDirection to take it from the first
// level.
func (d *decoder) checkLevels(p string, levels []Level, want direction) {
	dir := want
	dirFrom := ""
	var prev *Threshold
	prevKey := ""
	for i := range levels {
		l := &levels[i]
		lp := indexPath(p, i)
		l.Priority = d.checkPriority(lp+".priority", l.Priority)
		if d.bad[lp+".above"] || d.bad[lp+".below"] {
			continue
		}
		var ldir direction
		switch {
		case l.Above != nil && l.Below != nil:
			d.bothDirections(lp, "level")
			continue
		case l.Above != nil:
			ldir = fireAbove
		case l.Below != nil:
			ldir = fireBelow
		default:
			d.at(lp, `needs "above" or "below"`)
			continue
		}
		key := lp + "." + ldir.key()
		switch {
		case dir == noDirection:
			dir, dirFrom = ldir, indexPath("levels", i)
		case ldir != dir:
			like := dirFrom
			if like == "" {
				like = "the rule"
			}
			d.atf(key, "must be %q like %s; all levels point the same way", dir.key(), like)
			continue
		}
		t := single(l.Above, l.Below)
		d.checkClear(lp+".clear", ldir, t, l.Clear)
		if sameKind(prev, t) {
			if ldir == fireAbove && t.Value <= prev.Value {
				d.atf(key, "must be higher than %s (%s); list levels from the least to the most severe", prevKey, prev)
			}
			if ldir == fireBelow && t.Value >= prev.Value {
				d.atf(key, "must be lower than %s (%s); list levels from the least to the most severe", prevKey, prev)
			}
		}
		prev, prevKey = t, indexPath("levels", i)
	}
}

// checkClear checks that clear is on the safe side of threshold. This is
// only possible when both are plain numbers or both relative to the target.
func (d *decoder) checkClear(key string, dir direction, threshold, clear *Threshold) {
	if !sameKind(threshold, clear) || d.bad[key] {
		return
	}
	switch {
	case dir == fireAbove && clear.Value > threshold.Value:
		d.atf(key, "must be at or below the threshold %s: a rule on \"above\" clears when the value falls back", threshold)
	case dir == fireBelow && clear.Value < threshold.Value:
		d.atf(key, "must be at or above the threshold %s: a rule on \"below\" clears when the value recovers", threshold)
	}
}

// checkPriority validates a priority and returns it in upper case.
func (d *decoder) checkPriority(key, prio string) string {
	up := strings.ToUpper(strings.TrimSpace(prio))
	switch up {
	case "P1", "P2", "P3", "P4", "P5":
		return up
	case "":
		d.required(key, "(P1 to P5)")
	default:
		d.at(key, "must be one of P1, P2, P3, P4, P5")
	}
	return prio
}

func (d *decoder) checkOverride(p string, o *Override, r *Rule, dir direction) {
	if len(o.Queues) == 0 {
		if d.present[p+".queues"] {
			d.at(p+".queues", "is empty; name the queues this override applies to")
		} else {
			d.at(p+".queues", "is required: the queues this override applies to")
		}
	}
	d.checkGlobs(p+".queues", o.Queues)

	hasThreshold := d.present[p+".threshold"] || d.present[p+".clear"] || len(o.Levels) > 0
	switch {
	case o.Disabled && hasThreshold:
		d.at(p+".disabled", `cannot be combined with "threshold", "clear" or "levels"`)
		return
	case o.Disabled:
		return
	case !hasThreshold && !d.bad[p+".threshold"] && !d.bad[p+".clear"] && !d.bad[p+".levels"]:
		d.at(p, `needs at least one of "threshold", "clear", "levels" or "disabled"`)
		return
	}
	if len(r.Levels) > 0 {
		for _, k := range []string{"threshold", "clear"} {
			if d.present[p+"."+k] {
				d.at(p+"."+k, `cannot be used: the rule has levels; override them with "levels"`)
			}
		}
	}
	if len(o.Levels) > 0 {
		for _, k := range []string{"threshold", "clear"} {
			if d.present[p+"."+k] {
				d.atf(p+"."+k, `cannot be used together with "levels"; give each level its own clear`)
			}
		}
	}
	d.checkClear(p+".clear", dir, o.Threshold, o.Clear)
	d.checkLevels(p+".levels", o.Levels, dir)
}

// keyedThreshold is a threshold with the key it was written under.
type keyedThreshold struct {
	key string
	t   *Threshold
}

// thresholds lists every threshold of a rule, its levels and overrides.
func (r *Rule) thresholds(p string) []keyedThreshold {
	var out []keyedThreshold
	addLevel := func(lp string, levels []Level) {
		for i, l := range levels {
			ip := indexPath(lp, i)
			out = append(out, keyedThreshold{ip + ".above", l.Above}, keyedThreshold{ip + ".below", l.Below}, keyedThreshold{ip + ".clear", l.Clear})
		}
	}
	out = append(out, keyedThreshold{p + ".above", r.Above}, keyedThreshold{p + ".below", r.Below}, keyedThreshold{p + ".clear", r.Clear})
	addLevel(p+".levels", r.Levels)
	for i, o := range r.Overrides {
		op := indexPath(p+".overrides", i)
		out = append(out, keyedThreshold{op + ".threshold", o.Threshold}, keyedThreshold{op + ".clear", o.Clear})
		addLevel(op+".levels", o.Levels)
	}
	return out
}

// checkThresholdFor checks that a threshold fits the metric's unit.
func (d *decoder) checkThresholdFor(key string, t *Threshold, info metric.Info) {
	if t == nil || d.bad[key] {
		return
	}
	if _, given := d.lines[key]; !given {
		return // a default copied from another threshold, checked there
	}
	switch {
	case t.Target && info.Name != metric.ServiceLevel:
		d.atf(key, `"target" is the queue's service-level target and only applies to metric %s`, metric.ServiceLevel)
	case !t.Target && info.Unit == metric.Percent && (t.Value < 0 || t.Value > 100):
		d.at(key, fmt.Sprintf("must be between 0 and 100: %s is a percentage", info.Name))
	case !t.Target && info.Unit != metric.Percent && t.Value < 0:
		d.atf(key, "must not be negative: %s is never below 0", info.Name)
	}
}
