package webhook

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// FuzzDecode checks that decoding never panics, that an accepted body only
// yields plausible samples, and that the handler always answers JSON with
// one of the documented status codes. The seed corpus is in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(observations))
	f.Add([]byte(activity(queueB, t0.Add(-95e9), t0.Add(-40e9))))
	f.Add([]byte(tutorialEvent("fz", "longest_wait", 301500, "ms")))
	f.Add([]byte(`[{"topicName":"channel.metadata"},{"id":"x","detail":{"topicName":"v2.analytics.queues.q.activity","eventBody":{"results":[]}}}]`))

	clock := newClock()
	obs := &fakeObserver{}
	h, err := New(Config{Insecure: true, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler), MaxQueues: 50, DedupSize: 50}, obs)
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[int]bool{200: true, 202: true, 400: true, 413: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		d := decoder{now: t0}
		events, err := d.decode(body)
		if err == nil {
			if len(events) == 0 {
				t.Fatal("no events and no error")
			}
			for _, ev := range events {
				if (ev.ignored == "") == (len(ev.samples) == 0) {
					t.Fatalf("event is neither ignored nor carries samples: %+v", ev)
				}
				for _, s := range ev.samples {
					checkFuzzSample(t, s)
				}
			}
		} else if err.Error() == "" {
			t.Fatal("empty error")
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook/genesys", bytes.NewReader(body)))
		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var ans map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
		if rec.Code == 400 && ans["error"] == "" {
			t.Fatalf("400 without error: %s", rec.Body)
		}
		if rec.Code != 413 && (rec.Code == 400) != (err != nil) {
			t.Fatalf("decode error %v but status %d", err, rec.Code)
		}
	})
}

func checkFuzzSample(t *testing.T, s metric.Sample) {
	t.Helper()
	info, ok := metric.Lookup(s.Metric)
	switch {
	case !ok:
		t.Fatalf("unknown metric in %+v", s)
	case s.QueueID == "" || len(s.QueueID) > maxQueueID:
		t.Fatalf("bad queue id in %+v", s)
	case !(s.Value >= 0 && s.Value <= maxValue*genesys.MaxMediaPerQueue):
		t.Fatalf("implausible value in %+v", s)
	case info.Unit == metric.Percent && s.Value > 100:
		t.Fatalf("percentage over 100 in %+v", s)
	case s.At.IsZero() || s.At.After(t0):
		t.Fatalf("bad time in %+v", s)
	case s.Source != metric.SourceWebhook:
		t.Fatalf("source %q", s.Source)
	}
}
