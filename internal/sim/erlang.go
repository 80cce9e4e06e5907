package sim

import "math"

// The Erlang C model (M/M/n, infinite patience) is what workforce management
// tools staff with. The simulator uses it to roster agents to the forecast
// through the day and to find the load at which a queue just meets its
// target; the simulation itself does not assume it.

// erlangSL returns the share of interactions answered within answer seconds
// by n agents offered a Erlangs with a mean handle time of handle seconds.
func erlangSL(n int, a, answer, handle float64) float64 {
	if a <= 0 {
		return 1
	}
	if float64(n) <= a {
		return 0
	}
	b := 1.0 // Erlang B, built up one agent at a time.
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return slFromB(n, a, b, answer, handle)
}

func slFromB(n int, a, b, answer, handle float64) float64 {
	nf := float64(n)
	c := nf * b / (nf - a*(1-b))
	return 1 - c*math.Exp(-(nf-a)*answer/handle)
}

// staffFor returns the fewest agents, at most limit, that answer goal (a
// fraction) of interactions within answer seconds at a load of a Erlangs,
// or limit when none does.
func staffFor(a, answer, handle, goal float64, limit int) int {
	if a <= 0 {
		return 0
	}
	b := 1.0
	for n := 1; n <= limit; n++ {
		b = a * b / (float64(n) + a*b)
		if float64(n) > a && slFromB(n, a, b, answer, handle) >= goal {
			return n
		}
	}
	return limit
}

// loadFor returns the load in Erlangs at which n agents answer exactly goal
// of interactions within answer seconds, kept below n so the queue stays
// stable.
func loadFor(n int, answer, handle, goal float64) float64 {
	if n <= 0 {
		return 0
	}
	lo, hi := 0.0, float64(n)
	for range 60 {
		mid := (lo + hi) / 2
		if erlangSL(n, mid, answer, handle) >= goal {
			lo = mid
		} else {
			hi = mid
		}
	}
	return min(lo, 0.98*float64(n))
}
