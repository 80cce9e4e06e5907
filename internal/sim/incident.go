package sim

import (
	"fmt"
	"math"
	"time"
)

// IncidentKind says what an Incident does to the queues it applies to.
type IncidentKind int

// The kinds of incident the simulator can script.
const (
	// LunchSpike multiplies the arrival rate by Factor, for example 2 for
	// twice the usual traffic.
	LunchSpike IncidentKind = iota + 1
	// AgentsLogOff takes Factor (0 to 1) of the rostered agents off queue
	// over the incident's first minute; agents holding an interaction finish
	// it first. They come back when the incident ends.
	AgentsLogOff
	// Hover steers the arrival rate so that the service level hovers around
	// the queue's target, crossing it back and forth; Factor (0 to below 1,
	// default 0.05) sets how far it swings, as a share of the agents on
	// queue by which the agents' slack setpoint moves, over a period of two
	// windows.
	Hover
	// Outage stops routing, as a telephony or platform outage would: callers
	// keep arriving and waiting, agents stay on queue but get nothing.
	Outage
)

var kindNames = map[IncidentKind]string{
	LunchSpike:   "lunch_spike",
	AgentsLogOff: "agents_log_off",
	Hover:        "hover",
	Outage:       "outage",
}

// String returns the kind's snake_case name, such as "lunch_spike".
func (k IncidentKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("IncidentKind(%d)", int(k))
}

// Incident is a scripted disturbance of one queue, or of every queue when
// QueueID is empty, from Start (an offset from Config.Start) for Duration.
type Incident struct {
	Kind     IncidentKind
	QueueID  string
	Start    time.Duration
	Duration time.Duration
	Factor   float64
}

// End returns the offset from Config.Start at which the incident ends.
func (in Incident) End() time.Duration { return in.Start + in.Duration }

// activeAt reports whether the incident is in force at offset t.
func (in Incident) activeAt(t time.Duration) bool {
	return t >= in.Start && t < in.End()
}

func (in Incident) validate(queues map[string]bool) error {
	if _, ok := kindNames[in.Kind]; !ok {
		return fmt.Errorf("unknown incident kind %d", int(in.Kind))
	}
	if in.QueueID != "" && !queues[in.QueueID] {
		return fmt.Errorf("%s: unknown queue %q", in.Kind, in.QueueID)
	}
	if in.Duration <= 0 {
		return fmt.Errorf("%s: duration must be positive", in.Kind)
	}
	if math.IsNaN(in.Factor) || math.IsInf(in.Factor, 0) {
		return fmt.Errorf("%s: factor must be a finite number", in.Kind)
	}
	switch in.Kind {
	case LunchSpike:
		if in.Factor < 0 {
			return fmt.Errorf("%s: factor %g must not be negative", in.Kind, in.Factor)
		}
	case AgentsLogOff:
		if in.Factor < 0 || in.Factor > 1 {
			return fmt.Errorf("%s: factor %g must be between 0 and 1", in.Kind, in.Factor)
		}
	case Hover:
		if in.Factor < 0 || in.Factor >= 1 {
			return fmt.Errorf("%s: factor %g must be at least 0 and below 1", in.Kind, in.Factor)
		}
	}
	return nil
}

// logOffRamp is how long agents take to log off at the start of an
// AgentsLogOff incident (at most a quarter of the incident).
const logOffRamp = time.Minute

// effects is what the incidents in force do to one queue during one step.
type effects struct {
	arrivals float64   // arrival-rate multiplier
	logOff   float64   // share of rostered agents off queue
	hover    *Incident // the Hover incident in force, if any
	outage   bool      // routing stopped
}

func effectsAt(incidents []Incident, t time.Duration) effects {
	e := effects{arrivals: 1}
	for i := range incidents {
		in := &incidents[i]
		if !in.activeAt(t) {
			continue
		}
		switch in.Kind {
		case LunchSpike:
			e.arrivals *= in.Factor
		case AgentsLogOff:
			ramp := min(logOffRamp, in.Duration/4)
			f := in.Factor
			if elapsed := t - in.Start; elapsed < ramp {
				f *= float64(elapsed) / float64(ramp)
			}
			e.logOff = 1 - (1-e.logOff)*(1-f)
		case Hover:
			if e.hover == nil {
				e.hover = in
			}
		case Outage:
			e.outage = true
		}
	}
	return e
}
