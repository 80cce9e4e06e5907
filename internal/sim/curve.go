package sim

import (
	"math"
	"time"
)

// DailyCurve returns the share of the peak arrival rate that a typical
// weekday contact center sees at t, from about 0.03 at night to 1 at the
// late-morning peak (around 10:30 UTC), with a lunchtime dip to about 0.73
// and a second peak of about 0.92 in the early afternoon (around 14:45
// UTC) before the evening tail-off. Only the UTC time of day matters.
func DailyCurve(t time.Time) float64 {
	t = t.UTC()
	h := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600 +
		float64(t.Nanosecond())/3.6e12
	return rawCurve(h) / curvePeak
}

// curvePeak is the maximum of rawCurve over the day, so that DailyCurve
// peaks at exactly 1.
var curvePeak = func() float64 {
	peak := 0.0
	for m := range 24 * 60 * 10 {
		peak = max(peak, rawCurve(float64(m)/600))
	}
	return peak
}()

func rawCurve(h float64) float64 {
	bump := func(center, width float64) float64 {
		// Wrap around midnight so the curve is continuous.
		d := math.Remainder(h-center, 24)
		return math.Exp(-0.5 * (d / width) * (d / width))
	}
	return 0.03 +
		1.00*bump(10.5, 1.5) +
		0.90*bump(14.75, 1.6) +
		0.25*bump(19, 2)
}

// shiftedCurve returns DailyCurve evaluated shift later than the time it is
// given, so that a simulation can play any time of day.
func shiftedCurve(shift time.Duration) func(time.Time) float64 {
	return func(t time.Time) float64 { return DailyCurve(t.Add(shift)) }
}
