package genesys_test

// The cases of this file come from the webhook's own notification parser,
// which this package replaced: the webhook now parses notifications with
// ParseEvent and keeps queue totals in an Accumulator, so these tests hold
// what the webhook answers.

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

const (
	queueA = qid
	queueB = "7a0c0cde-0000-4000-8000-000000000002"
)

// clock is the caller's clock of these tests.
var clock = time.Date(2026, 5, 14, 13, 10, 0, 0, time.UTC)

// webhookObservations is the reference's .observations example for
// queueA/voice, with an abandon count added.
const webhookObservations = `{
  "topicName": "v2.analytics.queues.` + queueA + `.observations",
  "version": "2",
  "eventBody": {
    "group": { "queueId": "` + queueA + `", "mediaType": "voice" },
    "data": [
      { "interval": "2026-05-14T13:00:00.000Z/2026-05-14T13:30:00.000Z",
        "metrics": [
          { "metric": "oWaiting", "stats": { "count": 3 } },
          { "metric": "oUserRoutingStatuses", "qualifier": "IDLE", "stats": { "count": 2 } },
          { "metric": "nOffered", "stats": { "count": 41 } },
          { "metric": "tAbandon", "stats": { "count": 4, "sum": 120000 } },
          { "metric": "tAnswered", "stats": { "count": 35, "sum": 612000, "min": 1800, "max": 64000 } },
          { "metric": "oServiceLevel", "stats": { "numerator": 29, "denominator": 38, "ratio": 0.763, "target": 0.8 } }
        ] }
    ]
  },
  "metadata": { "CorrelationId": "b61df0b3-9e33-444b-a455-1c92a33ef4e2" }
}`

// activityBody builds an .activity body whose oldest waiting voice and
// chat interactions entered at the given times.
func activityBody(voiceSince, chatSince time.Time) string {
	return fmt.Sprintf(`{"results": [
    { "mediaType": "voice", "data": [
        { "metric": "oWaiting", "count": 3 },
        { "metric": "oInteracting", "count": 7 },
        { "metric": "oLongestWaiting", "count": 3, "calculatedMetricValue": %d } ] },
    { "mediaType": "chat", "data": [
        { "metric": "oWaiting", "count": 2 },
        { "metric": "oAlerting", "count": 1 },
        { "metric": "oFlow", "count": 9 },
        { "metric": "oLongestWaiting", "count": 2, "calculatedMetricValue": %d } ] },
    { "mediaType": "email", "data": [ { "metric": "oWaiting", "count": 0 } ] } ] }`,
		voiceSince.UnixMilli(), chatSince.UnixMilli())
}

// notificationOf wraps an event body in a notification envelope.
func notificationOf(topic, body, correlation string) string {
	return `{"topicName":"` + topic + `","version":"2","eventBody":` + body +
		`,"metadata":{"CorrelationId":"` + correlation + `"}}`
}

// obsTopic and actTopic are the topics of a queue.
func obsTopic(q string) string { return genesys.ObservationsTopic(q) }
func actTopic(q string) string { return genesys.ActivityTopic(q) }

// smp builds an expected stream sample.
func smp(queue, media string, m metric.Name, v float64, at time.Time) metric.Sample {
	return metric.Sample{QueueID: queue, MediaType: media, Metric: m, Value: v, At: at, Source: metric.SourceStream}
}

// sampleString renders a sample for comparisons, its value rounded.
func sampleString(s metric.Sample) string {
	return fmt.Sprintf("%s|%s|%s|%s|%.6f|%s|%s", s.QueueID, s.QueueName, s.MediaType, s.Metric,
		math.Round(s.Value*1e6)/1e6, s.At.UTC().Format(time.RFC3339Nano), s.Source)
}

// sameSamples fails unless got and want hold the same samples, in any
// order.
func sameSamples(t *testing.T, got, want []metric.Sample) {
	t.Helper()
	g, w := map[string]int{}, map[string]int{}
	for _, s := range got {
		g[sampleString(s)]++
	}
	for _, s := range want {
		w[sampleString(s)]++
	}
	var diffs []string
	for k, n := range w {
		if g[k] != n {
			diffs = append(diffs, fmt.Sprintf("missing %s (got %d of %d)", k, g[k], n))
		}
	}
	for k, n := range g {
		if w[k] != n {
			diffs = append(diffs, fmt.Sprintf("unexpected %s (%d)", k, n))
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

// withoutTotals drops the queue totals of samples, keeping agent figures:
// what ParseNotificationAt gives for an event of one media type.
func withoutTotals(ss []metric.Sample) []metric.Sample {
	var out []metric.Sample
	for _, s := range ss {
		if s.MediaType != "" || s.Metric == metric.OnQueueAgents || s.Metric == metric.AvailableAgents {
			out = append(out, s)
		}
	}
	return out
}

func TestEventCases(t *testing.T) {
	at := clock.Add(-30 * time.Second)
	wantActivity := func(at time.Time, voice, chat float64) []metric.Sample {
		return []metric.Sample{
			smp(queueB, "voice", metric.Waiting, 3, at),
			smp(queueB, "voice", metric.Interacting, 7, at),
			smp(queueB, "voice", metric.LongestWait, voice, at),
			smp(queueB, "chat", metric.Waiting, 2, at),
			smp(queueB, "chat", metric.Alerting, 1, at),
			smp(queueB, "chat", metric.LongestWait, chat, at),
			smp(queueB, "email", metric.Waiting, 0, at),
			smp(queueB, "email", metric.LongestWait, 0, at),
			smp(queueB, "", metric.Waiting, 5, at),
			smp(queueB, "", metric.Interacting, 7, at),
			smp(queueB, "", metric.Alerting, 1, at),
			smp(queueB, "", metric.LongestWait, voice, at),
		}
	}
	tests := []struct {
		name string
		body string
		// want are the samples of a fresh Accumulator.
		want []metric.Sample
		// perMedia is set for an event of one media type, whose
		// ParseNotificationAt samples have no queue totals.
		perMedia bool
	}{
		{"observations: per media, agents per queue, derived totals", webhookObservations, []metric.Sample{
			smp(queueA, "voice", metric.Waiting, 3, clock),
			smp(queueA, "voice", metric.Offered, 41, clock),
			smp(queueA, "voice", metric.ServiceLevel, 100*29.0/38, clock),
			smp(queueA, "voice", metric.ServiceLevelTarget, 80, clock),
			smp(queueA, "voice", metric.AbandonRate, 100*4.0/41, clock),
			smp(queueA, "voice", metric.ASA, 612.0/35, clock),
			// IDLE is a routing status of agents on queue.
			smp(queueA, "", metric.OnQueueAgents, 2, clock),
			smp(queueA, "", metric.AvailableAgents, 2, clock),
			smp(queueA, "", metric.Waiting, 3, clock),
			smp(queueA, "", metric.Offered, 41, clock),
			smp(queueA, "", metric.ServiceLevel, 100*29.0/38, clock),
			smp(queueA, "", metric.ServiceLevelTarget, 80, clock),
			smp(queueA, "", metric.AbandonRate, 100*4.0/41, clock),
			smp(queueA, "", metric.ASA, 612.0/35, clock),
		}, true},
		{"observations: queue group sums qualifiers, latest interval wins", notificationOf(obsTopic(queueA), `{
			"group": {"queueId": "`+queueA+`"},
			"data": [
			  {"metrics": [{"metric": "oWaiting", "stats": {"count": 9}}]},
			  {"metrics": [
				{"metric": "oWaiting", "stats": {"count": 6}},
				{"metric": "oLongestWaiting", "stats": {"calculatedMetricValue": 2500}},
				{"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}},
				{"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 3}},
				{"metric": "oUserRoutingStatuses", "qualifier": "IDLE", "stats": {"count": 2}},
				{"metric": "oUserRoutingStatuses", "qualifier": "INTERACTING", "stats": {"count": 3}},
				{"metric": "oUserRoutingStatuses", "qualifier": "OFF_QUEUE", "stats": {"count": 4}},
				{"metric": "oServiceLevel", "stats": {"numerator": 0, "denominator": 0, "target": 0.9}}]}]}`, "c2"),
			[]metric.Sample{
				smp(queueA, "", metric.Waiting, 6, clock),
				smp(queueA, "", metric.LongestWait, 2.5, clock),
				// Nothing answered or abandoned: nothing missed the target.
				smp(queueA, "", metric.ServiceLevel, 100, clock),
				smp(queueA, "", metric.ServiceLevelTarget, 90, clock),
				smp(queueA, "", metric.OnQueueAgents, 5, clock),
				smp(queueA, "", metric.AvailableAgents, 2, clock),
			}, false},
		{"observations: routing statuses without IDLE row", notificationOf(obsTopic(queueA), `{
			"group": {"queueId": "`+queueA+`"},
			"data": [{"metrics": [
				{"metric": "oUserRoutingStatuses", "qualifier": "INTERACTING", "stats": {"count": 3}},
				{"metric": "oUserRoutingStatuses", "qualifier": "NOT_RESPONDING", "stats": {"count": 1}},
				{"metric": "oUserRoutingStatuses", "qualifier": "OFF_QUEUE", "stats": {"count": 4}}]}]}`, "c3"),
			[]metric.Sample{
				smp(queueA, "", metric.OnQueueAgents, 4, clock),
				smp(queueA, "", metric.AvailableAgents, 0, clock),
			}, false},
		{"activity: epoch oLongestWaiting, sums across media", notificationOf(actTopic(queueB),
			activityBody(clock.Add(-95*time.Second), clock.Add(-40*time.Second)), "c4"),
			wantActivity(clock, 95, 40), false},
		{"activity: duration oLongestWaiting", notificationOf(actTopic(queueB), `{"results":[
			{"mediaType":"voice","data":[{"metric":"oWaiting","count":1},{"metric":"oLongestWaiting","count":1,"calculatedMetricValue":5000}]}]}`, "c5"),
			[]metric.Sample{
				smp(queueB, "voice", metric.Waiting, 1, clock),
				smp(queueB, "voice", metric.LongestWait, 5, clock),
				smp(queueB, "", metric.Waiting, 1, clock),
				smp(queueB, "", metric.LongestWait, 5, clock),
			}, false},
		{"activity: someone waits for an unknown time, no total wait", notificationOf(actTopic(queueB), `{"results":[
			{"mediaType":"voice","data":[{"metric":"oWaiting","count":1}]},
			{"mediaType":"chat","data":[{"metric":"oWaiting","count":0}]}]}`, "c6"),
			[]metric.Sample{
				smp(queueB, "voice", metric.Waiting, 1, clock),
				smp(queueB, "chat", metric.Waiting, 0, clock),
				smp(queueB, "chat", metric.LongestWait, 0, clock),
				smp(queueB, "", metric.Waiting, 1, clock),
			}, false},
		{"activity: a result without media type is the queue total", notificationOf(actTopic(queueB), `{"results":[
			{"data":[{"metric":"oWaiting","count":2}]}]}`, "c6b"),
			[]metric.Sample{smp(queueB, "", metric.Waiting, 2, clock)}, false},
		{"activity: beside per-media results, a result without media type is ignored", notificationOf(actTopic(queueB), `{"results":[
			{"group":{"queueId":"`+queueB+`","mediaType":"voice"},"data":[{"metric":"oInteracting","count":2}]},
			{"data":[{"metric":"oInteracting","count":2}]}]}`, "c6c"),
			[]metric.Sample{smp(queueB, "voice", metric.Interacting, 2, clock), smp(queueB, "", metric.Interacting, 2, clock)}, false},
		{"eventbridge: detail is read at the envelope's time", `{
			"version": "0", "id": "4cbedb0f-4dfd-4c8e-9e57-0acded092527",
			"detail-type": "v2.analytics.queues.{id}.activity",
			"source": "aws.partner/genesys.com/cloud/bb14bed0/queuewatch",
			"account": "123456789", "time": "` + at.Format(time.RFC3339) + `", "region": "us-east-1", "resources": [],
			"detail": ` + notificationOf(actTopic(queueB), activityBody(at.Add(-60*time.Second), at.Add(-1*time.Second)), "c7-archival") + `}`,
			wantActivity(at, 60, 1), false},
		{"eventbridge: detail.timestamp when time is absent", `{"id":"eb2","detail-type":"v2.analytics.queues.{id}.activity",
			"detail":{"topicName":"` + actTopic(queueB) + `","timestamp":"` + at.Format(time.RFC3339Nano) + `",
			"eventBody":{"results":[{"mediaType":"voice","data":[{"metric":"oInteracting","count":2}]}]}}}`,
			[]metric.Sample{smp(queueB, "voice", metric.Interacting, 2, at), smp(queueB, "", metric.Interacting, 2, at)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := genesys.NewAccumulator(nil).Parse([]byte(tt.body), clock)
			if err != nil {
				t.Fatal(err)
			}
			sameSamples(t, got, tt.want)
			stateless, err := genesys.ParseNotificationAt([]byte(tt.body), clock)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if tt.perMedia {
				want = withoutTotals(want)
			}
			sameSamples(t, stateless, want)
		})
	}
}

// TestAccumulatorMediaTotalsAcrossEvents sends the media types of a queue
// one event at a time: each event's queue total covers every media type
// seen.
func TestAccumulatorMediaTotalsAcrossEvents(t *testing.T) {
	acc := genesys.NewAccumulator(nil)
	obs := func(media string, waiting int) []byte {
		return []byte(notificationOf(obsTopic(queueA), fmt.Sprintf(
			`{"group":{"queueId":%q,"mediaType":%q},"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":%d}}]}]}`,
			queueA, media, waiting), "m"))
	}
	steps := []struct {
		body  []byte
		total float64
	}{{obs("voice", 3), 3}, {obs("chat", 2), 5}, {obs("voice", 0), 2}}
	for i, s := range steps {
		samples, err := acc.Parse(s.body, clock)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := samplesByKey(samples)[key(queueA, "", metric.Waiting)]; !ok || got != s.total {
			t.Fatalf("step %d: queue total %v (reported %v), want %v", i, got, ok, s.total)
		}
	}
}

func TestParseEventOtherTopics(t *testing.T) {
	tests := []struct {
		name, body, topic string
		want              error
	}{
		{"heartbeat", `{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`, "channel.metadata", genesys.ErrUnsupportedTopic},
		{"heartbeat without body", `{"topicName":"channel.metadata"}`, "channel.metadata", genesys.ErrUnsupportedTopic},
		{"user presence", notificationOf("v2.users.u1.presence", `{}`, "c"), "v2.users.u1.presence", genesys.ErrUnsupportedTopic},
		{"routing queue topic", notificationOf("v2.routing.queues."+queueA+".observations", `{}`, "c"),
			"v2.routing.queues." + queueA + ".observations", genesys.ErrUnsupportedTopic},
		{"eventbridge audit topic", `{"id":"x","detail-type":"v2.audits.entitytype.{id}.entityid.{id}",
			"detail":{"topicName":"v2.audits.entitytype.UserPresence.entityid.1","eventBody":{}}}`,
			"v2.audits.entitytype.UserPresence.entityid.1", genesys.ErrUnsupportedTopic},
		{"eventbridge from another source", `{"id":"x","detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`,
			"", genesys.ErrNotNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := genesys.ParseEvent([]byte(tt.body), clock)
			if !errors.Is(err, tt.want) || e.Topic != tt.topic {
				t.Fatalf("ParseEvent = topic %q, %v; want %q, %v", e.Topic, err, tt.topic, tt.want)
			}
		})
	}
	// A queue topic without a metric queuewatch reads gives no samples.
	samples, err := genesys.ParseNotificationAt([]byte(notificationOf(obsTopic(queueA),
		`{"group":{"queueId":"`+queueA+`"},"data":[{"metrics":[{"metric":"oMemberUsers","stats":{"count":3}}]}]}`, "c")), clock)
	if err != nil || len(samples) != 0 {
		t.Fatalf("oMemberUsers alone: %v, %v; want no samples", samples, err)
	}
}

func TestParseEventShapeErrors(t *testing.T) {
	obs, act := obsTopic(queueA), actTopic(queueA)
	tests := []struct {
		name, body string
		want       error
		text       string
	}{
		{"empty topicName", `{"topicName":"","eventBody":{}}`, genesys.ErrNotNotification, "missing field topicName"},
		{"topicName is an object", `{"topicName":{},"eventBody":{}}`, genesys.ErrNotNotification, "field topicName: expected a string, got object"},
		{"not an object", `[1]`, genesys.ErrNotNotification, "expected an object, got array"},
		{"bad JSON", `{"topicName":`, genesys.ErrNotNotification, "bad JSON"},
		{"missing eventBody", `{"topicName":"` + obs + `"}`, genesys.ErrMalformedEvent, "missing field eventBody"},
		{"null eventBody", `{"topicName":"` + obs + `","eventBody":null}`, genesys.ErrMalformedEvent, "missing field eventBody"},
		{"eventBody is an array", `{"topicName":"` + obs + `","eventBody":[]}`, genesys.ErrMalformedEvent, "field eventBody: expected an object, got array"},
		{"activity without results", notificationOf(act, `{"data":[]}`, "c"), genesys.ErrMalformedEvent, "missing field eventBody.results"},
		{"results is text", notificationOf(act, `{"results":"x"}`, "c"), genesys.ErrMalformedEvent, "field eventBody.results: expected an array"},
		{"stats value is text", notificationOf(obs, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":"3"}}]}]}`, "c"),
			genesys.ErrMalformedEvent, "field eventBody.data.metrics.stats"},
		{"group of another queue", notificationOf(obs, `{"group":{"queueId":"other"},"data":[]}`, "c"),
			genesys.ErrMalformedEvent, `field eventBody.group.queueId: "other" is not the topic's queue`},
		{"activity group of another queue", notificationOf(act, `{"results":[{"group":{"queueId":"other"},"data":[]}]}`, "c"),
			genesys.ErrMalformedEvent, `field eventBody.results[0].group.queueId: "other" is not the topic's queue`},
		{"media type with spaces", notificationOf(act, `{"results":[{"mediaType":"voice mail","data":[]}]}`, "c"),
			genesys.ErrMalformedEvent, `"voice mail" is not a media type`},
		{"overlong media type", notificationOf(obs, `{"group":{"mediaType":"`+strings.Repeat("m", 65)+`"},"data":[]}`, "c"),
			genesys.ErrMalformedEvent, "is not a media type"},
		{"negative count", notificationOf(obs, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":-3}}]}]}`, "c"),
			genesys.ErrMalformedEvent, "field eventBody.data[0].metrics[0].stats.count: expected a number from 0"},
		{"huge count", notificationOf(obs, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":1e308}}]}]}`, "c"),
			genesys.ErrMalformedEvent, "expected a number from 0 to 1e+13"},
		{"negative activity count", notificationOf(act, `{"results":[{"mediaType":"voice","data":[{"metric":"oWaiting","count":-1}]}]}`, "c"),
			genesys.ErrMalformedEvent, "field eventBody.results[0].data[0].count: expected a number from 0"},
		{"durations past int64", notificationOf(obs, `{"data":[{"metrics":[{"metric":"tAnswered","stats":{"count":1,"sum":9e12}},
			{"metric":"tAnswered","qualifier":"x","stats":{"count":1,"sum":9e12}}]}]}`, "c"),
			genesys.ErrMalformedEvent, `metric "tAnswered": stats.sum adds up to`},
		{"target is a percentage", notificationOf(obs, `{"data":[{"metrics":[{"metric":"oServiceLevel","stats":{"numerator":1,"denominator":2,"target":80}}]}]}`, "c"),
			genesys.ErrMalformedEvent, "target: expected a fraction from 0 to 1"},
		{"metadata is text", `{"topicName":"` + obs + `","eventBody":{},"metadata":"x"}`, genesys.ErrNotNotification, "field metadata"},
		{"eventbridge without detail", `{"id":"x","detail-type":"v2.analytics.queues.{id}.activity"}`, genesys.ErrNotNotification, "missing field topicName"},
		{"eventbridge detail without topicName", `{"id":"x","detail-type":"v2.analytics.queues.{id}.activity","detail":{"eventBody":{}}}`,
			genesys.ErrNotNotification, "missing field topicName"},
		{"eventbridge detail is text", `{"id":"x","detail":"hello"}`, genesys.ErrNotNotification, "field detail: expected an object, got string"},
		{"eventbridge bad time", `{"id":"x","time":"noon","detail":{"topicName":"` + act + `"}}`, genesys.ErrNotNotification, `"noon" is not an RFC 3339 time`},
		{"eventbridge detail without eventBody", `{"id":"x","detail":{"topicName":"` + act + `"}}`, genesys.ErrMalformedEvent,
			"genesys: malformed activity event: missing field eventBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := genesys.ParseEvent([]byte(tt.body), clock)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

// TestParseEventTimes checks where the time of an event comes from: the
// notification's timestamp, else the EventBridge time, else the caller's
// clock; the longest wait is aged against it, so a replay gives the figure
// of the time the event was sent.
func TestParseEventTimes(t *testing.T) {
	since := clock.Add(-time.Hour)
	body := `{"results":[{"mediaType":"voice","data":[{"metric":"oWaiting","count":1},
		{"metric":"oLongestWaiting","count":1,"calculatedMetricValue":` + fmt.Sprint(since.UnixMilli()) + `}]}]}`
	own := clock.Add(-59 * time.Minute)
	bridge := clock.Add(-58 * time.Minute)
	raw := notificationOf(actTopic(queueB), body, "t")
	stamped := `{"topicName":"` + actTopic(queueB) + `","timestamp":"` + own.Format(time.RFC3339Nano) + `","eventBody":` + body + `}`
	tests := []struct {
		name, body string
		at         time.Time
	}{
		{"the caller's clock", raw, clock},
		{"the notification's timestamp", stamped, own},
		{"the EventBridge time", `{"id":"e","time":"` + bridge.Format(time.RFC3339) + `","detail":` + raw + `}`, bridge},
		{"the notification's timestamp inside EventBridge", `{"id":"e","time":"` + bridge.Format(time.RFC3339) + `","detail":` + stamped + `}`, own},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := genesys.ParseEvent([]byte(tt.body), clock)
			if err != nil {
				t.Fatal(err)
			}
			if tt.at != clock && !e.Time.Equal(tt.at) {
				t.Errorf("Time = %s, want %s", e.Time, tt.at)
			}
			if got, want := e.Stats.Media["voice"].LongestWait, tt.at.Sub(since); got != want {
				t.Errorf("longest wait %s, want %s", got, want)
			}
			samples, err := genesys.NewAccumulator(nil).Parse([]byte(tt.body), clock)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				if !s.At.Equal(tt.at) {
					t.Errorf("sample %s/%s at %s, want %s", s.MediaType, s.Metric, s.At, tt.at)
				}
			}
		})
	}
}

// TestAgentsOnQueue checks the agent rules: routing statuses other than
// OFF_QUEUE are on queue when there is no oOnQueueUsers row.
func TestAgentsOnQueue(t *testing.T) {
	row := func(m, q string, n int) string {
		return fmt.Sprintf(`{"metric":%q,"qualifier":%q,"stats":{"count":%d}}`, m, q, n)
	}
	tests := []struct {
		name               string
		rows               []string
		onQueue, available float64
		reported           bool
	}{
		{"only IDLE routing status", []string{row("oUserRoutingStatuses", "IDLE", 2)}, 2, 2, true},
		{"every routing status", []string{row("oUserRoutingStatuses", "IDLE", 1), row("oUserRoutingStatuses", "INTERACTING", 2),
			row("oUserRoutingStatuses", "COMMUNICATING", 3), row("oUserRoutingStatuses", "NOT_RESPONDING", 4),
			row("oUserRoutingStatuses", "OFF_QUEUE", 5)}, 10, 1, true},
		{"only OFF_QUEUE", []string{row("oUserRoutingStatuses", "OFF_QUEUE", 5)}, 0, 0, true},
		{"oOnQueueUsers wins", []string{row("oOnQueueUsers", "IDLE", 1), row("oOnQueueUsers", "INTERACTING", 1),
			row("oUserRoutingStatuses", "IDLE", 1), row("oUserRoutingStatuses", "INTERACTING", 5)}, 2, 1, true},
		{"members alone say nothing of agents on queue", []string{row("oMemberUsers", "", 7), row("oActiveUsers", "", 6)}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := notificationOf(obsTopic(queueA), `{"group":{"queueId":"`+queueA+`","mediaType":"voice"},
				"data":[{"metrics":[`+strings.Join(tt.rows, ",")+`]}]}`, "a")
			e, err := genesys.ParseEvent([]byte(body), clock)
			if err != nil {
				t.Fatal(err)
			}
			a := e.Stats.Agents
			if a.Reported != tt.reported || float64(a.OnQueue) != tt.onQueue || float64(a.Available) != tt.available {
				t.Errorf("agents %+v; want on queue %v, available %v, reported %v", a, tt.onQueue, tt.available, tt.reported)
			}
			samples, err := genesys.ParseNotificationAt([]byte(body), clock)
			if err != nil {
				t.Fatal(err)
			}
			got := samplesByKey(samples)
			if v, ok := got[key(queueA, "", metric.OnQueueAgents)]; ok != tt.reported || v != tt.onQueue {
				t.Errorf("on_queue_agents = %v (reported %v)", v, ok)
			}
		})
	}
}

// TestLongestWaitWhenNobodyWaits checks that a media type with nobody
// waiting reports a longest wait of zero, so that an alert on it resolves.
func TestLongestWaitWhenNobodyWaits(t *testing.T) {
	acc := genesys.NewAccumulator(nil)
	obs := func(waiting int, extra string) []byte {
		return []byte(notificationOf(obsTopic(queueA), fmt.Sprintf(`{"group":{"queueId":%q,"mediaType":"voice"},
			"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":%d}}%s]}]}`, queueA, waiting, extra), "w"))
	}
	samples, err := acc.Parse(obs(2, `,{"metric":"oLongestWaiting","stats":{"count":2,"calculatedMetricValue":90000}}`), clock)
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(samples)
	if got[key(queueA, "voice", metric.LongestWait)] != 90 || got[key(queueA, "", metric.LongestWait)] != 90 {
		t.Fatalf("while waiting: %v", got)
	}
	samples, err = acc.Parse(obs(0, ""), clock)
	if err != nil {
		t.Fatal(err)
	}
	got = samplesByKey(samples)
	for _, k := range []string{key(queueA, "voice", metric.LongestWait), key(queueA, "", metric.LongestWait)} {
		if v, ok := got[k]; !ok || v != 0 {
			t.Errorf("once nobody waits: %s = %v (reported %v), want 0", k, v, ok)
		}
	}
	// An oLongestWaiting row with a count of 0 is no wait either.
	samples, err = genesys.ParseNotificationAt([]byte(notificationOf(actTopic(queueA), `{"results":[{"mediaType":"chat",
		"data":[{"metric":"oLongestWaiting","count":0,"calculatedMetricValue":1778764212345}]}]}`, "z")), clock)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := samplesByKey(samples)[key(queueA, "chat", metric.LongestWait)]; !ok || v != 0 {
		t.Errorf("count 0: longest wait %v (reported %v), want 0", v, ok)
	}
}

// TestObservationsLatestInterval checks that an event listing several
// intervals takes each metric from the latest interval reporting it, in
// the order of the intervals rather than of the list.
func TestObservationsLatestInterval(t *testing.T) {
	body := notificationOf(obsTopic(queueA), `{"group":{"queueId":"`+queueA+`","mediaType":"voice"},"data":[
		{"interval":"2026-05-14T13:00:00.000Z/2026-05-14T13:30:00.000Z","metrics":[
			{"metric":"oWaiting","stats":{"count":4}},{"metric":"nOffered","stats":{"count":2}}]},
		{"interval":"2026-05-14T12:30:00.000Z/2026-05-14T13:00:00.000Z","metrics":[
			{"metric":"oWaiting","stats":{"count":9}},{"metric":"nOffered","stats":{"count":40}},
			{"metric":"tAbandon","stats":{"count":1}}]}]}`, "i")
	samples, err := genesys.ParseNotificationAt([]byte(body), clock)
	if err != nil {
		t.Fatal(err)
	}
	got := samplesByKey(samples)
	if got[key(queueA, "voice", metric.Waiting)] != 4 || got[key(queueA, "voice", metric.Offered)] != 2 ||
		got[key(queueA, "voice", metric.AbandonRate)] != 50 {
		t.Errorf("samples %v; want waiting 4, offered 2, abandon rate 50 (1 of 2)", got)
	}
}

// TestAccumulatorIntervals checks that a queue total never mixes the
// interval figures of two intervals.
func TestAccumulatorIntervals(t *testing.T) {
	acc := genesys.NewAccumulator(nil)
	event := func(media, start string, offered, num, den int) []byte {
		end := "2026-05-14T" + map[string]string{"13:00": "13:30", "13:30": "14:00"}[start] + ":00.000Z"
		return []byte(notificationOf(obsTopic(queueA), fmt.Sprintf(`{"group":{"queueId":%q,"mediaType":%q},"data":[
			{"interval":"2026-05-14T%s:00.000Z/%s","metrics":[{"metric":"oWaiting","stats":{"count":1}},
			{"metric":"nOffered","stats":{"count":%d}},
			{"metric":"oServiceLevel","stats":{"numerator":%d,"denominator":%d,"target":0.8}}]}]}`,
			queueA, media, start, end, offered, num, den), "i"))
	}
	steps := []struct {
		name string
		body []byte
		want map[string]float64
	}{
		{"voice at 13:00", event("voice", "13:00", 10, 8, 10), map[string]float64{
			key(queueA, "", metric.Offered): 10, key(queueA, "", metric.ServiceLevel): 80}},
		{"chat at 13:00 adds up", event("chat", "13:00", 10, 2, 10), map[string]float64{
			key(queueA, "", metric.Offered): 20, key(queueA, "", metric.ServiceLevel): 50, key(queueA, "", metric.Waiting): 2}},
		{"voice at 13:30: chat's 13:00 figures no longer count", event("voice", "13:30", 1, 1, 1), map[string]float64{
			key(queueA, "", metric.Offered): 1, key(queueA, "", metric.ServiceLevel): 100, key(queueA, "", metric.Waiting): 2,
			key(queueA, "", metric.ServiceLevelTarget): 80}},
		{"a late chat event of 13:00 gives no interval figures", event("chat", "13:00", 30, 0, 30), map[string]float64{
			key(queueA, "", metric.Offered): 1, key(queueA, "", metric.ServiceLevel): 100, key(queueA, "", metric.Waiting): 2}},
		{"chat at 13:30 adds up again", event("chat", "13:30", 3, 1, 3), map[string]float64{
			key(queueA, "", metric.Offered): 4, key(queueA, "", metric.ServiceLevel): 50}},
	}
	for _, s := range steps {
		samples, err := acc.Parse(s.body, clock)
		if err != nil {
			t.Fatal(err)
		}
		got := samplesByKey(samples)
		for k, w := range s.want {
			if v, ok := got[k]; !ok || math.Abs(v-w) > 1e-9 {
				t.Errorf("%s: %s = %v (reported %v), want %v", s.name, k, v, ok, w)
			}
		}
		if s.name == "a late chat event of 13:00 gives no interval figures" {
			// Chat's figures are those of 13:30, none so far.
			if v := got[key(queueA, "chat", metric.Offered)]; v != 0 {
				t.Errorf("%s: chat offered %v, want 0", s.name, v)
			}
		}
	}
}

// TestAccumulatorBounds checks the limits of a bounded accumulator.
func TestAccumulatorBounds(t *testing.T) {
	acc := genesys.NewBoundedAccumulator(nil, 2)
	for _, q := range []string{"q1", "q2", "q1"} {
		if !acc.Admit(q) {
			t.Fatalf("%s refused", q)
		}
	}
	if acc.Admit("q3") || acc.Len() != 2 {
		t.Fatalf("q3 admitted beyond the limit, or Len %d", acc.Len())
	}
	waiting := func(q, media string, n float64) genesys.QueueStats {
		s, ok := genesys.SampleStats(metric.Sample{QueueID: q, MediaType: media, Metric: metric.Waiting, Value: n})
		if !ok {
			t.Fatal("SampleStats refused a waiting sample")
		}
		return s
	}
	// A queue beyond the limit is passed through, not remembered.
	acc.Apply(waiting("q3", "voice", 4), false)
	if s := acc.Apply(waiting("q3", "chat", 1), false); s.Total.Waiting != 1 || acc.Len() != 2 {
		t.Fatalf("q3 total %d, Len %d; want 1 and 2", s.Total.Waiting, acc.Len())
	}
	acc.Forget("q2")
	if !acc.Admit("q3") {
		t.Fatal("q3 refused after Forget")
	}
	// At most MaxMediaPerQueue media types are remembered per queue.
	var s genesys.QueueStats
	for i := range genesys.MaxMediaPerQueue + 3 {
		s = acc.Apply(waiting("q1", fmt.Sprintf("m%02d", i), 1), false)
	}
	if s.Total.Waiting != genesys.MaxMediaPerQueue || s.Media[fmt.Sprintf("m%02d", genesys.MaxMediaPerQueue+2)].Waiting != 1 {
		t.Fatalf("total %d, media %v; want %d and the last media type's own figure", s.Total.Waiting, s.Media, genesys.MaxMediaPerQueue)
	}
}

func TestSampleStats(t *testing.T) {
	tests := []struct {
		s    metric.Sample
		ok   bool
		want genesys.Figures
	}{
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.Waiting, Value: 3}, true, genesys.Figures{Waiting: 3}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.Interacting, Value: 2}, true, genesys.Figures{Interacting: 2}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.Alerting, Value: 1}, true, genesys.Figures{Alerting: 1}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.LongestWait, Value: 1.5}, true, genesys.Figures{LongestWait: 1500 * time.Millisecond}},
		{metric.Sample{QueueID: "q", Metric: metric.Waiting, Value: 3}, false, genesys.Figures{}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.ServiceLevel, Value: 80}, false, genesys.Figures{}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.Waiting, Value: -1}, false, genesys.Figures{}},
		{metric.Sample{QueueID: "q", MediaType: "voice", Metric: metric.LongestWait, Value: 1e12}, false, genesys.Figures{}},
	}
	for _, tt := range tests {
		s, ok := genesys.SampleStats(tt.s)
		if ok != tt.ok {
			t.Errorf("SampleStats(%+v) ok = %v", tt.s, ok)
			continue
		}
		if !ok {
			continue
		}
		f := s.Media[tt.s.MediaType]
		if s.QueueID != "q" || f.Waiting != tt.want.Waiting || f.Interacting != tt.want.Interacting ||
			f.Alerting != tt.want.Alerting || f.LongestWait != tt.want.LongestWait || !f.Has(tt.s.Metric) {
			t.Errorf("SampleStats(%+v) = %+v", tt.s, s)
		}
	}
}
