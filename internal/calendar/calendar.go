// Package calendar evaluates business-hours calendars: weekdays and hour
// ranges in an IANA time zone, minus holidays.
package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is a business-hours calendar: weekdays and hour ranges in a time
// zone, minus holidays. Hours are wall-clock, so a daylight-saving change
// moves the schedule with local time.
type Schedule struct {
	Name     string
	Location *time.Location
	Weekdays [7]bool         // indexed by time.Weekday
	Ranges   []MinuteRange   // empty means all day
	Holidays map[string]bool // "2006-01-02" in Location
}

// MinuteRange is a range of minutes since local midnight, [Start, End).
// Start > End wraps past midnight; the part after midnight belongs to the
// day the range started on.
type MinuteRange struct{ Start, End int }

// Active reports whether the schedule is open at t.
func (s *Schedule) Active(t time.Time) bool {
	if s == nil {
		return true
	}
	local := t.In(s.Location)
	minute := local.Hour()*60 + local.Minute()
	if len(s.Ranges) == 0 {
		return s.dayOpen(local)
	}
	yesterday := local.AddDate(0, 0, -1)
	for _, r := range s.Ranges {
		if r.Start < r.End {
			if minute >= r.Start && minute < r.End && s.dayOpen(local) {
				return true
			}
			continue
		}
		if minute >= r.Start && s.dayOpen(local) {
			return true
		}
		if minute < r.End && s.dayOpen(yesterday) {
			return true
		}
	}
	return false
}

func (s *Schedule) dayOpen(local time.Time) bool {
	return s.Weekdays[local.Weekday()] && !s.Holidays[local.Format(time.DateOnly)]
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ParseWeekdays turns entries like "mon", "Friday" or "mon-fri" into a set.
// An empty list means every day.
func ParseWeekdays(entries []string) ([7]bool, error) {
	var set [7]bool
	if len(entries) == 0 {
		for i := range set {
			set[i] = true
		}
		return set, nil
	}
	for _, e := range entries {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(e)), "-")
		a, ok := weekdayNames[from]
		if !ok {
			return set, fmt.Errorf("weekday %q is not one of mon, tue, wed, thu, fri, sat, sun", e)
		}
		b := a
		if isRange {
			if b, ok = weekdayNames[to]; !ok {
				return set, fmt.Errorf("weekday %q is not one of mon, tue, wed, thu, fri, sat, sun", e)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			set[d] = true
			if d == b {
				break
			}
		}
	}
	return set, nil
}

// ParseRange parses "HH:MM-HH:MM" (end may be 24:00).
func ParseRange(s string) (MinuteRange, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return MinuteRange{}, fmt.Errorf("hours %q must look like 08:00-18:00", s)
	}
	a, err := parseClock(from)
	if err != nil {
		return MinuteRange{}, fmt.Errorf("hours %q: %w", s, err)
	}
	b, err := parseClock(to)
	if err != nil {
		return MinuteRange{}, fmt.Errorf("hours %q: %w", s, err)
	}
	if a == b {
		return MinuteRange{}, fmt.Errorf("hours %q: start and end are the same", s)
	}
	if a == 24*60 {
		return MinuteRange{}, fmt.Errorf("hours %q: a range cannot start at 24:00", s)
	}
	return MinuteRange{Start: a, End: b}, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || n != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}
