// Package simclock is a clock for simulations that run faster than real
// time: it starts at a chosen simulated time and runs Speed times faster
// than the wall clock, but never ahead of it. Once it has caught up with
// the wall clock it keeps pace with it.
//
// Never running ahead matters to anything that compares simulated times
// with the wall clock, such as a delivery due "at" a sample's time: it is
// never due in the future.
package simclock

import (
	"context"
	"time"
)

// Clock is a simulated clock. It is safe for concurrent use; its methods
// match the Now and Sleep of genesys.Clock and alert.Clock.
type Clock struct {
	start  time.Time // simulated time at origin
	origin time.Time // wall time when the clock was made
	speed  float64
	wall   func() time.Time
}

// New returns a clock that reads start now and then advances speed
// simulated seconds per real second until it reaches the wall clock. A
// start after the wall clock is taken as the wall clock. speed below 1 is
// taken as 1.
func New(start time.Time, speed float64) *Clock {
	return newClock(start, speed, time.Now)
}

func newClock(start time.Time, speed float64, wall func() time.Time) *Clock {
	origin := wall()
	if start.After(origin) {
		start = origin
	}
	return &Clock{start: start.Round(0), origin: origin, speed: max(speed, 1), wall: wall}
}

// Speed returns the clock's speed-up.
func (c *Clock) Speed() float64 { return c.speed }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	now, _ := c.read()
	return now
}

// CaughtUp reports whether the clock has reached the wall clock and now
// runs at real speed.
func (c *Clock) CaughtUp() bool {
	_, clamped := c.read()
	return clamped
}

// read returns the simulated time and whether it is held at the wall clock.
func (c *Clock) read() (time.Time, bool) {
	w := c.wall()
	sim := c.start.Add(time.Duration(float64(w.Sub(c.origin)) * c.speed))
	if w = w.Round(0); !sim.Before(w) {
		return w.In(c.start.Location()), true
	}
	return sim, false
}

// Sleep waits until the simulated time has advanced by d, or ctx ends.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	target := c.Now().Add(d)
	for {
		now := c.Now()
		if !now.Before(target) {
			return ctx.Err()
		}
		// Rounding may leave a sliver; the loop takes the rest.
		t := time.NewTimer(max(realFor(target.Sub(now), c.wall().Sub(now), c.speed), time.Microsecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// realFor returns the wall time a clock of speed s, behind the wall clock
// by gap, needs to advance by d: it runs at s until it catches up and at 1
// from then on.
func realFor(d, gap time.Duration, s float64) time.Duration {
	if gap <= 0 || s <= 1 {
		if gap <= 0 {
			return d
		}
		return time.Duration(float64(d) / s)
	}
	catchUp := float64(gap) / (s - 1) // wall time until it catches up
	if fast := catchUp * s; float64(d) > fast {
		return time.Duration(catchUp + float64(d) - fast)
	}
	return time.Duration(float64(d) / s)
}
