package sim

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

var testStart = time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC)

func flat(time.Time) float64 { return 1 }

// value returns the sample of metric m for queue id from samples.
func value(t *testing.T, samples []metric.Sample, id string, m metric.Name) float64 {
	t.Helper()
	for _, s := range samples {
		if s.QueueID == id && s.Metric == m {
			return s.Value
		}
	}
	t.Fatalf("no %s sample for queue %s", m, id)
	return 0
}

// spec returns a voice queue with the given agents, 80% in 20 s.
func spec(id string, agents int, perHour float64) QueueSpec {
	return QueueSpec{
		ID: id, Name: id, MediaType: "voice",
		Agents: agents, ArrivalsPerHour: perHour,
		HandleTime: 5 * time.Minute, Patience: 2 * time.Minute,
		TargetPercent: 80, TargetAnswer: 20 * time.Second,
	}
}

func TestDeterminism(t *testing.T) {
	run := func(cfg Config) [][]metric.Sample {
		s := New(cfg)
		var out [][]metric.Sample
		for range 60 {
			out = append(out, s.Advance(10*time.Second))
		}
		return out
	}
	cfg := DemoScenario(testStart, 8)
	a, b := run(cfg), run(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same config gave different sample streams")
	}
	cfg.Seed++
	if c := run(cfg); reflect.DeepEqual(a, c) {
		t.Fatal("a different seed gave the same sample stream")
	}
}

func TestAdvanceGranularityDoesNotMatter(t *testing.T) {
	cfg := DemoScenario(testStart, 5)
	whole, parts, odd := New(cfg), New(cfg), New(cfg)
	whole.Run(7 * time.Minute)
	for range 7 * 60 {
		parts.Run(time.Second)
	}
	for whole.Now().After(odd.Now()) {
		odd.Run(min(700*time.Millisecond, whole.Now().Sub(odd.Now())))
	}
	want := whole.Advance(0)
	if got := parts.Advance(0); !reflect.DeepEqual(got, want) {
		t.Error("advancing second by second differs from advancing at once")
	}
	if got := odd.Advance(0); !reflect.DeepEqual(got, want) {
		t.Error("advancing by 700ms differs from advancing at once")
	}
	if !reflect.DeepEqual(parts.Snapshot(), whole.Snapshot()) {
		t.Error("snapshots differ")
	}
}

func TestSamples(t *testing.T) {
	cfg := DemoScenario(testStart, 4)
	s := New(cfg)
	if !s.Now().Equal(testStart) {
		t.Fatalf("Now() = %v after New, want %v", s.Now(), testStart)
	}
	samples := s.Advance(90 * time.Second)
	if want := testStart.Add(90 * time.Second); !s.Now().Equal(want) {
		t.Fatalf("Now() = %v, want %v", s.Now(), want)
	}
	if len(samples) != len(cfg.Queues)*len(sampleMetrics) {
		t.Fatalf("got %d samples, want %d", len(samples), len(cfg.Queues)*len(sampleMetrics))
	}
	for i, smp := range samples {
		q := cfg.Queues[i/len(sampleMetrics)]
		if smp.QueueID != q.ID || smp.QueueName != q.Name || smp.MediaType != "" ||
			smp.Source != metric.SourceSim || !smp.At.Equal(s.Now()) ||
			smp.Metric != sampleMetrics[i%len(sampleMetrics)] {
			t.Fatalf("sample %d = %+v", i, smp)
		}
		if _, ok := metric.Lookup(smp.Metric); !ok {
			t.Fatalf("sample %d has unknown metric %q", i, smp.Metric)
		}
	}
	// Every metric of the vocabulary is produced.
	seen := map[metric.Name]bool{}
	for _, smp := range samples {
		seen[smp.Metric] = true
	}
	for _, n := range metric.Names() {
		if !seen[n] {
			t.Errorf("no %s samples", n)
		}
	}
}

// TestValuesInRange runs the demo, with an outage added, for an hour and
// checks every sample.
func TestValuesInRange(t *testing.T) {
	cfg := DemoScenario(testStart, 16)
	cfg.Incidents = append(cfg.Incidents, Incident{Kind: Outage, Start: 20 * time.Minute, Duration: 5 * time.Minute})
	s := New(cfg)
	for range 360 {
		samples := s.Advance(10 * time.Second)
		byQueue := map[string]map[metric.Name]float64{}
		for _, smp := range samples {
			if byQueue[smp.QueueID] == nil {
				byQueue[smp.QueueID] = map[metric.Name]float64{}
			}
			byQueue[smp.QueueID][smp.Metric] = smp.Value
			v := smp.Value
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s %s = %v at %v", smp.QueueName, smp.Metric, v, smp.At)
			}
			info, _ := metric.Lookup(smp.Metric)
			switch info.Unit {
			case metric.Percent:
				if v > 100 {
					t.Fatalf("%s %s = %v > 100", smp.QueueName, smp.Metric, v)
				}
			case metric.Count:
				if v != math.Trunc(v) {
					t.Fatalf("%s %s = %v is not a whole count", smp.QueueName, smp.Metric, v)
				}
			}
		}
		for _, q := range cfg.Queues {
			m := byQueue[q.ID]
			if m[metric.AvailableAgents] > m[metric.OnQueueAgents] {
				t.Fatalf("%s: available %v > on queue %v", q.Name, m[metric.AvailableAgents], m[metric.OnQueueAgents])
			}
			if m[metric.Interacting]+m[metric.Alerting] > m[metric.OnQueueAgents] {
				t.Fatalf("%s: more interactions than agents on queue", q.Name)
			}
			if m[metric.OnQueueAgents] > float64(q.Agents) {
				t.Fatalf("%s: %v agents on queue, only %d staffed", q.Name, m[metric.OnQueueAgents], q.Agents)
			}
			if m[metric.ServiceLevelTarget] != q.TargetPercent {
				t.Fatalf("%s: target %v, want %v", q.Name, m[metric.ServiceLevelTarget], q.TargetPercent)
			}
			if (m[metric.Waiting] == 0) != (m[metric.LongestWait] == 0) {
				t.Fatalf("%s: waiting %v but longest wait %v", q.Name, m[metric.Waiting], m[metric.LongestWait])
			}
		}
	}
}

func TestServiceLevelFollowsStaffing(t *testing.T) {
	const perHour = 360 // 30 Erlangs at 5 minutes
	ample := spec("ample", 40, perHour)
	short := spec("short", 27, perHour)
	s := New(Config{Seed: 7, Start: testStart, Queues: []QueueSpec{ample, short}, Curve: flat, WarmUp: 30 * time.Minute})
	samples := s.Advance(time.Hour)
	slAmple, slShort := value(t, samples, "ample", metric.ServiceLevel), value(t, samples, "short", metric.ServiceLevel)
	if slAmple < 90 {
		t.Errorf("service level with ample agents = %.1f, want at least 90", slAmple)
	}
	if slShort > 50 {
		t.Errorf("service level with too few agents = %.1f, want at most 50", slShort)
	}
	if a, b := value(t, samples, "ample", metric.AbandonRate), value(t, samples, "short", metric.AbandonRate); b <= a || b < 5 {
		t.Errorf("abandon rate %.1f%% with too few agents, %.1f%% with ample", b, a)
	}
	if a, b := value(t, samples, "ample", metric.ASA), value(t, samples, "short", metric.ASA); b <= 2*a {
		t.Errorf("ASA %.1fs with too few agents, %.1fs with ample", b, a)
	}
}

func TestEmptyWindowIsFullServiceLevel(t *testing.T) {
	q := spec("quiet", 5, 0)
	s := New(Config{Start: testStart, Queues: []QueueSpec{q}})
	samples := s.Advance(10 * time.Minute)
	for m, want := range map[metric.Name]float64{
		metric.ServiceLevel: 100, metric.AbandonRate: 0, metric.Offered: 0, metric.ASA: 0,
		metric.Waiting: 0, metric.LongestWait: 0, metric.OnQueueAgents: 5, metric.AvailableAgents: 5,
	} {
		if got := value(t, samples, "quiet", m); got != want {
			t.Errorf("%s = %v with no traffic, want %v", m, got, want)
		}
	}
}

func TestAgentsLoggingOffMakeCallersWait(t *testing.T) {
	q := spec("q", 36, 360)
	cfg := Config{
		Seed: 3, Start: testStart, Queues: []QueueSpec{q}, Curve: flat, WarmUp: 30 * time.Minute,
		Incidents: []Incident{{Kind: AgentsLogOff, QueueID: "q", Start: 10 * time.Minute, Duration: 10 * time.Minute, Factor: 0.5}},
	}
	s := New(cfg)
	maxWait := func(d time.Duration) (longest, onQueue float64) {
		onQueue = math.Inf(1)
		for range int(d / (5 * time.Second)) {
			samples := s.Advance(5 * time.Second)
			longest = max(longest, value(t, samples, "q", metric.LongestWait))
			onQueue = min(onQueue, value(t, samples, "q", metric.OnQueueAgents))
		}
		return longest, onQueue
	}
	before, agentsBefore := maxWait(10 * time.Minute)
	during, agentsDuring := maxWait(10 * time.Minute)
	maxWait(10 * time.Minute) // recovery
	after, agentsAfter := maxWait(10 * time.Minute)
	t.Logf("longest wait before %.0fs, during %.0fs, after recovery %.0fs", before, during, after)
	if during < 90 || during < 3*before {
		t.Errorf("longest wait %.0fs while half the agents are off, %.0fs before", during, before)
	}
	if agentsDuring > 20 || agentsBefore < 30 || agentsAfter < 30 {
		t.Errorf("agents on queue: %v before, %v during, %v after", agentsBefore, agentsDuring, agentsAfter)
	}
	if after > during/2 {
		t.Errorf("longest wait %.0fs after the agents came back, %.0fs during", after, during)
	}
}

func TestOutageStopsRoutingAndCallersAbandon(t *testing.T) {
	a, b := spec("a", 36, 360), spec("b", 12, 100)
	s := New(Config{
		Seed: 5, Start: testStart, Queues: []QueueSpec{a, b}, Curve: flat, WarmUp: 30 * time.Minute,
		Window:    5 * time.Minute,
		Incidents: []Incident{{Kind: Outage, Start: 5 * time.Minute, Duration: 5 * time.Minute}},
	})
	before := s.Advance(5 * time.Minute)
	during := s.Advance(5*time.Minute - time.Second) // the last second of the outage
	for _, id := range []string{"a", "b"} {
		if got, was := value(t, during, id, metric.Interacting), value(t, before, id, metric.Interacting); got >= was {
			t.Errorf("%s: %v interactions in progress at the end of the outage, %v before it", id, got, was)
		}
		if v := value(t, during, id, metric.Alerting); v != 0 {
			t.Errorf("%s: %v interactions alerting during the outage", id, v)
		}
		if v := value(t, during, id, metric.LongestWait); v < 120 {
			t.Errorf("%s: longest wait %.0fs five minutes into an outage", id, v)
		}
		if got, was := value(t, during, id, metric.AvailableAgents), value(t, before, id, metric.AvailableAgents); got <= was {
			t.Errorf("%s: %v agents idle during the outage, %v before", id, got, was)
		}
		if got, was := value(t, during, id, metric.AbandonRate), value(t, before, id, metric.AbandonRate); got < 20 || got <= was {
			t.Errorf("%s: abandon rate %.1f%% during the outage, %.1f%% before", id, got, was)
		}
	}
	if st, _ := s.Queue("a"); !reflect.DeepEqual(st.Incidents, []IncidentKind{Outage}) {
		t.Errorf("incidents in force during the outage: %v", st.Incidents)
	}
	after := s.Advance(time.Second) // routing resumes
	for _, id := range []string{"a", "b"} {
		if v := value(t, after, id, metric.Waiting); v != 0 {
			t.Errorf("%s: %v still waiting once routing resumed with idle agents", id, v)
		}
	}
	if st, _ := s.Queue("a"); st.Incidents != nil {
		t.Errorf("incidents in force after the outage: %v", st.Incidents)
	}
}

func TestAbandonRateRisesWithWaits(t *testing.T) {
	// The same queue (and so the same random stream) with ever fewer
	// agents for 30 Erlangs: longer waits, more abandons.
	var prevWait, prevAbandon float64
	for i, agents := range []int{40, 32, 28, 24} {
		s := New(Config{Seed: 11, Start: testStart, Queues: []QueueSpec{spec("q", agents, 360)}, Curve: flat, WarmUp: 30 * time.Minute})
		s.Run(2 * time.Hour)
		st, _ := s.Queue("q")
		tot := st.Totals
		wait := (tot.AnswerWait + tot.AbandonWait).Seconds() / float64(tot.Answered+tot.Abandoned)
		abandon := 100 * float64(tot.Abandoned) / float64(tot.Offered)
		t.Logf("%d agents: mean wait %.1fs, abandoned %.1f%%", agents, wait, abandon)
		if i > 0 && (wait <= prevWait || abandon <= prevAbandon) {
			t.Errorf("%d agents: mean wait %.1fs, abandoned %.1f%%; with more agents %.1fs, %.1f%%", agents, wait, abandon, prevWait, prevAbandon)
		}
		prevWait, prevAbandon = wait, abandon
	}
}

// TestConservation checks at every step that every arrival is answered,
// abandoned or still waiting, and that the other figures agree.
func TestConservation(t *testing.T) {
	cfg := DemoScenario(testStart, 6)
	cfg.Incidents = append(cfg.Incidents, Incident{Kind: Outage, Start: 8 * time.Minute, Duration: 2 * time.Minute})
	s := New(cfg)
	for i := range 40 * 60 {
		s.Run(time.Second)
		for _, st := range s.Snapshot() {
			tot := st.Totals
			if got := tot.Answered + tot.Abandoned + int64(st.Waiting) + int64(st.Alerting); got != tot.Offered {
				t.Fatalf("%v %s: answered %d + abandoned %d + waiting %d + alerting %d != offered %d",
					st.At, st.Name, tot.Answered, tot.Abandoned, st.Waiting, st.Alerting, tot.Offered)
			}
			if got := tot.Completed + int64(st.Interacting); got != tot.Answered {
				t.Fatalf("%v %s: completed %d + interacting %d != answered %d", st.At, st.Name, tot.Completed, st.Interacting, tot.Answered)
			}
			if st.Alerting+st.Interacting+st.AvailableAgents != st.OnQueueAgents {
				t.Fatalf("%v %s: on queue %d != alerting %d + interacting %d + idle %d",
					st.At, st.Name, st.OnQueueAgents, st.Alerting, st.Interacting, st.AvailableAgents)
			}
			w := st.Window
			if w.Offered > int(tot.Offered) || w.Answered > int(tot.Answered) || w.Abandoned > int(tot.Abandoned) ||
				w.AnsweredInTarget > w.Answered || w.Offered < 0 || w.AnswerWait < 0 || w.AbandonWait < 0 {
				t.Fatalf("%v %s: window %+v inconsistent with totals %+v", st.At, st.Name, w, tot)
			}
			if st.Waiting > 0 && !st.OldestWaiting.Add(st.LongestWait).Equal(st.At) {
				t.Fatalf("%v %s: oldest waiting since %v but longest wait %v", st.At, st.Name, st.OldestWaiting, st.LongestWait)
			}
			if i%60 == 0 {
				checkInteractions(t, s, st)
			}
		}
	}
}

func checkInteractions(t *testing.T, s *Sim, st QueueState) {
	t.Helper()
	its := s.Interactions(st.ID)
	count := map[InteractionState]int{}
	seen := map[string]bool{}
	for i, it := range its {
		count[it.State]++
		if seen[it.ConversationID] || len(it.ConversationID) != 36 {
			t.Fatalf("%s: bad or repeated conversation id %q", st.Name, it.ConversationID)
		}
		seen[it.ConversationID] = true
		if i > 0 && it.Entered.Before(its[i-1].Entered) {
			t.Fatalf("%s: interactions not oldest first", st.Name)
		}
		if it.Since.Before(it.Entered) || it.Since.After(st.At) {
			t.Fatalf("%s: interaction %+v at %v", st.Name, it, st.At)
		}
	}
	if count[StateWaiting] != st.Waiting || count[StateAlerting] != st.Alerting || count[StateInteracting] != st.Interacting {
		t.Fatalf("%s: interactions %v, snapshot waiting %d alerting %d interacting %d",
			st.Name, count, st.Waiting, st.Alerting, st.Interacting)
	}
	if st.Waiting > 0 {
		for _, it := range its {
			if it.State == StateWaiting {
				if !it.Entered.Equal(st.OldestWaiting) {
					t.Fatalf("%s: oldest waiting entered %v, snapshot says %v", st.Name, it.Entered, st.OldestWaiting)
				}
				break
			}
		}
	}
}

// TestLittlesLaw checks L = λW over a long run: the time-average number of
// interactions in service equals the answer rate times the mean handle
// time, and the time-average number waiting to be answered (waiting or
// alerting) equals the outcome rate times the mean time to an outcome.
func TestLittlesLaw(t *testing.T) {
	q := spec("q", 31, 360)
	s := New(Config{Seed: 2, Start: testStart, Queues: []QueueSpec{q}, Curve: flat})
	const steps = 4 * 3600
	var inService, queued float64
	for range steps {
		s.Run(time.Second)
		st, _ := s.Queue("q")
		inService += float64(st.Interacting)
		queued += float64(st.Waiting + st.Alerting)
	}
	st, _ := s.Queue("q")
	tot := st.Totals
	secs := float64(steps)
	lService := tot.Handle.Seconds() / secs // total time in service / elapsed, for completed
	lQueued := (tot.AnswerWait + tot.AbandonWait).Seconds() / secs
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"in service", inService / secs, lService},
		{"queued", queued / secs, lQueued},
	} {
		if math.Abs(c.got-c.want) > 0.03*c.want+0.05 {
			t.Errorf("mean %s %.3f, λW %.3f", c.name, c.got, c.want)
		}
	}
	if mean := tot.Handle.Seconds() / float64(tot.Completed); math.Abs(mean-300) > 15 {
		t.Errorf("mean handle time %.0fs, want about 300s", mean)
	}
}

func TestRosterFollowsDailyCurve(t *testing.T) {
	q := spec("q", 40, 360)
	night := time.Date(2026, 5, 14, 3, 0, 0, 0, time.UTC)
	s := New(Config{Start: night, Queues: []QueueSpec{q}})
	st, _ := s.Queue("q")
	if st.RosteredAgents > 8 || st.RosteredAgents < minRoster {
		t.Errorf("%d agents rostered at 03:00 UTC, want a handful", st.RosteredAgents)
	}
	s.Run(8 * time.Hour) // 11:00 UTC, the peak
	st, _ = s.Queue("q")
	if st.RosteredAgents < 36 {
		t.Errorf("%d agents rostered at 11:00 UTC, want about 40", st.RosteredAgents)
	}
	if sl := st.Window.ServiceLevel(); sl < 80 {
		t.Errorf("service level %.1f at the peak with the roster following the forecast", sl)
	}
	if st.OffQueueAgents() != st.MemberAgents-st.OnQueueAgents {
		t.Errorf("off queue %d", st.OffQueueAgents())
	}
}

func TestQueueLookup(t *testing.T) {
	cfg := DemoScenario(testStart, 3)
	s := New(cfg)
	s.Run(5 * time.Minute)
	st, ok := s.Queue(cfg.Queues[1].ID)
	if !ok || !reflect.DeepEqual(st, s.Snapshot()[1]) {
		t.Errorf("Queue(%q) = %+v, %v", cfg.Queues[1].ID, st, ok)
	}
	if !reflect.DeepEqual(st.Incidents, []IncidentKind{AgentsLogOff}) {
		t.Errorf("incidents in force on %s at minute 5: %v", st.Name, st.Incidents)
	}
	if _, ok := s.Queue("nope"); ok {
		t.Error("Queue found an unknown id")
	}
	if s.Interactions("nope") != nil {
		t.Error("Interactions returned interactions for an unknown id")
	}
}

func TestValidate(t *testing.T) {
	good := spec("a", 5, 60)
	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"duplicate id":   {Config{Queues: []QueueSpec{good, good}}, "duplicate id"},
		"empty id":       {Config{Queues: []QueueSpec{{Name: "x", HandleTime: time.Minute}}}, "empty id"},
		"no handle time": {Config{Queues: []QueueSpec{{ID: "x"}}}, "handle time"},
		"bad target":     {Config{Queues: []QueueSpec{{ID: "x", HandleTime: time.Minute, TargetPercent: 180}}}, "target percent"},
		"unknown queue":  {Config{Queues: []QueueSpec{good}, Incidents: []Incident{{Kind: LunchSpike, QueueID: "b", Duration: time.Minute, Factor: 2}}}, "unknown queue"},
		"unknown kind":   {Config{Queues: []QueueSpec{good}, Incidents: []Incident{{Kind: 42, Duration: time.Minute}}}, "unknown incident kind"},
		"no duration":    {Config{Queues: []QueueSpec{good}, Incidents: []Incident{{Kind: Outage}}}, "duration"},
		"log off > 1":    {Config{Queues: []QueueSpec{good}, Incidents: []Incident{{Kind: AgentsLogOff, Duration: time.Minute, Factor: 1.5}}}, "between 0 and 1"},
		"negative step":  {Config{Step: -time.Second}, "negative"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error about %q", name, err, c.want)
		}
	}
	if err := DemoScenario(testStart, 30).Validate(); err != nil {
		t.Errorf("demo scenario: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted an invalid config")
		}
	}()
	New(Config{Queues: []QueueSpec{good, good}})
}

func TestIncidentKindString(t *testing.T) {
	for k, want := range map[IncidentKind]string{LunchSpike: "lunch_spike", AgentsLogOff: "agents_log_off", Hover: "hover", Outage: "outage", 9: "IncidentKind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
