package webhook

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// TestFastTutorialTakesPlainEvents checks which bodies the fast path
// takes, and that what it takes decodes as the general decoder does.
func TestFastTutorialTakesPlainEvents(t *testing.T) {
	plain := `{"event_id":"e1","event_type":"com.genesiscloud.queue.metric","source":"relay",` +
		`"timestamp":"2026-05-14T10:29:50Z","data":{"queue_id":"q1","queue_name":"Support – Voice",` +
		`"media_type":"call","metric":"longest_wait","value":301.5,"unit":"s","interval":"PT1M"}}`
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"plain", plain, true},
		{"white space", " \n" + strings.ReplaceAll(plain, ",", " ,\t") + "\r\n", true},
		{"number id and unix time", `{"id":17,"time":1778754590,"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"waiting","value":"4"}}`, true},
		{"other event type", `{"event_type":"other","data":{"queue_id":"q1"}}`, true},
		{"escaped string", strings.Replace(plain, `"q1"`, `"q\u0031"`, 1), false},
		{"repeated field", strings.Replace(plain, `"unit":"s"`, `"unit":"s","unit":"ms"`, 1), false},
		{"field in other case", strings.Replace(plain, `"unit":"s"`, `"UNIT":"s"`, 1), false},
		{"nested value", strings.Replace(plain, `"source":"relay"`, `"source":{"name":"relay"}`, 1), false},
		{"trailing garbage", plain + "x", false},
		{"bad number", strings.Replace(plain, `301.5`, `301.`, 1), false},
		{"leading zero", strings.Replace(plain, `301.5`, `0301.5`, 1), false},
		{"invalid UTF-8", strings.Replace(plain, "–", "\xff", 1), false},
		{"refused: bad metric", strings.Replace(plain, "longest_wait", "nonsense", 1), false},
		{"notification", observations, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decoder{now: t0}
			ev, ok := d.fastTutorial([]byte(tt.body))
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			want, err := d.oneGeneral([]byte(tt.body))
			if err != nil {
				t.Fatalf("the general decoder refuses what the fast path took: %v", err)
			}
			if !reflect.DeepEqual(ev, want) {
				t.Fatalf("fast path %+v\ngeneral   %+v", ev, want)
			}
		})
	}
}

// FuzzFastTutorial checks that whatever the fast path accepts, the general
// decoder decodes to the same event.
func FuzzFastTutorial(f *testing.F) {
	f.Add([]byte(tutorialEvent("fz", "longest_wait", 301500, "ms")))
	f.Add([]byte(tutorialEvent("fz", "service_level", "82.5", "percent")))
	f.Add([]byte(`{"id":17,"time":1778754590,"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"waiting","value":4e0,"Interval":null}}`))
	f.Add([]byte(`{"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q1","metric":"sla","value":-0.0,"unit":"ratio"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d := decoder{now: t0, fallback: t0.Add(-time.Minute)}
		ev, ok := d.fastTutorial(body)
		if !ok {
			return
		}
		want, err := d.oneGeneral(body)
		if err != nil {
			t.Fatalf("fast path took a body the general decoder refuses (%v): %q", err, body)
		}
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("fast path %+v\ngeneral   %+v\nbody %q", ev, want, body)
		}
	})
}

// TestAppendAnswerMatchesMarshal checks the hand-written answers against
// encoding/json.
func TestAppendAnswerMatchesMarshal(t *testing.T) {
	one, zero := 1, 0
	for _, a := range []answer{
		{Status: "accepted", Samples: &one},
		{Status: "accepted", Samples: &zero, Events: 3, Ignored: 1, Duplicates: 2},
		{Status: "duplicate", ID: "e1"},
		{Status: "duplicate", Duplicates: 2},
		{Status: "ignored", Reason: "event_type \"x\" is not <that>"},
		{Error: "bad JSON & worse"},
		{Status: "odd \"status\""},
		{},
	} {
		m, _ := json.Marshal(a)
		if got, want := string(appendAnswer(nil, a)), string(m)+"\n"; got != want {
			t.Errorf("appendAnswer(%+v) = %q, want %q", a, got, want)
		}
	}
}

// TestTotalSetKeepsOrderAndLatest checks the totals of a request, below
// and above the size where the index map takes over.
func TestTotalSetKeepsOrderAndLatest(t *testing.T) {
	for _, n := range []int{3, indexAbove + 1, 40} {
		var ts totalSet
		for round := range 2 {
			for i := range n {
				ts.set(metric.Sample{QueueID: fmt.Sprintf("q%d", i), Metric: metric.Waiting, Value: float64(10*round + i)})
			}
		}
		if len(ts.keys) != n || len(ts.vals) != n {
			t.Fatalf("n=%d: %d keys, %d values", n, len(ts.keys), len(ts.vals))
		}
		for i := range n {
			if ts.keys[i].queue != fmt.Sprintf("q%d", i) || ts.vals[i].Value != float64(10+i) {
				t.Fatalf("n=%d: entry %d is %v = %v", n, i, ts.keys[i], ts.vals[i].Value)
			}
		}
	}
}
