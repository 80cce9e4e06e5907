package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// never is a time that no event reaches.
const never = time.Duration(math.MaxInt64)

const (
	// handleSigma is the log-space spread of lognormal handle times
	// (a coefficient of variation of about 0.6).
	handleSigma = 0.55
	// maxPatience caps sampled patience at this many means, which bounds
	// how long anyone waits and so the memory a queue holds.
	maxPatience = 10
	// minRoster is the fewest agents a queue is rostered with at any time
	// of day (or all of them, if it has fewer).
	minRoster = 2
)

// call is an interaction waiting in a queue's FIFO. Its sequence number is
// implicit: the front of the FIFO has sequence number headSeq.
type call struct {
	arrive time.Duration
	gone   bool // abandoned; dropped when it reaches the front
}

// outcome is an answer or an abandon, kept while it is inside the window.
type outcome struct {
	at       time.Duration
	wait     time.Duration
	answered bool
}

// queue is the state of one simulated queue. Times are offsets from
// Config.Start.
type queue struct {
	spec   QueueSpec
	rng    *rand.Rand
	idBase uint64 // for conversation ids

	// Derived parameters.
	perSecond   float64 // peak arrivals per second
	handleSec   float64
	handleMu    float64 // lognormal location of handle times
	patienceSec float64 // 0: never abandons
	answerSec   float64
	target      float64 // service-level target, 0-1
	ringMin     time.Duration
	ringMax     time.Duration
	peakLoad    float64 // Erlangs at the daily peak
	goal        float64 // Erlang C service level the peak roster achieves
	overloaded  bool    // Agents cannot carry the peak load at all
	incidents   []Incident

	// Step state.
	roster      int
	routing     bool
	rate        float64       // arrivals per second in the current step
	anchor      time.Duration // time at which mass was last set
	mass        float64       // unit-rate exponential mass left before the next arrival
	nextArrival time.Duration
	hover       hover

	// Agents on queue: idle, or busy with an alerting or a talking
	// interaction; leaving of the busy ones log off as they finish.
	idle     int
	leaving  int
	alerting eventHeap // at: when the agent answers
	talking  eventHeap // at: when the interaction ends

	// Waiting interactions, FIFO, with abandon deadlines in a heap whose
	// entries go stale (seq < headSeq) once answered.
	waitq    ring[call]
	headSeq  uint64
	nextSeq  uint64
	nWaiting int
	abandons eventHeap

	// Rolling window.
	arrivals ring[time.Duration]
	outcomes ring[outcome]
	win      WindowStats

	totals Totals
}

func newQueue(spec QueueSpec, seed uint64, incidents []Incident) *queue {
	h := hashString(spec.ID)
	q := &queue{
		spec:        spec,
		rng:         rand.New(rand.NewPCG(seed, h)),
		idBase:      mix64(seed ^ mix64(h)),
		perSecond:   spec.ArrivalsPerHour / 3600,
		handleSec:   spec.HandleTime.Seconds(),
		patienceSec: spec.Patience.Seconds(),
		answerSec:   spec.TargetAnswer.Seconds(),
		target:      spec.TargetPercent / 100,
		ringMin:     time.Second,
		ringMax:     3 * time.Second,
		routing:     true,
		nextArrival: never,
	}
	if spec.MediaType == "voice" {
		q.ringMin, q.ringMax = 2*time.Second, 5*time.Second
	}
	for _, in := range incidents {
		if in.QueueID == "" || in.QueueID == spec.ID {
			q.incidents = append(q.incidents, in)
		}
	}
	q.handleMu = math.Log(q.handleSec) - handleSigma*handleSigma/2
	q.peakLoad = q.perSecond * q.handleSec
	if float64(spec.Agents) > q.peakLoad {
		q.goal = erlangSL(spec.Agents, q.peakLoad, q.answerSec, q.handleSec)
	} else {
		q.overloaded = true
	}
	q.mass = q.rng.ExpFloat64()
	return q
}

// rosterFor returns the agents workforce management puts on queue when the
// forecast is share (of the peak) of the peak arrival rate: the fewest
// that meet the service level the full team meets at the peak.
func (q *queue) rosterFor(share float64) int {
	agents := q.spec.Agents
	if q.peakLoad == 0 {
		return agents // no forecast traffic: nothing to roster to
	}
	var n int
	if q.overloaded {
		n = int(math.Round(float64(agents) * share))
	} else {
		n = staffFor(q.peakLoad*share, q.answerSec, q.handleSec, q.goal-1e-9, agents)
	}
	return min(max(n, min(agents, minRoster)), agents)
}

// beginStep applies what holds for the step starting at t: the roster, the
// incidents in force and the arrival rate. share is the daily curve at t,
// and forecast the curve for t's rostering interval when a new interval
// begins at t (negative otherwise).
func (q *queue) beginStep(t time.Duration, share, forecast float64, step, window time.Duration) {
	q.prune(t, window)
	if forecast >= 0 {
		q.roster = q.rosterFor(forecast)
	}
	e := effectsAt(q.incidents, t)
	onQueue := int(math.Round(float64(q.roster) * (1 - e.logOff)))
	q.setOnQueue(onQueue)
	q.routing = !e.outage
	rate := q.perSecond * share
	q.hover.decay(step, window)
	if e.hover != nil {
		rate = q.hoverRate(t, e.hover, onQueue, step, window)
	} else {
		q.hover.of = nil
	}
	q.setRate(t, rate*e.arrivals)
	q.dispatch(t)
}

// setOnQueue brings the agents on queue (not counting those already
// leaving) to n: idle agents leave first, busy ones when they finish.
func (q *queue) setOnQueue(n int) {
	busy := q.alerting.len() + q.talking.len()
	cur := q.idle + busy - q.leaving
	switch {
	case n < cur:
		excess := cur - n
		r := min(q.idle, excess)
		q.idle -= r
		q.leaving += excess - r
	case n > cur:
		need := n - cur
		r := min(q.leaving, need)
		q.leaving -= r
		q.idle += need - r
	}
}

// setRate changes the arrival rate at t, keeping the exponential mass
// already consumed so the arrival process stays an exact Poisson process
// with a piecewise constant rate.
func (q *queue) setRate(t time.Duration, rate float64) {
	if q.rate > 0 {
		q.mass = max(q.mass-q.rate*(t-q.anchor).Seconds(), 0)
	}
	q.anchor, q.rate = t, rate
	q.scheduleArrival()
}

func (q *queue) scheduleArrival() {
	q.nextArrival = never
	if q.rate > 0 {
		if secs := q.mass / q.rate; secs < 1e9 {
			q.nextArrival = q.anchor + time.Duration(secs*1e9)
		}
	}
}

// run processes every event before until, in time order; ties go to
// interactions ending, then answers, then abandons, then arrivals.
func (q *queue) run(until time.Duration) {
	for {
		for !q.abandons.empty() && q.abandons.top().seq < q.headSeq {
			q.abandons.pop() // answered meanwhile
		}
		t, kind := q.talking.peekAt(), 0
		if a := q.alerting.peekAt(); a < t {
			t, kind = a, 1
		}
		if a := q.abandons.peekAt(); a < t {
			t, kind = a, 2
		}
		if q.nextArrival < t {
			t, kind = q.nextArrival, 3
		}
		if t >= until {
			return
		}
		switch kind {
		case 0:
			q.end(t)
		case 1:
			q.connect(t)
		case 2:
			q.abandon(t)
		case 3:
			q.arrive(t)
		}
		q.dispatch(t)
	}
}

func (q *queue) arrive(t time.Duration) {
	seq := q.nextSeq
	q.nextSeq++
	q.waitq.push(call{arrive: t})
	q.nWaiting++
	if q.patienceSec > 0 {
		p := min(q.rng.ExpFloat64(), maxPatience) * q.patienceSec
		q.abandons.push(event{at: t + time.Duration(p*1e9), seq: seq, arrive: t, began: t})
	}
	q.arrivals.push(t)
	q.win.Offered++
	q.totals.Offered++
	q.mass, q.anchor = q.rng.ExpFloat64(), t
	q.scheduleArrival()
}

func (q *queue) abandon(t time.Duration) {
	e := q.abandons.pop()
	q.waitq.at(int(e.seq - q.headSeq)).gone = true
	q.nWaiting--
	q.dropGone()
	q.record(outcome{at: t, wait: t - e.arrive})
}

// dispatch offers waiting interactions, oldest first, to idle agents.
func (q *queue) dispatch(t time.Duration) {
	for q.routing && q.idle > 0 && q.nWaiting > 0 {
		c := q.waitq.pop()
		seq := q.headSeq
		q.headSeq++
		q.nWaiting--
		q.dropGone()
		q.idle--
		ring := q.ringMin + time.Duration(q.rng.Int64N(int64(q.ringMax-q.ringMin)+1))
		q.alerting.push(event{at: t + ring, seq: seq, arrive: c.arrive, began: t})
	}
}

func (q *queue) connect(t time.Duration) {
	e := q.alerting.pop()
	q.record(outcome{at: t, wait: t - e.arrive, answered: true})
	handle := math.Exp(q.handleMu + handleSigma*q.rng.NormFloat64())
	q.talking.push(event{at: t + time.Duration(handle*1e9), seq: e.seq, arrive: e.arrive, began: t})
}

func (q *queue) end(t time.Duration) {
	e := q.talking.pop()
	q.totals.Completed++
	q.totals.Handle += t - e.began
	if q.leaving > 0 {
		q.leaving--
	} else {
		q.idle++
	}
}

// dropGone pops abandoned interactions off the front of the FIFO, so that
// the front, if any, is always still waiting.
func (q *queue) dropGone() {
	for q.waitq.len() > 0 && q.waitq.front().gone {
		q.waitq.pop()
		q.headSeq++
	}
}

func (q *queue) record(o outcome) {
	q.outcomes.push(o)
	q.hover.record(o, q.spec.TargetAnswer)
	q.win.add(o, q.spec.TargetAnswer, 1)
	q.totals.add(o, q.spec.TargetAnswer)
}

// prune drops window entries at or before t-window.
func (q *queue) prune(t, window time.Duration) {
	cut := t - window
	for q.arrivals.len() > 0 && *q.arrivals.front() <= cut {
		q.arrivals.pop()
		q.win.Offered--
	}
	for q.outcomes.len() > 0 && q.outcomes.front().at <= cut {
		q.win.add(q.outcomes.pop(), q.spec.TargetAnswer, -1)
	}
}

// longestWait returns how long the oldest waiting interaction has waited.
func (q *queue) longestWait(t time.Duration) time.Duration {
	if q.nWaiting == 0 {
		return 0
	}
	return t - q.waitq.front().arrive
}

func (q *queue) onQueue() int {
	return q.idle + q.alerting.len() + q.talking.len()
}

func (q *queue) available() int {
	return q.idle
}
