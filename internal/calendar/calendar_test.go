package calendar

import (
	"testing"
	"time"
)

func mustSchedule(t *testing.T, tz string, days []string, hours []string, holidays ...string) *Schedule {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := ParseWeekdays(days)
	if err != nil {
		t.Fatal(err)
	}
	s := &Schedule{Name: "s", Location: loc, Weekdays: wd, Holidays: map[string]bool{}}
	for _, h := range hours {
		r, err := ParseRange(h)
		if err != nil {
			t.Fatal(err)
		}
		s.Ranges = append(s.Ranges, r)
	}
	for _, h := range holidays {
		s.Holidays[h] = true
	}
	return s
}

func TestActive(t *testing.T) {
	berlin := mustSchedule(t, "Europe/Berlin", []string{"mon-fri"}, []string{"08:00-18:00"}, "2026-12-25")
	night := mustSchedule(t, "America/New_York", []string{"fri"}, []string{"22:00-06:00"})
	cases := []struct {
		name string
		s    *Schedule
		at   string
		want bool
	}{
		// 2026-03-27 is a Friday in CET (UTC+1); on Monday 2026-03-30 Berlin is on CEST (UTC+2).
		{"before opening, winter", berlin, "2026-03-27T06:59:00Z", false},
		{"opening, winter", berlin, "2026-03-27T07:00:00Z", true},
		{"closing, winter", berlin, "2026-03-27T17:00:00Z", false},
		{"after DST change 06:00Z is 08:00 local", berlin, "2026-03-30T06:00:00Z", true},
		{"after DST change 05:59Z is 07:59 local", berlin, "2026-03-30T05:59:00Z", false},
		{"after DST change 16:00Z is 18:00 local: closed", berlin, "2026-03-30T16:00:00Z", false},
		{"weekend", berlin, "2026-03-28T10:00:00Z", false},
		{"holiday", berlin, "2026-12-25T10:00:00Z", false},
		{"day after holiday", berlin, "2026-12-28T10:00:00Z", true},
		{"wrapping range, friday evening", night, "2026-03-28T03:00:00Z", true},                   // Fri 23:00 EDT
		{"wrapping range, saturday early belongs to friday", night, "2026-03-28T09:00:00Z", true}, // Sat 05:00 EDT
		{"wrapping range, saturday 06:00 closed", night, "2026-03-28T10:00:00Z", false},
		{"wrapping range, thursday night closed", night, "2026-03-27T03:00:00Z", false}, // Thu 23:00
		{"nil schedule is always open", nil, "2026-03-28T10:00:00Z", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tc.at)
			if got := tc.s.Active(at); got != tc.want {
				t.Fatalf("Active(%s) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"8-18", "08:00-08:00", "25:00-26:00", "24:00-02:00", "08:60-09:00", "0800-1800"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
	if r, err := ParseRange("18:00-24:00"); err != nil || r.End != 1440 {
		t.Errorf("18:00-24:00: %v %v", r, err)
	}
	if _, err := ParseWeekdays([]string{"funday"}); err == nil {
		t.Error("funday accepted")
	}
	d, err := ParseWeekdays([]string{"fri-mon"})
	if err != nil || !d[time.Saturday] || !d[time.Monday] || d[time.Wednesday] {
		t.Errorf("fri-mon wraps the week: %v %v", d, err)
	}
}
