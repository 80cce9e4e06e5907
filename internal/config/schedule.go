package config

import (
	"errors"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/calendar"
)

const dateLayout = "2006-01-02"

var errLocal = errors.New(`"Local" depends on the machine; use an IANA name such as Europe/Berlin`)

// loadLocation loads an IANA time zone, refusing "Local".
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errLocal
	}
	return time.LoadLocation(name)
}

func (d *decoder) validateSchedules(schedules []Schedule) {
	names := map[string]string{}
	for i := range schedules {
		p := indexPath("schedules", i)
		s := &schedules[i]
		d.checkName(p, "schedule", s.Name, names)

		if _, err := loadLocation(s.Timezone); err != nil {
			if errors.Is(err, errLocal) {
				d.at(p+".timezone", err.Error())
			} else {
				d.atf(p+".timezone", "unknown time zone %q; use an IANA name such as Europe/Berlin or America/New_York", s.Timezone)
			}
		}
		for j, w := range s.Weekdays {
			if _, canonical, err := calendar.ParseWeekday(w); err == nil {
				s.Weekdays[j] = canonical
			} else {
				d.at(indexPath(p+".weekdays", j), err.Error())
			}
		}
		for j, h := range s.Hours {
			if r, err := calendar.ParseRange(h); err != nil {
				d.at(indexPath(p+".hours", j), err.Error())
			} else {
				s.Hours[j] = r.String()
			}
		}
		for j, h := range s.Holidays {
			if _, err := time.Parse(dateLayout, strings.TrimSpace(h)); err != nil {
				d.atf(indexPath(p+".holidays", j), "%q is not a date YYYY-MM-DD, such as 2026-12-25", h)
			} else {
				s.Holidays[j] = strings.TrimSpace(h)
			}
		}
	}
}
