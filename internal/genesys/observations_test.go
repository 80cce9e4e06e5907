package genesys_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
)

const observationsPath = "/api/v2/analytics/queues/observations/query"

// officialObservations is the official example response of the reference
// (§3.1), with the abridged observations filled in.
const officialObservations = `{
  "results": [
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc" },
      "data": [
        { "metric": "oUserRoutingStatuses", "qualifier": "INTERACTING", "stats": { "count": 2 } },
        { "metric": "oUserRoutingStatuses", "qualifier": "IDLE",        "stats": { "count": 1 } },
        { "metric": "oUserRoutingStatuses", "qualifier": "OFF_QUEUE",   "stats": { "count": 3 } }
      ] },
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "voice" },
      "data": [
        { "metric": "oInteracting", "stats": { "count": 1 }, "truncated": false,
          "observations": [
            { "observationDate": "2020-08-03T04:28:15.134Z",
              "conversationId": "111eb1ec-c111-11d1-bbb1-1f1b1c111da1",
              "sessionId": "1df11a1d-1d1c-110e-bd11-1caf1fb111fb",
              "routingPriority": 0, "participantName": "Makati, Philippines",
              "userId": "be11a111-1ff1-1a11-111f-11cb1a11da1e", "direction": "inbound",
              "ani": "tel:+63299999000", "dnis": "tel:+16149999000" } ] } ] },
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "chat" },
      "data": [ { "metric": "oInteracting", "stats": { "count": 1 }, "truncated": false, "observations": [
            { "observationDate": "2020-08-03T04:29:15.134Z", "conversationId": "c2" } ] } ] },
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "message" },
      "data": [ { "metric": "oInteracting", "stats": { "count": 0 } } ] },
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "email" },
      "data": [ { "metric": "oInteracting", "stats": { "count": 0 } } ] },
    { "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "callback" },
      "data": [ { "metric": "oInteracting", "stats": { "count": 0 } } ] }
  ]
}`

// trapObservations has every trap of the reference: per-media rows that
// must be summed, on-queue agents split by routing status with zero rows
// left out, oLongestWaiting as an epoch timestamp on one media type and as
// a duration on another, and a queue with no rows at all.
func trapObservations(now time.Time) string {
	epoch := now.Add(-95 * time.Second).UnixMilli()
	return fmt.Sprintf(`{
  "systemToOrganizationMappings": {"ON_QUEUE": ["e08eaf1b"]},
  "results": [
    { "group": { "queueId": "q1" },
      "data": [
        { "metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": { "count": 5 } },
        { "metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": { "count": 3 } },
        { "metric": "oOnQueueUsers", "qualifier": "NOT_RESPONDING", "stats": { "count": 1 } },
        { "metric": "oUserRoutingStatuses", "qualifier": "IDLE", "stats": { "count": 3 } },
        { "metric": "oOffQueueUsers", "stats": { "count": 4 } },
        { "metric": "oMemberUsers", "stats": { "count": 20 } },
        { "metric": "oActiveUsers", "stats": { "count": 13 } }
      ] },
    { "group": { "queueId": "q1", "mediaType": "voice" },
      "data": [
        { "metric": "oWaiting", "stats": { "count": 4 } },
        { "metric": "oInteracting", "stats": { "count": 5 } },
        { "metric": "oAlerting", "stats": { "count": 1 } },
        { "metric": "oLongestWaiting", "stats": { "count": 4, "calculatedMetricValue": %d } } ] },
    { "group": { "queueId": "q1", "mediaType": "chat" },
      "data": [
        { "metric": "oWaiting", "stats": { "count": 2 } },
        { "metric": "oInteracting", "stats": { "count": 3 } },
        { "metric": "oAlerting", "stats": { "count": 0 } },
        { "metric": "oLongestWaiting", "stats": { "count": 2, "calculatedMetricValue": 30000 } } ] },
    { "group": { "queueId": "q1", "mediaType": "email" },
      "data": [
        { "metric": "oWaiting", "stats": { "count": 0 } },
        { "metric": "oLongestWaiting", "stats": { "count": 0 } } ] },
    { "group": { "queueId": "q2" },
      "data": [ { "metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": { "count": 4 } } ] }
  ]
}`, epoch)
}

func TestObservationsFromReferenceBodies(t *testing.T) {
	c, clock := fixtureServer(t, map[string]answer{observationsPath: {body: officialObservations}})
	r, err := c.QueueObservations(testCtx(t), []string{"1d1af111-b11c-11f1-b111-1cf1c11111fc", "7a0c0cde-0000-4000-8000-000000000002"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Queues) != 2 {
		t.Fatalf("%d queues, want both requested", len(r.Queues))
	}
	q := r.Queues[0]
	if q.Total.Interacting != 2 || q.Media["voice"].Interacting != 1 || q.Media["chat"].Interacting != 1 || q.Media["email"].Interacting != 0 {
		t.Errorf("interacting: total %d, per media %+v", q.Total.Interacting, q.Media)
	}
	if q.Agents.Available != 1 || !reflect.DeepEqual(q.Agents.RoutingStatuses, map[string]int{"INTERACTING": 2, "IDLE": 1, "OFF_QUEUE": 3}) {
		t.Errorf("agents = %+v", q.Agents)
	}
	// The second queue is absent from the answer: all zero, still reported.
	got := samplesByKey(r.Samples(clock.Now()))
	for _, m := range []metric.Name{metric.Waiting, metric.Interacting, metric.Alerting, metric.LongestWait, metric.OnQueueAgents, metric.AvailableAgents} {
		v, ok := got[key("7a0c0cde-0000-4000-8000-000000000002", "", m)]
		if !ok || v != 0 {
			t.Errorf("%s of the omitted queue = %v, %v; want a reported 0", m, v, ok)
		}
	}
	if v := got[key("1d1af111-b11c-11f1-b111-1cf1c11111fc", "", metric.Interacting)]; v != 2 {
		t.Errorf("interacting sample = %v, want 2", v)
	}
}

func TestObservationsTraps(t *testing.T) {
	c, clock := fixtureServer(t, map[string]answer{observationsPath: {body: trapObservations(t0)}})
	r, err := c.QueueObservations(testCtx(t), []string{"q1", "q2", "q3"})
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(r.Samples(clock.Now()))
	want := map[string]float64{
		key("q1", "", metric.Waiting):          6, // 4 voice + 2 chat
		key("q1", "", metric.Interacting):      8,
		key("q1", "", metric.Alerting):         1,
		key("q1", "", metric.LongestWait):      95, // the epoch timestamp, aged
		key("q1", "", metric.OnQueueAgents):    9,  // every routing status
		key("q1", "", metric.AvailableAgents):  3,
		key("q1", "voice", metric.Waiting):     4,
		key("q1", "voice", metric.LongestWait): 95,
		key("q1", "chat", metric.Waiting):      2,
		key("q1", "chat", metric.LongestWait):  30, // a duration in ms
		key("q1", "email", metric.LongestWait): 0,
		key("q2", "", metric.OnQueueAgents):    4,
		key("q2", "", metric.AvailableAgents):  0, // the IDLE row is left out: zero
		key("q2", "", metric.Waiting):          0,
		key("q3", "", metric.Waiting):          0,
		key("q3", "", metric.OnQueueAgents):    0,
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || math.Abs(v-w) > 1e-9 {
			t.Errorf("%s = %v (reported %v), want %v", k, v, ok, w)
		}
	}
	a := r.Queues[0].Agents
	if a.Members != 20 || a.Active != 13 || a.OffQueue != 4 || a.OnQueueByStatus["NOT_RESPONDING"] != 1 {
		t.Errorf("agents = %+v", a)
	}
}

func TestLongestWaitValue(t *testing.T) {
	now := time.Date(2026, 5, 14, 13, 10, 12, 345e6, time.UTC)
	tests := []struct {
		v    float64
		want time.Duration
	}{
		{0, 0},
		{-5, 0},
		{30000, 30 * time.Second}, // a duration in ms
		{float64(now.Add(-2 * time.Minute).UnixMilli()), 2 * time.Minute}, // an epoch timestamp
		{float64(now.Add(time.Minute).UnixMilli()), 0},                    // clock skew: never negative
		{1778764212345, now.Sub(time.UnixMilli(1778764212345))},           // the reference's value
	}
	for _, tt := range tests {
		if got := genesys.LongestWaitValue(tt.v, now); got != tt.want {
			t.Errorf("LongestWaitValue(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestObservationsMatchTheSimulation(t *testing.T) {
	// The demo's second queue loses 80% of its agents from minute 2 to 6:
	// callers wait.
	s := sim.New(sim.DemoScenario(t0, 3))
	e := newEnv(t, fakegenesys.Options{Sim: s}, genesys.Options{})
	ctx := testCtx(t)
	qs, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(5 * time.Minute)
	r, err := e.client.QueueObservations(ctx, genesys.QueueIDs(qs))
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(r.Samples(r.At))
	waited := false
	e.fake.WithSim(func(s *sim.Sim) {
		for _, st := range s.Snapshot() {
			want := map[metric.Name]float64{
				metric.Waiting: float64(st.Waiting), metric.Interacting: float64(st.Interacting),
				metric.Alerting: float64(st.Alerting), metric.OnQueueAgents: float64(st.OnQueueAgents),
				metric.AvailableAgents: float64(st.AvailableAgents), metric.LongestWait: st.LongestWait.Seconds(),
			}
			for m, w := range want {
				// Epoch milliseconds round the longest wait to 1ms.
				if v := got[key(st.ID, "", m)]; math.Abs(v-w) > 0.001 {
					t.Errorf("%s %s = %v, simulation says %v", st.Name, m, v, w)
				}
			}
			if v := got[key(st.ID, st.MediaType, metric.Waiting)]; v != float64(st.Waiting) {
				t.Errorf("%s %s waiting = %v, want %d", st.Name, st.MediaType, v, st.Waiting)
			}
			waited = waited || st.Waiting > 0
		}
	})
	if !waited {
		t.Error("nobody waits: the scenario no longer tests longest wait")
	}
	for _, s := range r.Samples(r.At) {
		if s.QueueName == "" || s.Source != metric.SourcePoll {
			t.Fatalf("sample without a queue name or source: %+v", s)
		}
	}
}

func TestObservationsChunkQueueIDs(t *testing.T) {
	specs := sim.DefaultQueues(250, 2)
	e := newEnv(t, fakegenesys.Options{Queues: specs}, genesys.Options{})
	ids := make([]string, len(specs))
	for i, q := range specs {
		ids[i] = q.ID
	}
	r, err := e.client.QueueObservations(testCtx(t), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Queues) != 250 {
		t.Errorf("%d queues, want 250", len(r.Queues))
	}
	var sizes []int
	for _, c := range e.fake.Calls() {
		if c.Endpoint != fakegenesys.EndpointObservations {
			continue
		}
		var body struct {
			Filter struct {
				Predicates []struct{ Dimension, Value string }
			}
			Metrics []string
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.Filter.Predicates))
	}
	if !reflect.DeepEqual(sizes, []int{100, 100, 50}) {
		t.Errorf("queue ids per request = %v, want [100 100 50]", sizes)
	}
}

func TestObservationsFallBackWithoutLongestWaiting(t *testing.T) {
	s := sim.New(sim.DemoScenario(t0, 2))
	e := newEnv(t, fakegenesys.Options{Sim: s, RefuseLongestWaiting: true}, genesys.Options{})
	ctx := testCtx(t)
	e.fake.Advance(5 * time.Minute)
	var ids []string
	var longest []time.Duration
	e.fake.WithSim(func(s *sim.Sim) {
		for _, st := range s.Snapshot() {
			ids = append(ids, st.ID)
			longest = append(longest, st.LongestWait)
		}
	})
	for round := range 2 {
		r, err := e.client.QueueObservations(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range r.Queues {
			if d := q.Total.LongestWait - longest[i]; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("round %d: queue %d longest wait %s, want %s", round, i, q.Total.LongestWait, longest[i])
			}
		}
	}
	// One refused request, then only detail queries.
	if n := e.fake.Requests(fakegenesys.EndpointObservations); n != 3 {
		t.Errorf("%d observation requests, want 3", n)
	}
	if longest[1] == 0 {
		t.Error("nobody waits in the second queue: the test no longer tests the fallback")
	}
}

// key names a sample for samplesByKey.
func key(queueID, media string, m metric.Name) string {
	return queueID + "/" + media + "/" + string(m)
}

// samplesByKey indexes samples by queue, media type and metric.
func samplesByKey(ss []metric.Sample) map[string]float64 {
	out := map[string]float64{}
	for _, s := range ss {
		out[key(s.QueueID, s.MediaType, s.Metric)] = s.Value
	}
	return out
}
