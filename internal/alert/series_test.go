package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/calendar"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

const (
	sec = time.Second
	mnt = time.Minute
)

func withFor(r *rule.Rule, f, cf time.Duration) *rule.Rule { r.For, r.ClearFor = f, cf; return r }

// TestStateTable drives every row of the state table in architecture §2.
func TestStateTable(t *testing.T) {
	longWait := func() *rule.Rule {
		return &rule.Rule{Name: "long_wait", Metric: metric.LongestWait, Dir: rule.Above, Queues: []string{"*"},
			Levels: []rule.Level{lvl(120, 120, rule.P3), lvl(300, 300, rule.P1)}, Notify: []string{"oncall"}}
	}
	cases := []struct {
		name  string
		rule  *rule.Rule
		steps []step
		want  string
	}{
		{"ok, breach, for 0: firing at once with create", below("sla", 80, 80),
			[]step{smp(0, 70)}, "ok>firing:create"},
		{"ok, breach, for > 0: pending, nothing sent", withFor(below("sla", 80, 80), mnt, 0),
			[]step{smp(0, 70)}, "ok>pending"},
		{"pending, breach held for `for`: firing with create", withFor(below("sla", 80, 80), mnt, 0),
			[]step{smp(0, 70), smp(30*sec, 72), smp(60*sec, 71)}, "ok>pending pending>firing:create"},
		{"pending, breach not yet held: stays pending", withFor(below("sla", 80, 80), mnt, 0),
			[]step{smp(0, 70), smp(59*sec, 72)}, "ok>pending"},
		{"pending, held for `for` on the ticker without new samples", withFor(below("sla", 80, 80), mnt, 0),
			[]step{smp(0, 70), adv(30 * sec), adv(61 * sec)}, "ok>pending pending>firing:create"},
		{"pending, no breach: back to ok", withFor(below("sla", 80, 80), mnt, 0),
			[]step{smp(0, 70), smp(30*sec, 90)}, "ok>pending pending>ok"},
		{"firing, priority level changes: update", longWait(),
			[]step{smp(0, 130), smp(10*sec, 310), smp(20*sec, 200)},
			"ok>firing:create firing>firing:update firing>firing:update"},
		{"firing, same level: nothing", longWait(),
			[]step{smp(0, 130), smp(10*sec, 140), smp(20*sec, 150)}, "ok>firing:create"},
		{"firing, value past clear with clear_for: resolving", withFor(below("sla", 80, 85), 0, 2*mnt),
			[]step{smp(0, 70), smp(10*sec, 90)}, "ok>firing:create firing>resolving"},
		{"resolving, clear held for clear_for: ok with resolve", withFor(below("sla", 80, 85), 0, 2*mnt),
			[]step{smp(0, 70), smp(10*sec, 90), smp(70*sec, 91), smp(130*sec, 92)},
			"ok>firing:create firing>resolving resolving>ok:resolve"},
		{"resolving, clear held on the ticker", withFor(below("sla", 80, 85), 0, 2*mnt),
			[]step{smp(0, 70), smp(10*sec, 90), adv(2 * mnt), adv(131 * sec)},
			"ok>firing:create firing>resolving resolving>ok:resolve"},
		{"firing, clear_for 0: resolve at once", below("sla", 80, 85),
			[]step{smp(0, 70), smp(10*sec, 86)}, "ok>firing:create firing>ok:resolve"},
		{"resolving, breach again: firing, nothing sent", withFor(below("sla", 80, 85), 0, 2*mnt),
			[]step{smp(0, 70), smp(10*sec, 90), smp(20*sec, 75)}, "ok>firing:create firing>resolving resolving>firing"},
		{"resolving, back in the hysteresis band counts as not clear", withFor(below("sla", 80, 85), 0, 2*mnt),
			[]step{smp(0, 70), smp(10*sec, 90), smp(20*sec, 83)}, "ok>firing:create firing>resolving resolving>firing"},
		{"hysteresis: the band between threshold and clear holds firing", below("sla", 80, 85),
			[]step{smp(0, 79), smp(10*sec, 82), smp(20*sec, 84.9), smp(30*sec, 85)},
			"ok>firing:create firing>ok:resolve"},
		{"hysteresis: the band does not open an alert", below("sla", 80, 85),
			[]step{smp(0, 82), smp(10*sec, 84)}, ""},
		{"firing, silent for stale_after: one no-data update", func() *rule.Rule { r := below("sla", 80, 80); r.StaleAfter = 5 * mnt; return r }(),
			[]step{smp(0, 70), adv(4 * mnt), adv(5 * mnt), adv(10 * mnt), smp(11*mnt, 70)},
			"ok>firing:create firing>firing:update firing>firing:update"},
		{"out-of-order sample is ignored", below("sla", 80, 80),
			[]step{smp(10*sec, 90), smp(0, 70)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := run(t, []*rule.Rule{tc.rule}, tc.steps)
			if got := codes(ts); got != tc.want {
				t.Fatalf("transitions\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestEpisodeAndPayload(t *testing.T) {
	r := withFor(below("sla", 80, 85), 0, time.Minute)
	ts, _ := run(t, []*rule.Rule{r}, []step{
		smp(0, 70), smp(10*sec, 60), smp(20*sec, 90), smp(30*sec, 75), smp(40*sec, 90), smp(101*sec, 95),
	})
	if got, want := codes(ts), "ok>firing:create firing>resolving resolving>firing firing>resolving resolving>ok:resolve"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	create, resolve := ts[0], ts[len(ts)-1]
	if create.Key != "q1_sla" || create.Episode == nil || create.Episode.ID == "" {
		t.Fatalf("create key/episode: %+v", create)
	}
	for _, x := range ts {
		if x.Episode == nil || x.Episode.ID != create.Episode.ID {
			t.Fatalf("transition %s left the episode %s", codes([]Transition{x}), create.Episode.ID)
		}
	}
	ep := resolve.Episode
	if ep.Worst != 60 || !ep.WorstAt.Equal(t0.Add(10*sec)) || !ep.End.Equal(t0.Add(101*sec)) || !ep.Start.Equal(t0) {
		t.Fatalf("episode: %+v", ep)
	}
	if len(create.Destinations) != 1 || create.Destinations[0] != "oncall" || len(resolve.Destinations) != 1 {
		t.Fatalf("destinations: create %v resolve %v", create.Destinations, resolve.Destinations)
	}
	if resolve.Priority != rule.P1 || create.Threshold != 80 || create.Clear != 85 || create.Value != 70 {
		t.Fatalf("payload: create %+v resolve %+v", create, resolve)
	}
	if resolve.Series.State != OK || resolve.Series.Episode == nil || resolve.Series.Episode.End.IsZero() {
		t.Fatalf("resolve series state: %+v", resolve.Series)
	}
	for _, x := range ts[1 : len(ts)-1] {
		if len(x.Destinations) != 0 {
			t.Fatalf("state-only transition owes notifications: %+v", x)
		}
	}
	// A new breach after the resolve is a new episode.
	ts2, _ := run(t, []*rule.Rule{below("sla", 80, 85)}, []step{smp(0, 70), smp(sec, 90), smp(2*sec, 70)})
	if ts2[0].Episode.ID == ts2[2].Episode.ID {
		t.Fatalf("second breach reused episode %s", ts2[0].Episode.ID)
	}
}

func TestLevelsPriorityChanges(t *testing.T) {
	r := &rule.Rule{Name: "long_wait", Metric: metric.LongestWait, Dir: rule.Above, Queues: []string{"*"},
		Levels: []rule.Level{lvl(120, 100, rule.P3), lvl(300, 250, rule.P1)}, Notify: []string{"oncall"}}
	ts, _ := run(t, []*rule.Rule{r}, []step{
		smp(0, 310),     // straight to P1
		smp(sec, 280),   // below 300 but above level-2 clear 250: stays P1
		smp(2*sec, 240), // below 250: down to P3
		smp(3*sec, 110), // below 120 but above clear 100: stays P3
		smp(4*sec, 90),  // clear
	})
	if got, want := codes(ts), "ok>firing:create firing>firing:update firing>ok:resolve"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if ts[0].Priority != rule.P1 || ts[1].Priority != rule.P3 || ts[1].PrevPriority != rule.P1 {
		t.Fatalf("priorities: %s %s/%s", ts[0].Priority, ts[1].Priority, ts[1].PrevPriority)
	}
	if ts[2].Episode.Priority != rule.P1 || ts[2].Episode.Worst != 310 {
		t.Fatalf("episode keeps the most urgent priority and worst value: %+v", ts[2].Episode)
	}
}

func TestFlapping(t *testing.T) {
	r := below("sla", 80, 80)
	r.Flap = rule.Flap{Window: 30 * mnt, Transitions: 4, ClearFor: 5 * mnt}
	steps := []step{smp(0, 70), smp(mnt, 90), smp(2*mnt, 70), smp(3*mnt, 90), smp(4*mnt, 70), smp(5*mnt, 90), smp(8*mnt, 90), smp(10*mnt, 91)}
	ts, _ := run(t, []*rule.Rule{r}, steps)
	// fire, resolve, fire, [4th change: flapping → resolving instead of resolve] ...
	want := "ok>firing:create firing>ok:resolve ok>firing:create firing>resolving resolving>resolving:update resolving>firing firing>resolving resolving>ok:resolve"
	if got := codes(ts); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	note := ts[4].Note
	if !strings.Contains(note, "Flapping") || !strings.Contains(note, "5m0s") {
		t.Fatalf("flapping note: %q", note)
	}
	last := ts[len(ts)-1]
	if !last.At.Equal(t0.Add(10*mnt)) || !strings.Contains(last.Note, "flapping") {
		t.Fatalf("resolve after the extended clear_for, saying so: at %v note %q", last.At, last.Note)
	}
}

func TestTargetThreshold(t *testing.T) {
	r := &rule.Rule{Name: "sla", Metric: metric.ServiceLevel, Dir: rule.Below, Queues: []string{"*"},
		Levels: []rule.Level{{Threshold: rule.Threshold{Target: true}, Clear: rule.Threshold{Target: true, Value: 5}, Priority: rule.P2}},
		Notify: []string{"oncall"}}
	ts, e := run(t, []*rule.Rule{r}, []step{
		smp(0, 50), // no target known yet: not evaluated
		{at: sec, metric: metric.ServiceLevelTarget, value: 90},
		smp(2*sec, 88),   // below the queue's 90% target
		smp(3*sec, 94),   // between target and target+5: held
		smp(4*sec, 95.5), // past target+5
	})
	if got, want := codes(ts), "ok>firing:create firing>ok:resolve"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if ts[0].Threshold != 90 || ts[0].Clear != 95 || ts[0].Target != 90 {
		t.Fatalf("target thresholds: %+v", ts[0])
	}
	if e.Stats().NoTarget != 1 {
		t.Fatalf("NoTarget = %d, want 1", e.Stats().NoTarget)
	}
}

func TestOverridesAndMatching(t *testing.T) {
	r := below("sla", 80, 80)
	r.Exclude = []string{"Queue q3"}
	r.Overrides = []rule.Override{{Queues: []string{"Queue q2"}, Levels: []rule.Level{lvl(90, 90, rule.P1)}}}
	ts, _ := run(t, []*rule.Rule{r}, []step{
		{at: 0, value: 85, queue: "q1"}, // fine at 80
		{at: 0, value: 85, queue: "q2"}, // breach at the override's 90
		{at: 0, value: 10, queue: "q3"}, // excluded
	})
	if len(ts) != 1 || ts[0].QueueID != "q2" || ts[0].Threshold != 90 {
		t.Fatalf("got %s %+v", codes(ts), ts)
	}
}

func TestScheduleHoldsAndReleasesCreate(t *testing.T) {
	days, _ := calendar.ParseWeekdays([]string{"mon-fri"})
	rng, _ := calendar.ParseRange("11:00-18:00")
	r := withFor(below("sla", 80, 80), 0, 0)
	r.Schedule = &calendar.Schedule{Name: "business", Location: time.UTC, Weekdays: days, Ranges: []calendar.MinuteRange{rng}}
	// t0 is 10:00 UTC Monday: outside hours until 11:00.
	ts, _ := run(t, []*rule.Rule{r}, []step{smp(0, 70), adv(30 * mnt), adv(60 * mnt), smp(61*mnt, 90)})
	if got, want := codes(ts), "ok>firing:create firing>firing:create firing>ok:resolve"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if len(ts[0].Destinations) != 0 || ts[0].Held != "outside schedule business" {
		t.Fatalf("first create must be held: %+v", ts[0])
	}
	if len(ts[1].Destinations) != 1 || !ts[1].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("create must be released at 11:00: %+v", ts[1])
	}
	if ts[0].Episode.ID != ts[1].Episode.ID || len(ts[2].Destinations) != 1 {
		t.Fatalf("release keeps the episode; the resolve is owed: %+v", ts)
	}
	// A breach that ends while held never pages.
	ts, _ = run(t, []*rule.Rule{r}, []step{smp(0, 70), smp(10*mnt, 90)})
	if codes(ts) != "ok>firing:create firing>ok:resolve" || len(ts[0].Destinations)+len(ts[1].Destinations) != 0 {
		t.Fatalf("held breach must not page: %s %+v", codes(ts), ts)
	}
}

type muteAll struct{ until time.Time }

func (m muteAll) Muted(_, _, _, _ string, at time.Time) string {
	if at.Before(m.until) {
		return "silenced"
	}
	return ""
}

func TestMuterHoldsCreateUntilSilenceEnds(t *testing.T) {
	ts, _ := run(t, []*rule.Rule{below("sla", 80, 80)}, []step{smp(0, 70), adv(5 * mnt), adv(15 * mnt)},
		func(o *Options) { o.Muter = muteAll{until: t0.Add(10 * mnt)} })
	if codes(ts) != "ok>firing:create firing>firing:create" || ts[0].Held != "silenced" || len(ts[1].Destinations) != 1 {
		t.Fatalf("got %s %+v", codes(ts), ts)
	}
}

func TestRestoreResumesAndResolvesOnce(t *testing.T) {
	r := below("sla", 80, 80)
	ts, e1 := run(t, []*rule.Rule{r}, []step{smp(0, 70)})
	_ = e1.Close(context.Background())
	stored := ts[len(ts)-1].Series

	mc := &memCommitter{}
	e2, err := New(Options{Rules: []*rule.Rule{r}, Committer: mc, Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close(context.Background())
	ctx := context.Background()
	if err := e2.Restore(ctx, []SeriesState{stored}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := e2.Observe(ctx, metric.Sample{QueueID: "q1", QueueName: "Queue q1", Metric: metric.ServiceLevel, Value: 95, At: t0.Add(time.Duration(i+1) * mnt)}); err != nil {
			t.Fatal(err)
		}
	}
	got := mc.all()
	if codes(got) != "firing>ok:resolve" || got[0].Episode.ID != stored.Episode.ID {
		t.Fatalf("after restart: %s", codes(got))
	}
}

func TestRestoreResolvesAlertOfRemovedRule(t *testing.T) {
	ts, _ := run(t, []*rule.Rule{below("gone", 80, 80)}, []step{smp(0, 70)})
	mc := &memCommitter{}
	e, _ := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: mc})
	defer e.Close(context.Background())
	if err := e.Restore(context.Background(), []SeriesState{ts[0].Series}); err != nil {
		t.Fatal(err)
	}
	got := mc.all()
	if codes(got) != "firing>ok:resolve" || len(got[0].Destinations) != 1 || !strings.Contains(got[0].Reason, "removed") {
		t.Fatalf("got %s %+v", codes(got), got)
	}
}
