package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/calendar"
)

func TestScheduleNormalised(t *testing.T) {
	src := `schedules:
  - name: office
    timezone: America/New_York
    weekdays: [Monday-Friday, SAT, sun-sun]
    hours: ["8:00-18:00", "22:00 - 06:00", "00:00-24:00"]
    holidays: [2026-12-25]
`
	c := mustParse(t, src, nil)
	s := c.Schedules[0]
	if want := []string{"mon-fri", "sat", "sun-sun"}; !reflect.DeepEqual(s.Weekdays, want) {
		t.Errorf("weekdays = %q, want %q", s.Weekdays, want)
	}
	if want := []string{"08:00-18:00", "22:00-06:00", "00:00-24:00"}; !reflect.DeepEqual(s.Hours, want) {
		t.Errorf("hours = %q, want %q", s.Hours, want)
	}
	if want := []string{"2026-12-25"}; !reflect.DeepEqual(s.Holidays, want) {
		t.Errorf("holidays = %q, want %q (an unquoted YAML date kept as written)", s.Holidays, want)
	}
}

func TestParseWeekdays(t *testing.T) {
	all := func(days ...time.Weekday) (out [7]bool) {
		for _, d := range days {
			out[d] = true
		}
		return out
	}
	tests := []struct {
		in        string
		days      [7]bool
		canonical string
		ok        bool
	}{
		{"mon", all(time.Monday), "mon", true},
		{"Sunday", all(time.Sunday), "sun", true},
		{"mon-fri", all(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), "mon-fri", true},
		{"fri-mon", all(time.Friday, time.Saturday, time.Sunday, time.Monday), "fri-mon", true},
		{"Saturday - Sunday", all(time.Saturday, time.Sunday), "sat-sun", true},
		{"funday", [7]bool{}, "", false},
		{"mon-", [7]bool{}, "", false},
		{"mon-fri-sat", [7]bool{}, "", false},
		{"", [7]bool{}, "", false},
	}
	for _, tt := range tests {
		days, canonical, err := calendar.ParseWeekday(tt.in)
		ok := err == nil
		if ok != tt.ok || days != tt.days || canonical != tt.canonical {
			t.Errorf("parseWeekdays(%q) = %v, %q, %v; want %v, %q, %v", tt.in, days, canonical, ok, tt.days, tt.canonical, tt.ok)
		}
	}
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"08:00-18:00", 8 * 60, 18 * 60, true},
		{"00:00-24:00", 0, 24 * 60, true},
		{"22:00-06:00", 22 * 60, 6 * 60, true},
		{"23:59-00:00", 23*60 + 59, 0, true},
		{"09:00-09:00", 0, 0, false},
		{"24:00-08:00", 0, 0, false},
		{"08:00-24:01", 0, 0, false},
		{"08:60-09:00", 0, 0, false},
		{"8-17", 0, 0, false},
		{"08:00", 0, 0, false},
	}
	for _, tt := range tests {
		r, err := calendar.ParseRange(tt.in)
		start, end := r.Start, r.End
		if (err == nil) != tt.ok || (tt.ok && (start != tt.start || end != tt.end)) {
			t.Errorf("parseHours(%q) = %d, %d, %v; want %d, %d, ok %v", tt.in, start, end, err, tt.start, tt.end, tt.ok)
		}
	}
}
