package sim

import (
	"math"
	"testing"
	"time"
)

func TestDailyCurve(t *testing.T) {
	day := time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC)
	at := func(h float64) float64 { return DailyCurve(day.Add(time.Duration(h * float64(time.Hour)))) }
	peak, peakAt := 0.0, 0.0
	for m := 0.0; m < 24*60; m++ {
		v := at(m / 60)
		if v < 0 || v > 1+1e-12 {
			t.Fatalf("curve %v at %.2fh", v, m/60)
		}
		if v > peak {
			peak, peakAt = v, m/60
		}
	}
	if math.Abs(peak-1) > 1e-3 || peakAt < 10 || peakAt > 12 {
		t.Errorf("peak %.3f at %.2fh, want 1 in the late morning", peak, peakAt)
	}
	if v := at(3); v > 0.1 {
		t.Errorf("curve %.2f at 03:00, want quiet", v)
	}
	if lunch, afternoon := at(12.75), at(14.75); lunch > 0.8 || afternoon < 0.85 || afternoon > 0.97 {
		t.Errorf("curve %.2f at 12:45 and %.2f at 14:30, want a lunchtime dip before an afternoon peak", lunch, afternoon)
	}
	if d := math.Abs(at(23.999) - at(0)); d > 1e-3 {
		t.Errorf("curve jumps by %v at midnight", d)
	}
	// Only the UTC time of day matters.
	paris := time.FixedZone("CEST", 2*3600)
	if a, b := DailyCurve(day.Add(11*time.Hour)), DailyCurve(time.Date(2031, 1, 1, 13, 0, 0, 0, paris)); a != b {
		t.Errorf("curve %v and %v at the same UTC time of day", a, b)
	}
}

func TestErlang(t *testing.T) {
	// Erlang C for 3 agents at 2 Erlangs is 4/9.
	if c := 1 - erlangSL(3, 2, 0, 1); math.Abs(c-4.0/9) > 1e-12 {
		t.Errorf("Erlang C(3, 2) = %v, want 4/9", c)
	}
	// A textbook case: 100 calls in 30 minutes of 3 minutes each (10
	// Erlangs) need 14 agents to answer 80% in 20 seconds.
	if n := staffFor(10, 20, 180, 0.8, 100); n != 14 {
		t.Errorf("staffFor = %d agents, want 14", n)
	}
	if sl := erlangSL(14, 10, 20, 180); sl < 0.8 || erlangSL(13, 10, 20, 180) >= 0.8 {
		t.Errorf("service level with 14 agents %.3f", sl)
	}
	if erlangSL(5, 5, 20, 180) != 0 || erlangSL(5, 0, 20, 180) != 1 {
		t.Error("edge cases of erlangSL")
	}
	a := loadFor(14, 20, 180, 0.8)
	if sl := erlangSL(14, a, 20, 180); math.Abs(sl-0.8) > 1e-6 {
		t.Errorf("at the load loadFor found, the service level is %.4f", sl)
	}
}
