package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var (
	errDuration    = errors.New(`must be a duration like "30s", "5m" or "1m30s"`)
	errNegDuration = errors.New("must not be negative")
)

// parseDuration reads a Go duration string. A bare number other than 0 is
// refused because its unit would be a guess.
func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := parseFinite(s); err == nil {
		switch {
		case f == 0:
			return 0, nil
		case f < 0:
			return 0, errNegDuration
		}
		return 0, fmt.Errorf("needs a unit (use %ss)", strconv.FormatFloat(f, 'f', -1, 64))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errDuration
	}
	if d < 0 {
		return 0, errNegDuration
	}
	return Duration(d), nil
}

// String renders the duration like time.Duration does, such as "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }
