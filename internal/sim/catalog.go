package sim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// template is a plausible queue before per-seed variation.
type template struct {
	name     string
	media    string
	perHour  float64
	handle   time.Duration
	patience time.Duration
	percent  float64
	answer   time.Duration
}

// catalog lists plausible queues, busiest first. Targets follow common
// practice: 80% in 20 s for voice (the Genesys default), longer thresholds
// for chat, messaging and callbacks, 24 h for email (the Genesys default).
var catalog = []template{
	{"Support - Voice", "voice", 480, 6 * time.Minute, 3 * time.Minute, 80, 20 * time.Second},
	{"Sales - Voice", "voice", 360, 5 * time.Minute, 150 * time.Second, 80, 20 * time.Second},
	{"Billing - Voice", "voice", 300, 330 * time.Second, 3 * time.Minute, 80, 20 * time.Second},
	{"Billing - Chat", "chat", 180, 9 * time.Minute, 5 * time.Minute, 80, 60 * time.Second},
	{"VIP Support", "voice", 90, 7 * time.Minute, 2 * time.Minute, 90, 15 * time.Second},
	{"Technical Support - Voice", "voice", 240, 10 * time.Minute, 4 * time.Minute, 80, 30 * time.Second},
	{"Support - Chat", "chat", 210, 10 * time.Minute, 6 * time.Minute, 80, 60 * time.Second},
	{"Retention - Voice", "voice", 80, 11 * time.Minute, 3 * time.Minute, 85, 20 * time.Second},
	{"Claims - Voice", "voice", 150, 8 * time.Minute, 3 * time.Minute, 80, 30 * time.Second},
	{"Sales - Chat", "chat", 120, 7 * time.Minute, 4 * time.Minute, 80, 45 * time.Second},
	{"Spanish Support - Voice", "voice", 120, 7 * time.Minute, 3 * time.Minute, 80, 20 * time.Second},
	{"Orders - Messaging", "message", 100, 12 * time.Minute, 20 * time.Minute, 80, 5 * time.Minute},
	{"Collections - Voice", "voice", 100, 6 * time.Minute, 2 * time.Minute, 75, 30 * time.Second},
	{"Callbacks", "callback", 60, 6 * time.Minute, 0, 80, 10 * time.Minute},
	{"Returns - Email", "email", 60, 9 * time.Minute, 0, 80, 24 * time.Hour},
	{"Outage Hotline", "voice", 40, 4 * time.Minute, 2 * time.Minute, 80, 20 * time.Second},
}

// regions tell apart the copies of the catalog when more queues are asked
// for than it holds.
var regions = []string{"", " (EMEA)", " (APAC)", " (LATAM)", " (ANZ)", " (Nordics)"}

// DefaultQueues returns n plausible queues, such as "Support - Voice",
// "Sales - Voice", "Billing - Chat" and "VIP Support", with UUID-like ids;
// beyond the 16 distinct kinds, names get a region suffix such as
// " (EMEA)". Volumes, handle times and patience vary with seed by up to
// 15%, and each queue is staffed (by Erlang C) to answer 90-96% within its
// threshold at its peak, so it usually meets its target. The same n and
// seed always give the same queues, and the first queues do not depend on
// n.
func DefaultQueues(n int, seed uint64) []QueueSpec {
	rng := rand.New(rand.NewPCG(seed, 0x717565756573)) // "queues"
	out := make([]QueueSpec, 0, max(n, 0))
	for i := range max(n, 0) {
		t := catalog[i%len(catalog)]
		name := t.name
		if r := i / len(catalog); r < len(regions) {
			name += regions[r]
		} else {
			name += " " + strconv.Itoa(r+1)
		}
		vary := func() float64 { return 0.85 + 0.3*rng.Float64() }
		q := QueueSpec{
			ID:              uuid(rng.Uint64(), rng.Uint64()),
			Name:            name,
			MediaType:       t.media,
			ArrivalsPerHour: math.Round(t.perHour*vary()/5) * 5,
			HandleTime:      (time.Duration(float64(t.handle)*vary()) / time.Second) * time.Second,
			Patience:        (time.Duration(float64(t.patience)*vary()) / time.Second) * time.Second,
			TargetPercent:   t.percent,
			TargetAnswer:    t.answer,
		}
		staff(&q, max(0.90+0.06*rng.Float64(), t.percent/100+0.05))
		out = append(out, q)
	}
	return out
}

// staff sets q.Agents to the fewest agents that answer goal (a fraction) of
// interactions within the threshold at the peak, by Erlang C.
func staff(q *QueueSpec, goal float64) {
	load := q.ArrivalsPerHour / 3600 * q.HandleTime.Seconds()
	q.Agents = staffFor(load, q.TargetAnswer.Seconds(), q.HandleTime.Seconds(), goal, 100000)
}

// Demo scenario settings.
const (
	demoSeed   = 1
	demoWindow = 5 * time.Minute
	// demoGoal staffs the demo's queues generously, so that the queues
	// without an incident rarely dip below target by chance.
	demoGoal = 0.98
	// demoClock is the time of day the demo plays, whatever the time it
	// starts: a weekday late morning, when queues are busy.
	demoClock = 10*time.Hour + 30*time.Minute
	// demoWarmUp is long enough for the longest handle times to settle.
	demoWarmUp = 30 * time.Minute
)

// DemoScenario returns the configuration `queuewatch demo` runs, starting
// at start. It has queues from DefaultQueues (at least one) staffed
// generously (98% by Erlang C) so that the queues without an incident
// rarely dip below target by chance, a 5-minute window so that breaches
// show and clear within minutes, 30 minutes of warm-up, and the daily curve
// shifted so that the demo plays a busy late morning whatever time it
// starts. Three scripted incidents each recover afterwards:
//
//   - a lunch spike quadrupling arrivals on the first queue from minute 1
//     to minute 4, which drops its service level below target from about
//     minute 3 until about minute 14;
//   - 80% of the second queue's agents logging off from minute 2 to minute
//     6, which has callers waiting over two minutes;
//   - the third queue hovering around its target from minute 1 to minute
//     21, crossing it several times.
//
// Incidents on queues that do not exist (queues < 3) are left out. Every
// queue's figures depend only on the seed and its own spec, so the demo
// plays out the same whatever start and queues are.
func DemoScenario(start time.Time, queues int) Config {
	qs := DefaultQueues(max(queues, 1), demoSeed)
	for i := range qs {
		staff(&qs[i], demoGoal)
	}
	sinceMidnight := start.UTC().Sub(start.UTC().Truncate(24 * time.Hour))
	cfg := Config{
		Seed:   demoSeed,
		Start:  start,
		Queues: qs,
		Window: demoWindow,
		WarmUp: demoWarmUp,
		Curve:  shiftedCurve(demoClock - sinceMidnight),
	}
	script := []Incident{
		{Kind: LunchSpike, Start: 1 * time.Minute, Duration: 3 * time.Minute, Factor: 4},
		{Kind: AgentsLogOff, Start: 2 * time.Minute, Duration: 4 * time.Minute, Factor: 0.8},
		{Kind: Hover, Start: 1 * time.Minute, Duration: 20 * time.Minute},
	}
	for i, in := range script {
		if i < len(qs) {
			in.QueueID = qs[i].ID
			cfg.Incidents = append(cfg.Incidents, in)
		}
	}
	return cfg
}
