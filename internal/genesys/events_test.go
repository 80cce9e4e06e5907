package genesys_test

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

const qid = "1d1af111-b11c-11f1-b111-1cf1c11111fc"

// observationsEvent is the reference's observations topic body (§4.4).
const observationsEvent = `{
  "topicName": "v2.analytics.queues.1d1af111-b11c-11f1-b111-1cf1c11111fc.observations",
  "version": "2",
  "eventBody": {
    "group": { "queueId": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "mediaType": "voice" },
    "data": [
      { "interval": "2026-05-14T13:00:00.000Z/2026-05-14T13:30:00.000Z",
        "metrics": [
          { "metric": "oWaiting", "stats": { "count": 3 } },
          { "metric": "oUserRoutingStatuses", "qualifier": "IDLE", "stats": { "count": 2 } },
          { "metric": "nOffered", "stats": { "count": 41 } },
          { "metric": "tAnswered", "stats": { "count": 35, "sum": 612000, "min": 1800, "max": 64000 } },
          { "metric": "oServiceLevel", "stats": { "numerator": 29, "denominator": 38, "ratio": 0.763, "target": 0.8 } }
        ] }
    ]
  },
  "metadata": { "CorrelationId": "b61df0b3-9e33-444b-a455-1c92a33ef4e2" }
}`

// activityEvent is the reference's activity topic body (§4.4).
const activityEvent = `{
  "topicName": "v2.analytics.queues.1d1af111-b11c-11f1-b111-1cf1c11111fc.activity",
  "version": "2",
  "eventBody": { "results": [
    { "mediaType": "voice", "data": [
        { "metric": "oWaiting", "count": 3 },
        { "metric": "oInteracting", "count": 7 },
        { "metric": "oLongestWaiting", "count": 3, "calculatedMetricValue": 1778764212345 } ] } ] },
  "metadata": { "CorrelationId": "c" }
}`

// eventBridgeEvent wraps an activity event as EventBridge delivers it.
const eventBridgeEvent = `{
  "version": "0",
  "id": "4cbedb0f-4dfd-4c8e-9e57-0acded092527",
  "detail-type": "v2.analytics.queues.{id}.activity",
  "source": "aws.partner/genesys.com/cloud/bb14bed0/quickstart-test",
  "account": "123456789",
  "time": "2026-05-14T13:10:40Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {
    "topicName": "v2.analytics.queues.1d1af111-b11c-11f1-b111-1cf1c11111fc.activity",
    "version": "2",
    "eventBody": { "results": [
      { "mediaType": "voice", "data": [ { "metric": "oWaiting", "count": 2 },
          { "metric": "oLongestWaiting", "count": 2, "calculatedMetricValue": 1778764212345 } ] },
      { "mediaType": "chat", "data": [ { "metric": "oWaiting", "count": 1 } ] } ] },
    "metadata": { "CorrelationId": "b61df0b3-archival" },
    "timestamp": "2026-05-14T13:10:42.345Z"
  }
}`

func TestParseNotificationAt(t *testing.T) {
	ts := time.Date(2026, 5, 14, 13, 10, 42, 345e6, time.UTC)
	now := ts.Add(time.Hour)
	tests := []struct {
		name string
		body string
		want map[string]float64
		// absent are samples that must not be produced.
		absent []string
		at     time.Time
	}{
		{
			name: "observations of one media type",
			body: observationsEvent,
			at:   now,
			want: map[string]float64{
				key(qid, "voice", metric.Waiting):            3,
				key(qid, "voice", metric.Offered):            41,
				key(qid, "voice", metric.ServiceLevel):       100 * 29.0 / 38,
				key(qid, "voice", metric.ServiceLevelTarget): 80,
				key(qid, "voice", metric.ASA):                612000.0 / 35 / 1000,
				key(qid, "", metric.AvailableAgents):         2,
				key(qid, "", metric.OnQueueAgents):           2,
			},
			// One media type's event says nothing of the queue total.
			absent: []string{key(qid, "", metric.Waiting), key(qid, "", metric.ServiceLevel)},
		},
		{
			name: "activity covers the queue",
			body: activityEvent,
			at:   now,
			want: map[string]float64{
				key(qid, "voice", metric.Waiting):     3,
				key(qid, "", metric.Waiting):          3,
				key(qid, "", metric.Interacting):      7,
				key(qid, "voice", metric.Interacting): 7,
			},
		},
		{
			name: "EventBridge envelope, aged at its timestamp",
			body: eventBridgeEvent,
			at:   ts,
			want: map[string]float64{
				key(qid, "", metric.Waiting):          3,
				key(qid, "chat", metric.Waiting):      1,
				key(qid, "voice", metric.LongestWait): 30,
			},
			// The chat interaction waits for an unknown time: the queue's
			// longest wait is unknown.
			absent: []string{key(qid, "", metric.LongestWait)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samples, err := genesys.ParseNotificationAt([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			got := samplesByKey(samples)
			for k, w := range tt.want {
				if v, ok := got[k]; !ok || math.Abs(v-w) > 1e-9 {
					t.Errorf("%s = %v (reported %v), want %v", k, v, ok, w)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s reported", k)
				}
			}
			for _, s := range samples {
				if !s.At.Equal(tt.at) || s.Source != metric.SourceStream {
					t.Errorf("sample at %s from %s, want %s from stream", s.At, s.Source, tt.at)
				}
			}
		})
	}
}

// TestParseNotificationWallClock checks the deprecated convenience: the
// samples of an event without a timestamp keep a zero At.
func TestParseNotificationWallClock(t *testing.T) {
	samples, err := genesys.ParseNotification([]byte(activityEvent))
	if err != nil || len(samples) == 0 {
		t.Fatalf("%d samples, %v", len(samples), err)
	}
	for _, s := range samples {
		if !s.At.IsZero() {
			t.Errorf("sample at %s, want a zero At", s.At)
		}
	}
	samples, err = genesys.ParseNotification([]byte(eventBridgeEvent))
	if err != nil || len(samples) == 0 || !samples[0].At.Equal(time.Date(2026, 5, 14, 13, 10, 42, 345e6, time.UTC)) {
		t.Fatalf("EventBridge: %v, %v", samples, err)
	}
}

func TestParseNotificationRefuses(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"heartbeat", `{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`, genesys.ErrUnsupportedTopic},
		{"other topic", `{"topicName":"v2.users.x.presence","eventBody":{}}`, genesys.ErrUnsupportedTopic},
		{"tutorial envelope", `{"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q"}}`, genesys.ErrNotNotification},
		{"not JSON", `{`, genesys.ErrNotNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := genesys.ParseNotificationAt([]byte(tt.body), t0)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := genesys.ParseNotificationAt([]byte(`{"topicName":"v2.analytics.queues.q.activity","eventBody":{"results":"x"}}`), t0); !errors.Is(err, genesys.ErrMalformedEvent) {
		t.Errorf("a malformed body: %v, want ErrMalformedEvent", err)
	}
}

func TestAccumulatorTotalsAcrossMediaTypes(t *testing.T) {
	acc := genesys.NewAccumulator(func(string) string { return "Support" })
	now := time.Date(2026, 5, 14, 13, 10, 0, 0, time.UTC)
	event := func(media string, waiting, num, den int) []byte {
		return []byte(`{"topicName":"v2.analytics.queues.q.observations","eventBody":{"group":{"queueId":"q","mediaType":"` + media + `"},
			"data":[{"interval":"i","metrics":[{"metric":"oWaiting","stats":{"count":` + strconv.Itoa(waiting) + `}},
			{"metric":"oServiceLevel","stats":{"numerator":` + strconv.Itoa(num) + `,"denominator":` + strconv.Itoa(den) + `,"target":0.8}}]}]}}`)
	}
	steps := []struct {
		body []byte
		want map[string]float64
	}{
		{event("voice", 3, 8, 10), map[string]float64{key("q", "", metric.Waiting): 3, key("q", "", metric.ServiceLevel): 80}},
		{event("chat", 2, 2, 10), map[string]float64{key("q", "", metric.Waiting): 5, key("q", "", metric.ServiceLevel): 50, key("q", "chat", metric.Waiting): 2}},
		{event("voice", 0, 8, 10), map[string]float64{key("q", "", metric.Waiting): 2}},
		// An activity event lists every media type: chat, absent, is zero.
		{[]byte(`{"topicName":"v2.analytics.queues.q.activity","eventBody":{"results":[{"mediaType":"voice","data":[{"metric":"oWaiting","count":4}]}]}}`),
			map[string]float64{key("q", "", metric.Waiting): 4, key("q", "", metric.ServiceLevel): 50}},
	}
	for i, s := range steps {
		samples, err := acc.Parse(s.body, now)
		if err != nil {
			t.Fatal(err)
		}
		got := samplesByKey(samples)
		for k, w := range s.want {
			if v, ok := got[k]; !ok || math.Abs(v-w) > 1e-9 {
				t.Errorf("step %d: %s = %v (reported %v), want %v", i, k, v, ok, w)
			}
		}
		for _, smp := range samples {
			if smp.QueueName != "Support" || !smp.At.Equal(now) {
				t.Errorf("step %d: sample %+v", i, smp)
			}
		}
	}
	acc.Forget("q")
	samples, _ := acc.Parse(event("chat", 1, 1, 1), now)
	if got := samplesByKey(samples); got[key("q", "", metric.Waiting)] != 1 {
		t.Errorf("after Forget: %v", got)
	}
}

func TestParseMessageKinds(t *testing.T) {
	tests := []struct {
		raw  string
		want genesys.MessageKind
	}{
		{`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`, genesys.KindHeartbeat},
		{`{"topicName":"channel.metadata","eventBody":{"message":"pong"}}`, genesys.KindPong},
		{`{"topicName":"v2.system.socket_closing","eventBody":{"message":"Socket closing"}}`, genesys.KindSocketClosing},
		{`{"topicName":"v2.system.token_revoked","eventBody":{}}`, genesys.KindSystem},
		{`{"result":"200","status":"subscribed"}`, genesys.KindReply},
		{observationsEvent, genesys.KindEvent},
	}
	for _, tt := range tests {
		m, err := genesys.ParseMessage([]byte(tt.raw))
		if err != nil || m.Kind != tt.want {
			t.Errorf("ParseMessage(%.60s) = %v, %v; want %v", tt.raw, m.Kind, err, tt.want)
		}
	}
	if _, err := genesys.ParseMessage([]byte("nope")); err == nil {
		t.Error("ParseMessage accepted garbage")
	}
}
