// Package sim is a deterministic, seedable model of a contact center: the
// queues that `queuewatch demo` watches and that a fake Genesys server
// serves.
//
// Each queue is a FIFO queue of interactions served by a team of agents.
// Interactions arrive as a Poisson process whose rate follows a daily curve
// (DailyCurve) times any scripted incidents; workforce management rosters
// agents to that forecast through the day; an offered interaction rings at
// an idle agent for a few seconds, is answered and is handled for a
// lognormal handle time; waiting callers abandon when their own
// exponentially distributed patience runs out. Events are processed in
// continuous time; the arrival rate, roster and incidents change once per
// Config.Step.
//
// A Sim is fully determined by its Config: the same Config (including Seed)
// always yields the same figures, however the time is advanced. A Sim is
// not safe for concurrent use.
package sim

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// Defaults applied by New.
const (
	DefaultWindow        = 30 * time.Minute
	DefaultStep          = time.Second
	DefaultTargetPercent = 80
	DefaultTargetAnswer  = 20 * time.Second
)

// rosterInterval is how often workforce management changes the roster, as
// the 15-minute intervals of a real schedule.
const rosterInterval = 15 * time.Minute

// QueueSpec describes one simulated queue.
type QueueSpec struct {
	ID        string
	Name      string
	MediaType string // Genesys analytics media type: "voice", "chat", "email", "callback", "message"; default "voice"

	// Agents is the number of agents staffed at the daily peak. Outside
	// the peak, fewer are rostered (at least 2): as many as meet the same
	// Erlang C service level at the forecast load.
	Agents int
	// ArrivalsPerHour is the arrival rate at the daily peak; the actual
	// rate is this times the daily curve times any LunchSpike factors.
	ArrivalsPerHour float64
	// HandleTime is the mean handle time; handle times are lognormal.
	HandleTime time.Duration
	// Patience is the mean time a caller waits before abandoning; patience
	// is exponential. Zero means interactions are never abandoned.
	Patience time.Duration

	TargetPercent float64       // service-level target in percent; default 80
	TargetAnswer  time.Duration // service-level threshold; default 20s
}

// Config is everything that determines a simulation.
type Config struct {
	// Seed selects the random streams; each queue draws from its own
	// stream, derived from Seed and the queue's ID.
	Seed uint64
	// Start is the simulated time at which the simulation begins.
	Start  time.Time
	Queues []QueueSpec
	// Incidents are scripted disturbances; their Start is an offset from
	// Start.
	Incidents []Incident
	// Window is the rolling window for service level, abandon rate,
	// offered and ASA; default 30m.
	Window time.Duration
	// Step is how often arrival rates, rosters and incidents are updated;
	// default 1s. Interactions are simulated in continuous time.
	Step time.Duration
	// WarmUp is simulated before Start, so that the first figures show
	// queues in their steady state rather than empty; default none.
	WarmUp time.Duration
	// Curve returns the share of the peak arrival rate expected at a given
	// time: finite, not negative, usually at most 1 (the peak); nil means
	// DailyCurve.
	Curve func(time.Time) float64
}

// Validate reports the first problem with c, or nil.
func (c Config) Validate() error {
	if c.Window < 0 || c.Step < 0 || c.WarmUp < 0 {
		return errors.New("window, step and warm-up must not be negative")
	}
	ids := make(map[string]bool, len(c.Queues))
	for i, q := range c.Queues {
		if err := q.validate(); err != nil {
			return fmt.Errorf("queue %d (%q): %w", i, q.ID, err)
		}
		if ids[q.ID] {
			return fmt.Errorf("queue %d: duplicate id %q", i, q.ID)
		}
		ids[q.ID] = true
	}
	for i, in := range c.Incidents {
		if err := in.validate(ids); err != nil {
			return fmt.Errorf("incident %d: %w", i, err)
		}
	}
	return nil
}

func (q QueueSpec) validate() error {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case q.ID == "":
		return errors.New("empty id")
	case q.Agents < 0:
		return errors.New("negative agents")
	case !finite(q.ArrivalsPerHour) || q.ArrivalsPerHour < 0:
		return errors.New("arrivals per hour must be a non-negative number")
	case q.HandleTime <= 0:
		return errors.New("handle time must be positive")
	case q.Patience < 0:
		return errors.New("negative patience")
	case !finite(q.TargetPercent) || q.TargetPercent < 0 || q.TargetPercent > 100:
		return errors.New("target percent must be between 0 and 100")
	case q.TargetAnswer < 0:
		return errors.New("negative target answer time")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Step == 0 {
		c.Step = DefaultStep
	}
	if c.Curve == nil {
		c.Curve = DailyCurve
	}
	c.Queues = append([]QueueSpec(nil), c.Queues...)
	for i := range c.Queues {
		q := &c.Queues[i]
		if q.MediaType == "" {
			q.MediaType = "voice"
		}
		if q.TargetPercent == 0 {
			q.TargetPercent = DefaultTargetPercent
		}
		if q.TargetAnswer == 0 {
			q.TargetAnswer = DefaultTargetAnswer
		}
	}
	c.Incidents = append([]Incident(nil), c.Incidents...)
	return c
}

// Sim is a running simulation. Create one with New.
type Sim struct {
	cfg    Config
	queues []*queue
	byID   map[string]*queue

	now          time.Duration // offset from cfg.Start
	nextBoundary time.Duration // start of the next step
	interval     int64         // current rostering interval
}

// New returns a simulation of cfg, with its clock at cfg.Start after
// simulating cfg.WarmUp. It applies the documented defaults and panics if
// cfg.Validate reports an error.
func New(cfg Config) *Sim {
	if err := cfg.Validate(); err != nil {
		panic("sim: " + err.Error())
	}
	cfg = cfg.withDefaults()
	s := &Sim{
		cfg:          cfg,
		byID:         make(map[string]*queue, len(cfg.Queues)),
		now:          -cfg.WarmUp,
		nextBoundary: -cfg.WarmUp,
		interval:     math.MinInt64,
	}
	for _, spec := range cfg.Queues {
		q := newQueue(spec, cfg.Seed, cfg.Incidents)
		s.queues = append(s.queues, q)
		s.byID[spec.ID] = q
	}
	s.Run(cfg.WarmUp)
	return s
}

// Now returns the current simulated time.
func (s *Sim) Now() time.Time { return s.cfg.Start.Add(s.now) }

// Run advances the simulated time by d without producing samples.
func (s *Sim) Run(d time.Duration) {
	end := s.now + max(d, 0)
	for {
		if s.now == s.nextBoundary {
			s.beginStep()
		}
		if s.now >= end {
			return
		}
		until := min(end, s.nextBoundary)
		for _, q := range s.queues {
			q.run(until)
		}
		s.now = until
	}
}

func (s *Sim) beginStep() {
	t := s.now
	at := s.cfg.Start.Add(t)
	share := s.cfg.Curve(at)
	forecast := -1.0
	if iv := floorDiv(t, rosterInterval); iv != s.interval {
		s.interval = iv
		mid := time.Duration(iv)*rosterInterval + rosterInterval/2
		forecast = max(s.cfg.Curve(s.cfg.Start.Add(mid)), 0)
	}
	for _, q := range s.queues {
		q.beginStep(t, max(share, 0), forecast, s.cfg.Step, s.cfg.Window)
	}
	s.nextBoundary = time.Duration(floorDiv(t, s.cfg.Step)+1) * s.cfg.Step
}

// floorDiv returns floor(a/b) for b > 0.
func floorDiv(a, b time.Duration) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return int64(q)
}

// Advance advances the simulated time by d and returns one sample per
// queue per metric at the new time (see AppendSamples).
func (s *Sim) Advance(d time.Duration) []metric.Sample {
	s.Run(d)
	return s.AppendSamples(make([]metric.Sample, 0, len(s.queues)*len(sampleMetrics)))
}

// sampleMetrics are the metrics AppendSamples reports, in order.
var sampleMetrics = []metric.Name{
	metric.ServiceLevel,
	metric.ServiceLevelTarget,
	metric.LongestWait,
	metric.Waiting,
	metric.Interacting,
	metric.Alerting,
	metric.OnQueueAgents,
	metric.AvailableAgents,
	metric.AbandonRate,
	metric.Offered,
	metric.ASA,
}

// AppendSamples appends to dst the current figures of every queue, in
// queue order, as queue totals (empty MediaType) from metric.SourceSim:
// service_level, service_level_target, longest_wait, waiting, interacting,
// alerting, on_queue_agents, available_agents, abandon_rate, offered and
// asa. Service level, abandon rate, offered and ASA are over the rolling
// window.
func (s *Sim) AppendSamples(dst []metric.Sample) []metric.Sample {
	at := s.Now()
	for _, q := range s.queues {
		q.prune(s.now, s.cfg.Window)
		w := q.win
		values := [...]float64{
			w.ServiceLevel(),
			q.spec.TargetPercent,
			q.longestWait(s.now).Seconds(),
			float64(q.nWaiting),
			float64(q.talking.len()),
			float64(q.alerting.len()),
			float64(q.onQueue()),
			float64(q.available()),
			w.AbandonRate(),
			float64(w.Offered),
			w.ASA().Seconds(),
		}
		for i, name := range sampleMetrics {
			dst = append(dst, metric.Sample{
				QueueID:   q.spec.ID,
				QueueName: q.spec.Name,
				Metric:    name,
				Value:     values[i],
				At:        at,
				Source:    metric.SourceSim,
			})
		}
	}
	return dst
}

// Snapshot returns every queue's current figures, in queue order.
func (s *Sim) Snapshot() []QueueState {
	out := make([]QueueState, 0, len(s.queues))
	for _, q := range s.queues {
		out = append(out, s.state(q))
	}
	return out
}

// Queue returns the current figures of the queue with the given id, and
// whether there is one.
func (s *Sim) Queue(id string) (QueueState, bool) {
	q, ok := s.byID[id]
	if !ok {
		return QueueState{}, false
	}
	return s.state(q), true
}

func (s *Sim) state(q *queue) QueueState {
	q.prune(s.now, s.cfg.Window)
	st := QueueState{
		ID:              q.spec.ID,
		Name:            q.spec.Name,
		MediaType:       q.spec.MediaType,
		TargetPercent:   q.spec.TargetPercent,
		TargetAnswer:    q.spec.TargetAnswer,
		At:              s.Now(),
		Waiting:         q.nWaiting,
		Alerting:        q.alerting.len(),
		Interacting:     q.talking.len(),
		LongestWait:     q.longestWait(s.now),
		MemberAgents:    q.spec.Agents,
		RosteredAgents:  q.roster,
		OnQueueAgents:   q.onQueue(),
		AvailableAgents: q.available(),
		Window:          q.win,
		Totals:          q.totals,
	}
	if q.nWaiting > 0 {
		st.OldestWaiting = s.cfg.Start.Add(q.waitq.front().arrive)
	}
	for _, in := range q.incidents {
		if in.activeAt(s.now) {
			st.Incidents = append(st.Incidents, in.Kind)
		}
	}
	return st
}

// Interactions returns the interactions now in the queue with the given id
// (waiting, alerting or interacting), oldest queue entry first, or nil
// when there is no such queue.
func (s *Sim) Interactions(queueID string) []Interaction {
	q, ok := s.byID[queueID]
	if !ok {
		return nil
	}
	type entry struct {
		seq uint64
		it  Interaction
	}
	var es []entry
	for i := range q.waitq.len() {
		c := q.waitq.at(i)
		if c.gone {
			continue
		}
		at := s.cfg.Start.Add(c.arrive)
		es = append(es, entry{q.headSeq + uint64(i), Interaction{State: StateWaiting, Entered: at, Since: at}})
	}
	for _, h := range []struct {
		events eventHeap
		state  InteractionState
	}{{q.alerting, StateAlerting}, {q.talking, StateInteracting}} {
		for _, e := range h.events {
			es = append(es, entry{e.seq, Interaction{
				State:   h.state,
				Entered: s.cfg.Start.Add(e.arrive),
				Since:   s.cfg.Start.Add(e.began),
			}})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Interaction, len(es))
	for i, e := range es {
		out[i] = e.it
		out[i].ConversationID = q.conversationID(e.seq)
	}
	return out
}
