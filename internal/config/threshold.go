package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// errThreshold is the message for a value that is not a threshold.
var errThreshold = errors.New(`must be a number or "target"`)

// parseThreshold reads a threshold written as a number ("80", "2.5") or as
// the queue's target with an optional offset ("target", "target-5",
// "target+2.5"). Spaces and letter case are ignored in the target form.
func parseThreshold(s string) (Threshold, error) {
	t := strings.ToLower(strings.Join(strings.Fields(s), ""))
	if rest, ok := strings.CutPrefix(t, "target"); ok {
		if rest == "" {
			return Threshold{Target: true}, nil
		}
		if rest[0] != '+' && rest[0] != '-' {
			return Threshold{}, errThreshold
		}
		v, err := parseFinite(rest)
		if err != nil {
			return Threshold{}, errThreshold
		}
		return Threshold{Target: true, Value: v}, nil
	}
	v, err := parseFinite(strings.TrimSpace(s))
	if err != nil {
		return Threshold{}, errThreshold
	}
	return Threshold{Value: v}, nil
}

// parseFinite parses a decimal number and refuses NaN and infinities.
func parseFinite(s string) (float64, error) {
	if strings.ContainsAny(s, "xXpP_") { // no hex floats or digit separators
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, strconv.ErrRange
	}
	return v, nil
}

// String renders the threshold the way it is written in the configuration:
// "80", "2.5", "target" or "target-5".
func (t Threshold) String() string {
	num := strconv.FormatFloat(t.Value, 'f', -1, 64)
	if !t.Target {
		return num
	}
	switch {
	case t.Value == 0:
		return "target"
	case t.Value > 0:
		return "target+" + num
	default:
		return "target" + num
	}
}

// sameKind reports whether a and b can be ordered without knowing the
// queue's target: both plain numbers, or both relative to the target.
func sameKind(a, b *Threshold) bool {
	return a != nil && b != nil && a.Target == b.Target
}
