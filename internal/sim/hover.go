package sim

import (
	"math"
	"time"
)

// A Hover incident holds a queue's service level around its target. The
// window's service level reacts too slowly (it averages minutes of answers,
// and busy agents free up only over a handle time) to steer arrivals by it
// alone, so the controller steers the queue's state instead: it feeds the
// Erlang C arrival rate for the target and corrects it by how far the
// agents' slack (idle agents minus waiting interactions) is from the slack
// Erlang C expects at the target. A slow loop on a fast service level (an
// exponentially weighted one over a fifth of the window) moves that slack
// setpoint until the service level sits on the target, and a swing of the
// setpoint keeps it crossing the target rather than settling.
const (
	hoverDefaultSwing = 0.02 // a Hover incident's default Factor
	hoverStateGain    = 1.0  // correction per agent of slack error per fast time constant
	hoverSLGain       = 0.15 // setpoint shift, in agents per agent on queue, per unit SL error per fast time constant
	hoverSlackShare   = 0.5  // initial setpoint shift, as a share of the Erlang C slack
	hoverMinRate      = 0.5  // bounds of the arrival rate, relative to the Erlang C rate
	hoverMaxRate      = 2.0
)

// hover is a queue's Hover controller state.
type hover struct {
	of       *Incident // the incident being followed; nil when none
	agents   int       // agents load and slack were computed for
	load     float64   // Erlang C load meeting the target with agents
	slack    float64   // Erlang C mean idle agents minus mean waiting at load
	offset   float64   // learned setpoint shift, in agents
	fastNum  float64   // decayed count of answers within target
	fastDen  float64   // decayed count of answers and abandons
	fastStep time.Duration
	fastKeep float64 // decay per step
}

// fastTau is the time constant of the fast service level and of the state
// correction.
func fastTau(window time.Duration) time.Duration { return window / 5 }

// decay ages the fast service level by one step.
func (h *hover) decay(step, window time.Duration) {
	if h.fastStep != step {
		h.fastStep = step
		h.fastKeep = math.Exp(-step.Seconds() / fastTau(window).Seconds())
	}
	h.fastNum *= h.fastKeep
	h.fastDen *= h.fastKeep
}

func (h *hover) record(o outcome, target time.Duration) {
	h.fastDen++
	if o.answered && o.wait <= target {
		h.fastNum++
	}
}

// fastSL returns the fast service level in percent, or def when there
// have been no interactions lately.
func (h *hover) fastSL(def float64) float64 {
	if h.fastDen < 1e-6 {
		return def
	}
	return 100 * h.fastNum / h.fastDen
}

// hoverRate returns the arrival rate that keeps the service level around
// the target with agents on queue.
func (q *queue) hoverRate(t time.Duration, in *Incident, agents int, step, window time.Duration) float64 {
	h := &q.hover
	if agents != h.agents || h.load == 0 {
		h.agents = agents
		h.load = loadFor(agents, q.answerSec, q.handleSec, q.target)
		h.slack = erlangSlack(agents, h.load)
	}
	if h.of != in {
		// Erlang C overstates waits for handle times less variable than
		// exponential; the simulated queue needs about half its slack.
		h.of, h.offset = in, -hoverSlackShare*h.slack
	}
	tau := fastTau(window).Seconds()
	target := 100 * q.target
	e := (h.fastSL(target) - target) / 100
	n := float64(agents)
	swing := in.Factor
	if swing == 0 {
		swing = hoverDefaultSwing
	}
	phase := 2 * math.Pi * float64(t-in.Start) / float64(2*window)
	setpoint := h.slack + h.offset - swing*n*math.Sin(phase)
	slack := float64(q.idle - q.nWaiting)
	// Learn only while the queue is near its setpoint: until then the
	// service level says nothing about where the setpoint should be.
	if math.Abs(slack-setpoint) <= max(2, 0.1*n) {
		h.offset -= hoverSLGain * n * e * step.Seconds() / tau
		h.offset = min(max(h.offset, -h.slack-2), n-h.load)
	}
	base := h.load / q.handleSec
	rate := base + hoverStateGain*(slack-setpoint)/tau
	return min(max(rate, hoverMinRate*base), hoverMaxRate*base)
}

// erlangSlack returns the Erlang C mean number of idle agents minus the
// mean number of waiting interactions for n agents at load a.
func erlangSlack(n int, a float64) float64 {
	if n <= 0 || a <= 0 {
		return float64(n)
	}
	nf := float64(n)
	c := 1 - erlangSL(n, a, 0, 1) // probability of waiting
	return nf - a - c*a/(nf-a)
}
