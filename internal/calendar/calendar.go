// Package calendar evaluates business-hours calendars: weekdays and hour
// ranges in an IANA time zone, minus holidays.
package calendar

import (
	"fmt"
	"regexp"
	"strconv"
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

// weekdayShort is the canonical spelling of each weekday, by time.Weekday.
var weekdayShort = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var weekdayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for i, s := range weekdayShort {
		m[s] = time.Weekday(i)
		m[strings.ToLower(time.Weekday(i).String())] = time.Weekday(i)
	}
	return m
}()

// ParseWeekday reads one weekdays entry: a day ("mon", "Monday") or a range
// of days ("mon-fri"; "fri-mon" wraps past Sunday). It returns the days it
// covers and its canonical spelling.
func ParseWeekday(entry string) (days [7]bool, canonical string, err error) {
	e := strings.ToLower(strings.TrimSpace(entry))
	from, to, isRange := strings.Cut(e, "-")
	first, ok1 := weekdayNames[strings.TrimSpace(from)]
	last, ok2 := first, true
	if isRange {
		last, ok2 = weekdayNames[strings.TrimSpace(to)]
	}
	if !ok1 || !ok2 {
		return days, "", fmt.Errorf("%q is not a weekday or a range of weekdays; use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri", entry)
	}
	for wd := first; ; wd = (wd + 1) % 7 {
		days[wd] = true
		if wd == last {
			break
		}
	}
	canonical = weekdayShort[first]
	if isRange {
		canonical += "-" + weekdayShort[last]
	}
	return days, canonical, nil
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
		days, _, err := ParseWeekday(e)
		if err != nil {
			return set, err
		}
		for i, on := range days {
			set[i] = set[i] || on
		}
	}
	return set, nil
}

var hoursPattern = regexp.MustCompile(`^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$`)

// ParseRange reads a time range "HH:MM-HH:MM". The end may be 24:00; a
// start after the end wraps past midnight.
func ParseRange(s string) (MinuteRange, error) {
	m := hoursPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return MinuteRange{}, fmt.Errorf("%q is not a time range HH:MM-HH:MM, such as 08:00-18:00", s)
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	sh, sm, eh, em := num(1), num(2), num(3), num(4)
	if sh > 23 || sm > 59 || eh > 24 || em > 59 || (eh == 24 && em != 0) {
		return MinuteRange{}, fmt.Errorf("%q has a time outside 00:00-24:00", s)
	}
	r := MinuteRange{Start: sh*60 + sm, End: eh*60 + em}
	if r.Start == r.End {
		return MinuteRange{}, fmt.Errorf("%q starts and ends at the same time; use 00:00-24:00 for the whole day", s)
	}
	return r, nil
}

// String renders the range canonically, e.g. "08:00-18:00".
func (r MinuteRange) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", r.Start/60, r.Start%60, r.End/60, r.End%60)
}
