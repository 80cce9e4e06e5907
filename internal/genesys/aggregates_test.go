package genesys_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
)

const aggregatesPath = "/api/v2/analytics/conversations/aggregates/query"

// referenceAggregates is the captured response of the reference (§3.3),
// plus a chat group built from the numbers of its check (181−91=90,
// 181+18=199) and a queue whose service level comes only as a ratio and
// one with no oServiceLevel at all.
const referenceAggregates = `{
  "results": [
    { "group": { "mediaType": "voice", "queueId": "05f1c285-6777-4ccc-806f-8db085ae0793" },
      "data": [ { "interval": "2025-01-25T21:00:00.000Z/2025-02-01T21:00:00.000Z",
        "metrics": [
          { "metric": "nOffered",      "stats": { "count": 877 } },
          { "metric": "nOverSla",      "stats": { "count": 373 } },
          { "metric": "tAbandon",      "stats": { "max": 219470, "min": 94, "count": 83, "sum": 5750770 } },
          { "metric": "tAnswered",     "stats": { "max": 451577, "min": 2324, "count": 787, "sum": 40279740 } },
          { "metric": "oServiceLevel", "stats": { "ratio": 0.47586206896551725, "numerator": 414, "denominator": 870, "target": 0.8 } },
          { "metric": "tWait",         "stats": { "max": 451577, "min": 94, "count": 877, "sum": 47536266 } },
          { "metric": "tShortAbandon", "stats": { "max": 5658, "min": 94, "count": 7, "sum": 15442 } }
        ] } ] },
    { "group": { "mediaType": "chat", "queueId": "05f1c285-6777-4ccc-806f-8db085ae0793" },
      "data": [ { "interval": "2025-01-25T21:00:00.000Z/2025-02-01T21:00:00.000Z",
        "metrics": [
          { "metric": "nOffered",      "stats": { "count": 200 } },
          { "metric": "nOverSla",      "stats": { "count": 91 } },
          { "metric": "tAbandon",      "stats": { "count": 18, "sum": 180000 } },
          { "metric": "tAnswered",     "stats": { "count": 181, "sum": 3620000 } },
          { "metric": "oServiceLevel", "stats": { "ratio": 0.45226130653266333, "numerator": 90, "denominator": 199, "target": 0.9 } }
        ] } ] },
    { "group": { "mediaType": "voice", "queueId": "ratio-only" },
      "data": [ { "interval": "x", "metrics": [
          { "metric": "nOffered", "stats": { "count": 10 } },
          { "metric": "tAnswered", "stats": { "count": 8, "sum": 80000 } },
          { "metric": "tAbandon", "stats": { "count": 2, "sum": 1000 } },
          { "metric": "oServiceLevel", "stats": { "ratio": 0.5, "target": 0.8 } } ] } ] },
    { "group": { "mediaType": "voice", "queueId": "derived" },
      "data": [ { "interval": "x", "metrics": [
          { "metric": "nOffered", "stats": { "count": 512 } },
          { "metric": "tAnswered", "stats": { "count": 475, "sum": 950000 } },
          { "metric": "tAbandon", "stats": { "count": 37, "sum": 1000 } },
          { "metric": "nOverSla", "stats": { "count": 216 } } ] } ] }
  ]
}`

func TestAggregatesFromReferenceBody(t *testing.T) {
	c, clock := fixtureServer(t, map[string]answer{aggregatesPath: {body: referenceAggregates}})
	q := "05f1c285-6777-4ccc-806f-8db085ae0793"
	iv := genesys.Interval{Start: t0.Add(-30 * time.Minute), End: t0}
	r, err := c.ConversationAggregates(testCtx(t), []string{q, "ratio-only", "derived", "quiet"}, iv)
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(r.Samples(clock.Now()))
	want := map[string]float64{
		key(q, "voice", metric.ServiceLevel):       100 * 414.0 / 870,
		key(q, "voice", metric.ServiceLevelTarget): 80,
		key(q, "voice", metric.AbandonRate):        100 * 83.0 / 877,
		key(q, "voice", metric.Offered):            877,
		key(q, "voice", metric.ASA):                40279.740 / 787,
		key(q, "chat", metric.ServiceLevel):        100 * 90.0 / 199,
		key(q, "chat", metric.ServiceLevelTarget):  90,
		// Totals: numerators and denominators add up; the target is
		// weighted by denominators.
		key(q, "", metric.ServiceLevel):       100 * (414.0 + 90) / (870 + 199),
		key(q, "", metric.ServiceLevelTarget): 100 * (0.8*870 + 0.9*199) / (870 + 199),
		key(q, "", metric.Offered):            877 + 200,
		key(q, "", metric.AbandonRate):        100 * (83.0 + 18) / (877 + 200),
		key(q, "", metric.ASA):                (40279.740 + 3620) / (787 + 181),
		// A ratio alone is weighted by answered + abandoned.
		key("ratio-only", "", metric.ServiceLevel): 50,
		// No oServiceLevel: (answered − nOverSla) / (answered + abandoned).
		key("derived", "", metric.ServiceLevel): 100 * 259.0 / 512,
		// No traffic: nothing missed the target.
		key("quiet", "", metric.ServiceLevel): 100,
		key("quiet", "", metric.Offered):      0,
		key("quiet", "", metric.AbandonRate):  0,
		key("quiet", "", metric.ASA):          0,
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || math.Abs(v-w) > 1e-6 {
			t.Errorf("%s = %v (reported %v), want %v", k, v, ok, w)
		}
	}
	if math.Abs(got[key(q, "voice", metric.ServiceLevel)]-47.586206896551725) > 1e-9 {
		t.Errorf("the reference's 47.59%% is not reproduced")
	}
}

func TestAggregatesMatchTheSimulation(t *testing.T) {
	cfg := sim.DemoScenario(t0, 3)
	cfg.WarmUp = 0
	e := newEnv(t, fakegenesys.Options{Sim: sim.New(cfg)}, genesys.Options{})
	ctx := testCtx(t)
	qs, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Ten minutes in 10-second steps, so that the fake keeps history.
	for range 60 {
		e.fake.Advance(10 * time.Second)
	}
	window := 5 * time.Minute // the demo's rolling window
	iv := genesys.Interval{Start: e.clock.Now().Add(-window), End: e.clock.Now()}
	r, err := e.client.ConversationAggregates(ctx, genesys.QueueIDs(qs), iv)
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(r.Samples(r.At))
	breached := false
	e.fake.WithSim(func(s *sim.Sim) {
		for _, st := range s.Snapshot() {
			w := st.Window
			want := map[metric.Name]float64{
				metric.ServiceLevel: w.ServiceLevel(), metric.AbandonRate: w.AbandonRate(),
				metric.Offered: float64(w.Offered), metric.ASA: w.ASA().Seconds(),
				metric.ServiceLevelTarget: st.TargetPercent,
			}
			for m, v := range want {
				// Milliseconds round ASA.
				if g := got[key(st.ID, "", m)]; math.Abs(g-v) > 0.01 {
					t.Errorf("%s %s = %v, simulation window says %v", st.Name, m, g, v)
				}
			}
			breached = breached || w.ServiceLevel() < st.TargetPercent
		}
	})
	if !breached {
		t.Error("no queue is below target: the scenario no longer tests a breach")
	}
	// The query is the one the reference describes.
	for _, c := range e.fake.Calls() {
		if c.Endpoint != fakegenesys.EndpointAggregates {
			continue
		}
		var body struct {
			Interval string
			GroupBy  []string
			Metrics  []string
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Interval != iv.String() || len(body.GroupBy) != 2 || len(body.Metrics) == 0 {
			t.Errorf("query = %+v", body)
		}
	}
}

func TestAggregatesRejectAnEmptyInterval(t *testing.T) {
	c, _ := fixtureServer(t, nil)
	if _, err := c.ConversationAggregates(testCtx(t), []string{"q"}, genesys.Interval{Start: t0, End: t0}); err == nil {
		t.Error("an empty interval was accepted")
	}
}
