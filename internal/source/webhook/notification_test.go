package webhook

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// observations is the reference's .observations example for queueA/voice,
// with an abandon count added.
const observations = `{
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

// activity builds an .activity body for queue q whose oldest waiting voice
// and chat interactions entered at the given times.
func activity(q string, voiceSince, chatSince time.Time) string {
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

func notificationOf(topic, body, correlation string) string {
	return `{"topicName":"` + topic + `","version":"2","eventBody":` + body +
		`,"metadata":{"CorrelationId":"` + correlation + `"}}`
}

func TestNotificationEnvelopes(t *testing.T) {
	at := t0.Add(-30 * time.Second)
	activityTopic := "v2.analytics.queues." + queueB + ".activity"
	wantActivity := func(at time.Time, voice, chat float64) []metric.Sample {
		return []metric.Sample{
			smp(queueB, "", "voice", metric.Waiting, 3, at),
			smp(queueB, "", "voice", metric.Interacting, 7, at),
			smp(queueB, "", "voice", metric.LongestWait, voice, at),
			smp(queueB, "", "chat", metric.Waiting, 2, at),
			smp(queueB, "", "chat", metric.Alerting, 1, at),
			smp(queueB, "", "chat", metric.LongestWait, chat, at),
			smp(queueB, "", "email", metric.Waiting, 0, at),
			smp(queueB, "", "email", metric.LongestWait, 0, at),
			smp(queueB, "", "", metric.Waiting, 5, at),
			smp(queueB, "", "", metric.Interacting, 7, at),
			smp(queueB, "", "", metric.Alerting, 1, at),
			smp(queueB, "", "", metric.LongestWait, voice, at),
		}
	}
	tests := []struct {
		name string
		body string
		want []metric.Sample
	}{
		// The queue totals are over every media type the handler
		// remembers, here voice alone; the waiting voice interactions have
		// no known age, so there is no longest wait.
		{"observations: per media, agents per queue, derived totals", observations, []metric.Sample{
			smp(queueA, "", "voice", metric.Waiting, 3, t0),
			smp(queueA, "", "voice", metric.Offered, 41, t0),
			smp(queueA, "", "voice", metric.ServiceLevel, 100*29.0/38, t0),
			smp(queueA, "", "voice", metric.ServiceLevelTarget, 80, t0),
			smp(queueA, "", "voice", metric.AbandonRate, 100*4.0/41, t0),
			smp(queueA, "", "voice", metric.ASA, 612.0/35, t0),
			smp(queueA, "", "", metric.OnQueueAgents, 2, t0),
			smp(queueA, "", "", metric.AvailableAgents, 2, t0),
			smp(queueA, "", "", metric.Waiting, 3, t0),
			smp(queueA, "", "", metric.Offered, 41, t0),
			smp(queueA, "", "", metric.ServiceLevel, 100*29.0/38, t0),
			smp(queueA, "", "", metric.ServiceLevelTarget, 80, t0),
			smp(queueA, "", "", metric.AbandonRate, 100*4.0/41, t0),
			smp(queueA, "", "", metric.ASA, 612.0/35, t0),
		}},
		{"observations: queue group sums qualifiers, latest interval wins", notificationOf("v2.analytics.queues."+queueA+".observations", `{
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
			// Nothing answered or abandoned: nothing missed the target.
			[]metric.Sample{
				smp(queueA, "", "", metric.Waiting, 6, t0),
				smp(queueA, "", "", metric.LongestWait, 2.5, t0),
				smp(queueA, "", "", metric.ServiceLevel, 100, t0),
				smp(queueA, "", "", metric.ServiceLevelTarget, 90, t0),
				smp(queueA, "", "", metric.OnQueueAgents, 5, t0),
				smp(queueA, "", "", metric.AvailableAgents, 2, t0),
			}},
		{"observations: routing statuses without IDLE row", notificationOf("v2.analytics.queues."+queueA+".observations", `{
			"group": {"queueId": "`+queueA+`"},
			"data": [{"metrics": [
				{"metric": "oUserRoutingStatuses", "qualifier": "INTERACTING", "stats": {"count": 3}},
				{"metric": "oUserRoutingStatuses", "qualifier": "NOT_RESPONDING", "stats": {"count": 1}},
				{"metric": "oUserRoutingStatuses", "qualifier": "OFF_QUEUE", "stats": {"count": 4}}]}]}`, "c3"),
			[]metric.Sample{
				smp(queueA, "", "", metric.OnQueueAgents, 4, t0),
				smp(queueA, "", "", metric.AvailableAgents, 0, t0),
			}},
		{"activity: epoch oLongestWaiting, sums across media", notificationOf(activityTopic,
			activity(queueB, t0.Add(-95*time.Second), t0.Add(-40*time.Second)), "c4"),
			wantActivity(t0, 95, 40)},
		{"activity: duration oLongestWaiting", notificationOf(activityTopic, `{"results":[
			{"mediaType":"voice","data":[{"metric":"oWaiting","count":1},{"metric":"oLongestWaiting","count":1,"calculatedMetricValue":5000}]}]}`, "c5"),
			[]metric.Sample{
				smp(queueB, "", "voice", metric.Waiting, 1, t0),
				smp(queueB, "", "voice", metric.LongestWait, 5, t0),
				smp(queueB, "", "", metric.Waiting, 1, t0),
				smp(queueB, "", "", metric.LongestWait, 5, t0),
			}},
		{"activity: someone waits for an unknown time, no total wait", notificationOf(activityTopic, `{"results":[
			{"mediaType":"voice","data":[{"metric":"oWaiting","count":1}]},
			{"mediaType":"chat","data":[{"metric":"oWaiting","count":0}]}]}`, "c6"),
			[]metric.Sample{
				smp(queueB, "", "voice", metric.Waiting, 1, t0),
				smp(queueB, "", "chat", metric.Waiting, 0, t0),
				smp(queueB, "", "chat", metric.LongestWait, 0, t0),
				smp(queueB, "", "", metric.Waiting, 1, t0),
			}},
		{"eventbridge: detail is read at the envelope's time", `{
			"version": "0", "id": "4cbedb0f-4dfd-4c8e-9e57-0acded092527",
			"detail-type": "v2.analytics.queues.{id}.activity",
			"source": "aws.partner/genesys.com/cloud/bb14bed0/queuewatch",
			"account": "123456789", "time": "` + at.Format(time.RFC3339) + `", "region": "us-east-1", "resources": [],
			"detail": ` + notificationOf(activityTopic, activity(queueB, at.Add(-60*time.Second), at.Add(-1*time.Second)), "c7-archival") + `}`,
			wantActivity(at, 60, 1)},
		{"eventbridge: detail.timestamp wins over time", `{"id":"eb3","time":"` + at.Add(-time.Minute).Format(time.RFC3339) + `",
			"detail":{"topicName":"` + activityTopic + `","timestamp":"` + at.Format(time.RFC3339Nano) + `",
			"eventBody":{"results":[{"mediaType":"voice","data":[{"metric":"oInteracting","count":2}]}]}}}`,
			[]metric.Sample{smp(queueB, "", "voice", metric.Interacting, 2, at), smp(queueB, "", "", metric.Interacting, 2, at)}},
		{"eventbridge: detail.timestamp when time is absent", `{"id":"eb2","detail-type":"v2.analytics.queues.{id}.activity",
			"detail":{"topicName":"` + activityTopic + `","timestamp":"` + at.Format(time.RFC3339Nano) + `",
			"eventBody":{"results":[{"mediaType":"voice","data":[{"metric":"oInteracting","count":2}]}]}}}`,
			[]metric.Sample{smp(queueB, "", "voice", metric.Interacting, 2, at), smp(queueB, "", "", metric.Interacting, 2, at)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 202 || int(r.num("samples")) != len(tt.want) {
				t.Fatalf("answer %d %s, want 202 with %d samples", r.code, r.raw, len(tt.want))
			}
			sameSamples(t, f.obs.all(), tt.want)
		})
	}
}

func TestMediaTotalsAcrossEvents(t *testing.T) {
	f := newFixture(t, nil)
	obs := func(media string, waiting int, id string) string {
		return notificationOf("v2.analytics.queues."+queueA+".observations", fmt.Sprintf(
			`{"group":{"queueId":%q,"mediaType":%q},"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":%d}}]}]}`,
			queueA, media, waiting), id)
	}
	steps := []struct {
		body  string
		total float64
	}{{obs("voice", 3, "m1"), 3}, {obs("chat", 2, "m2"), 5}, {obs("voice", 0, "m3"), 2}}
	for i, s := range steps {
		if r := f.post(s.body); r.code != 202 {
			t.Fatalf("step %d: %d %s", i, r.code, r.raw)
		}
		f.obs.mu.Lock()
		call := f.obs.calls[len(f.obs.calls)-1]
		f.obs.mu.Unlock()
		var totals []float64
		for _, smp := range call {
			if smp.MediaType == "" && smp.Metric == metric.Waiting {
				totals = append(totals, smp.Value)
			}
		}
		if len(totals) != 1 || totals[0] != s.total {
			t.Fatalf("step %d: queue totals %v, want one of %v", i, totals, s.total)
		}
	}
}

// TestBatchTotalsOnce sends the media types of a queue in one batch: the
// queue total is given once, as it stands after the batch, and an explicit
// queue total of a tutorial event wins over the derived one.
func TestBatchTotalsOnce(t *testing.T) {
	obs := func(media string, waiting int) string {
		return notificationOf("v2.analytics.queues."+queueA+".observations", fmt.Sprintf(
			`{"group":{"queueId":%q,"mediaType":%q},"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":%d}}]}]}`,
			queueA, media, waiting), media)
	}
	tut := func(id, media string, v int) string {
		return fmt.Sprintf(`{"id":%q,"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":%q,"media_type":%q,"metric":"interacting","value":%d}}`,
			id, queueB, media, v)
	}
	f := newFixture(t, nil)
	r := f.post("[" + strings.Join([]string{obs("voice", 3), obs("chat", 0), obs("email", 2),
		tut("t1", "voice", 1), tut("t2", "chat", 2), tut("t3", "", 9)}, ",") + "]")
	if r.code != 202 {
		t.Fatalf("answer %d %s", r.code, r.raw)
	}
	sameSamples(t, f.obs.all(), []metric.Sample{
		smp(queueA, "", "voice", metric.Waiting, 3, t0),
		smp(queueA, "", "chat", metric.Waiting, 0, t0),
		smp(queueA, "", "chat", metric.LongestWait, 0, t0),
		smp(queueA, "", "email", metric.Waiting, 2, t0),
		smp(queueA, "", "", metric.Waiting, 5, t0),
		smp(queueB, "", "voice", metric.Interacting, 1, t0),
		smp(queueB, "", "chat", metric.Interacting, 2, t0),
		smp(queueB, "", "", metric.Interacting, 9, t0),
	})
}

// TestMediaMemoryBounded checks that the figures remembered for queue
// totals stay within MaxQueues × genesys.MaxMediaPerQueue.
func TestMediaMemoryBounded(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxQueues = 1 })
	var items []string
	for i := range genesys.MaxMediaPerQueue + 2 {
		items = append(items, notificationOf("v2.analytics.queues."+queueA+".observations", fmt.Sprintf(
			`{"group":{"queueId":%q,"mediaType":"m%02d"},"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":1}}]}]}`,
			queueA, i), fmt.Sprint("c", i)))
	}
	if r := f.post("[" + strings.Join(items, ",") + "]"); r.code != 202 {
		t.Fatalf("answer %d %s", r.code, r.raw)
	}
	var total float64
	media := map[string]bool{}
	for _, s := range f.obs.all() {
		if s.MediaType == "" && s.Metric == metric.Waiting {
			total = s.Value
		} else if s.Metric == metric.Waiting {
			media[s.MediaType] = true
		}
	}
	// Every media type's own figure is evaluated, but only the first 16
	// are remembered and counted in the total.
	if len(media) != genesys.MaxMediaPerQueue+2 || total != genesys.MaxMediaPerQueue {
		t.Fatalf("%d media types, total %v; want %d and %d", len(media), total, genesys.MaxMediaPerQueue+2, genesys.MaxMediaPerQueue)
	}
	r := f.post(notificationOf("v2.analytics.queues."+queueB+".activity", `{"results":[{"mediaType":"voice","data":[{"metric":"oWaiting","count":1}]}]}`, "other"))
	if r.code != 200 || !strings.Contains(r.str("reason"), "queue limit") {
		t.Fatalf("second queue: %d %s", r.code, r.raw)
	}
	if st := f.h.Stats(); st.Queues != 1 || st.DroppedSamples != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNotificationIgnored(t *testing.T) {
	tests := []struct{ name, body, reason string }{
		{"heartbeat", `{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`, `topic "channel.metadata"`},
		{"user presence", notificationOf("v2.users.u1.presence", `{}`, "c"), "not a queue metric topic"},
		{"routing queue topic", notificationOf("v2.routing.queues."+queueA+".observations", `{}`, "c"), "not a queue metric topic"},
		{"no supported metric", notificationOf("v2.analytics.queues."+queueA+".observations",
			`{"group":{"queueId":"`+queueA+`"},"data":[{"metrics":[{"metric":"oMemberUsers","stats":{"count":3}}]}]}`, "c"),
			"no supported metric"},
		{"eventbridge from another source", `{"id":"x","detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`,
			`detail-type "EC2 Instance`},
		{"eventbridge audit topic", `{"id":"x","detail-type":"v2.audits.entitytype.{id}.entityid.{id}",
			"detail":{"topicName":"v2.audits.entitytype.UserPresence.entityid.1","eventBody":{}}}`, "v2.audits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 200 || r.str("status") != "ignored" || !strings.Contains(r.str("reason"), tt.reason) {
				t.Fatalf("answer %d %s, want ignored with %q", r.code, r.raw, tt.reason)
			}
			if f.obs.ncalls() != 0 {
				t.Fatal("an ignored event was evaluated")
			}
		})
	}
}

func TestNotificationShapeErrors(t *testing.T) {
	obsTopic := "v2.analytics.queues." + queueA + ".observations"
	actTopic := "v2.analytics.queues." + queueA + ".activity"
	tests := []struct{ name, body, wantErr string }{
		{"empty topicName", `{"topicName":"","eventBody":{}}`, "missing field topicName"},
		{"topicName is a number", `{"topicName":{},"eventBody":{}}`, "field topicName: expected a string"},
		{"missing eventBody", `{"topicName":"` + obsTopic + `"}`, "missing field eventBody"},
		{"eventBody is an array", `{"topicName":"` + obsTopic + `","eventBody":[]}`, "field eventBody: expected an object, got array"},
		{"activity without results", notificationOf(actTopic, `{"data":[]}`, "c"), "missing field eventBody.results"},
		{"stats value is text", notificationOf(obsTopic, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":"3"}}]}]}`, "c"),
			"field eventBody.data.metrics.stats"},
		{"group of another queue", notificationOf(obsTopic, `{"group":{"queueId":"other"},"data":[]}`, "c"),
			`field eventBody.group.queueId: "other" is not the topic's queue`},
		{"negative count", notificationOf(obsTopic, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":-3}}]}]}`, "c"),
			"expected a number from 0"},
		{"metadata is text", `{"topicName":"` + obsTopic + `","eventBody":{},"metadata":"x"}`, "field metadata"},
		{"eventbridge without detail", `{"id":"x","detail-type":"v2.analytics.queues.{id}.activity"}`, "missing field detail"},
		{"eventbridge detail without topicName", `{"id":"x","detail-type":"v2.analytics.queues.{id}.activity","detail":{"eventBody":{}}}`,
			"missing field detail.topicName"},
		{"eventbridge detail is text", `{"id":"x","detail":"hello"}`, "field detail: expected an object, got string"},
		{"eventbridge bad time", `{"id":"x","time":"noon","detail":{"topicName":"` + actTopic + `"}}`, `field time: "noon"`},
		{"eventbridge detail error is prefixed", `{"id":"x","detail":{"topicName":"` + actTopic + `"}}`, "detail: genesys: malformed activity event: missing field eventBody"},
		{"target is a percentage", notificationOf(obsTopic, `{"data":[{"metrics":[{"metric":"oServiceLevel","stats":{"numerator":1,"denominator":2,"target":80}}]}]}`, "c"),
			"expected a fraction from 0 to 1"},
		{"counts summed past the limit", notificationOf(obsTopic, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":1e13}},{"metric":"oWaiting","stats":{"count":1e13}}]}]}`, "c"),
			"expected a number from 0 to 1e+12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 400 || !strings.Contains(r.str("error"), tt.wantErr) {
				t.Fatalf("answer %d %s, want 400 containing %q", r.code, r.raw, tt.wantErr)
			}
		})
	}
}
