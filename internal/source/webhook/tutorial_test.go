package webhook

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

func TestTutorialEnvelope(t *testing.T) {
	at := t0.Add(-10 * time.Second)
	const name = "Support - Voice"
	tests := []struct {
		name  string
		body  string
		want  []metric.Sample
		wantN int
	}{
		{"the seed's longest_wait in seconds", tutorialEvent("e1", "longest_wait", 301.5, "seconds"),
			[]metric.Sample{smp(queueA, name, "", metric.LongestWait, 301.5, at)}, 1},
		{"longest wait in milliseconds", tutorialEvent("e2", "longest_wait", 301500, "ms"),
			[]metric.Sample{smp(queueA, name, "", metric.LongestWait, 301.5, at)}, 1},
		{"wait time in minutes", tutorialEvent("e3", "wait_time", 5, "min"),
			[]metric.Sample{smp(queueA, name, "", metric.LongestWait, 300, at)}, 1},
		{"longest wait without unit", tutorialEvent("e4", "longest_wait", 12, ""),
			[]metric.Sample{smp(queueA, name, "", metric.LongestWait, 12, at)}, 1},
		{"service level as a ratio", tutorialEvent("e5", "service_level", 0.763, "ratio"),
			[]metric.Sample{smp(queueA, name, "", metric.ServiceLevel, 76.3, at)}, 1},
		{"current_sla in percent", tutorialEvent("e6", "current_sla", 76.3, "%"),
			[]metric.Sample{smp(queueA, name, "", metric.ServiceLevel, 76.3, at)}, 1},
		{"sla target", tutorialEvent("e7", "slaTarget", 80, "percent"),
			[]metric.Sample{smp(queueA, name, "", metric.ServiceLevelTarget, 80, at)}, 1},
		{"calls in queue as a string", tutorialEvent("e8", "calls_in_queue", "7", "calls"),
			[]metric.Sample{smp(queueA, name, "", metric.Waiting, 7, at)}, 1},
		{"agents available", tutorialEvent("e9", "Agents-Available", 3, "agents"),
			[]metric.Sample{smp(queueA, name, "", metric.AvailableAgents, 3, at)}, 1},
		{"Genesys metric name", tutorialEvent("e10", "oWaiting", 2, "count"),
			[]metric.Sample{smp(queueA, name, "", metric.Waiting, 2, at)}, 1},
		{"asa in ms", tutorialEvent("e11", "asa", 17486, "milliseconds"),
			[]metric.Sample{smp(queueA, name, "", metric.ASA, 17.486, at)}, 1},
		{"event_id wins, time field, media type call is voice, queue total added",
			`{"event_id":"x1","id":"y1","time":"2026-05-14T13:09:00Z","event_type":"com.genesiscloud.queue.metric",
			 "data":{"queue_id":"` + queueB + `","media_type":"Call","metric":"waiting","value":4}}`,
			[]metric.Sample{
				smp(queueB, "", "voice", metric.Waiting, 4, t0.Add(-time.Minute)),
				smp(queueB, "", "", metric.Waiting, 4, t0.Add(-time.Minute)),
			}, 2},
		{"no timestamp: time of receipt",
			`{"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"offered","value":9}}`,
			[]metric.Sample{smp("q1", "", "", metric.Offered, 9, t0)}, 1},
		{"future timestamp is capped at the time of receipt",
			`{"timestamp":"2026-05-14T14:00:00Z","event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"abandon_rate","value":2.5}}`,
			[]metric.Sample{smp("q1", "", "", metric.AbandonRate, 2.5, t0)}, 1},
		{"Unix milliseconds timestamp",
			fmt.Sprintf(`{"timestamp":%d,"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"interacting","value":1}}`,
				t0.Add(-2*time.Second).UnixMilli()),
			[]metric.Sample{smp("q1", "", "", metric.Interacting, 1, t0.Add(-2*time.Second))}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 202 || r.str("status") != "accepted" || int(r.num("samples")) != tt.wantN {
				t.Fatalf("answer %d %s", r.code, r.raw)
			}
			sameSamples(t, f.obs.all(), tt.want)
		})
	}
}

func TestTutorialShapeErrors(t *testing.T) {
	ev := func(data string) string {
		return `{"id":"e","event_type":"com.genesiscloud.queue.metric","data":` + data + `}`
	}
	tests := []struct {
		name, body, wantErr string
	}{
		{"missing data", `{"id":"e","event_type":"com.genesiscloud.queue.metric"}`, "missing field data"},
		{"data is a string", ev(`"x"`), "field data: expected an object, got string"},
		{"missing queue_id", ev(`{"metric":"waiting","value":1}`), "missing field data.queue_id"},
		{"queue_id with spaces", ev(`{"queue_id":"a b","metric":"waiting","value":1}`), "contains spaces"},
		{"overlong queue_id", ev(`{"queue_id":"` + strings.Repeat("q", 200) + `","metric":"waiting","value":1}`), "at most 128 bytes"},
		{"missing metric", ev(`{"queue_id":"q","value":1}`), "missing field data.metric"},
		{"unknown metric", ev(`{"queue_id":"q","metric":"happiness","value":1}`), `"happiness" is not a known metric`},
		{"missing value", ev(`{"queue_id":"q","metric":"waiting"}`), "missing field data.value"},
		{"null value", ev(`{"queue_id":"q","metric":"waiting","value":null}`), "missing field data.value"},
		{"boolean value", ev(`{"queue_id":"q","metric":"waiting","value":true}`), "field data.value: expected a number, got boolean"},
		{"text value", ev(`{"queue_id":"q","metric":"waiting","value":"lots"}`), `field data.value: "lots" is not a number`},
		{"negative value", ev(`{"queue_id":"q","metric":"waiting","value":-1}`), "cannot be negative"},
		{"percent over 100", ev(`{"queue_id":"q","metric":"service_level","value":120}`), "over 100"},
		{"ratio over 1", ev(`{"queue_id":"q","metric":"service_level","value":2,"unit":"ratio"}`), "over 100"},
		{"bad unit", ev(`{"queue_id":"q","metric":"longest_wait","value":1,"unit":"furlongs"}`), `"furlongs" is not a unit of longest_wait`},
		{"percent unit on a wait", ev(`{"queue_id":"q","metric":"longest_wait","value":1,"unit":"%"}`), "is not a unit of longest_wait"},
		{"queue_id is an object", ev(`{"queue_id":{},"metric":"waiting","value":1}`), "field data.queue_id: expected a string, got object"},
		{"bad timestamp", `{"timestamp":"yesterday","event_type":"com.genesiscloud.queue.metric","data":{}}`, `field timestamp: "yesterday" is not an RFC 3339 time`},
		{"event_type missing", `{"data":{"queue_id":"q","metric":"waiting","value":1}}`, "missing field event_type"},
		{"event_type is a number", `{"event_type":[1],"data":{}}`, "field event_type: expected a string, got array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 400 {
				t.Fatalf("status %d, want 400: %s", r.code, r.raw)
			}
			if !strings.Contains(r.str("error"), tt.wantErr) {
				t.Fatalf("error %q, want it to contain %q", r.str("error"), tt.wantErr)
			}
			if f.obs.ncalls() != 0 {
				t.Fatal("a malformed event was evaluated")
			}
		})
	}
}

func TestTutorialIgnoredEventTypes(t *testing.T) {
	for _, typ := range []string{"com.genesiscloud.queue.created", "", "COM.GENESISCLOUD.QUEUE.METRIC"} {
		t.Run(typ, func(t *testing.T) {
			f := newFixture(t, nil)
			// The data is not even looked at for another event type.
			r := f.post(`{"id":"i1","event_type":"` + typ + `","data":"whatever"}`)
			if r.code != 200 || r.str("status") != "ignored" || !strings.Contains(r.str("reason"), TutorialEventType) {
				t.Fatalf("answer %d %s", r.code, r.raw)
			}
			if f.obs.ncalls() != 0 || f.h.Stats().Ignored != 1 {
				t.Fatalf("calls %d, stats %+v", f.obs.ncalls(), f.h.Stats())
			}
		})
	}
}
