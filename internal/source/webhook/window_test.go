package webhook

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReplayWindow(t *testing.T) {
	tut := func(ts time.Time) string {
		return fmt.Sprintf(`{"id":%q,"timestamp":%q,"event_type":"com.genesiscloud.queue.metric",
			"data":{"queue_id":"q","metric":"waiting","value":1}}`, ts.String(), ts.Format(time.RFC3339))
	}
	raw := notificationOf("v2.analytics.queues."+queueA+".observations",
		`{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":2}}]}]}`, "w1")
	stamped := func(ts time.Time) string {
		return `{"topicName":"v2.analytics.queues.` + queueA + `.observations","timestamp":"` + ts.Format(time.RFC3339) +
			`","eventBody":{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":2}}]}]}}`
	}
	bridge := func(ts time.Time) string {
		return `{"id":"eb","time":"` + ts.Format(time.RFC3339) + `","detail":` + raw + `}`
	}
	tests := []struct {
		name    string
		body    string
		hdr     string // X-Queuewatch-Timestamp
		code    int
		wantErr string
	}{
		{"fresh", tut(t0.Add(-4 * time.Minute)), "", 202, ""},
		{"at the limit", tut(t0.Add(-5 * time.Minute)), "", 202, ""},
		{"too old", tut(t0.Add(-6 * time.Minute)), "", 401, "is 6m0s old, over max_age 5m0s"},
		{"slightly ahead", tut(t0.Add(time.Minute)), "", 202, ""},
		{"too far ahead", tut(t0.Add(6 * time.Minute)), "", 401, "6m0s ahead of the server clock"},
		{"body wins over header", tut(t0.Add(-time.Hour)), strconv.FormatInt(t0.Unix(), 10), 401, "old"},
		{"missing", `{"event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q","metric":"waiting","value":1}}`,
			"", 400, "missing timestamp"},
		{"raw notification with fresh header", raw, strconv.FormatInt(t0.Add(-time.Minute).Unix(), 10), 202, ""},
		{"raw notification with RFC 3339 header", raw, t0.Add(-time.Minute).Format(time.RFC3339), 202, ""},
		{"raw notification with stale header", raw, strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10), 401, "over max_age"},
		{"raw notification without header", raw, "", 400, "X-Queuewatch-Timestamp"},
		{"raw notification's own timestamp wins over the header", stamped(t0.Add(-time.Hour)),
			strconv.FormatInt(t0.Unix(), 10), 401, "over max_age"},
		{"raw notification's own fresh timestamp", stamped(t0.Add(-time.Minute)), "", 202, ""},
		{"malformed header", raw, "soon", 400, "malformed X-Queuewatch-Timestamp header"},
		{"eventbridge time", bridge(t0.Add(-time.Minute)), "", 202, ""},
		{"stale eventbridge time", bridge(t0.Add(-10 * time.Minute)), "", 401, "over max_age"},
		{"ignored events need no timestamp", `{"topicName":"channel.metadata","eventBody":{}}`, "", 200, ""},
		{"stale item of a batch", "[" + tut(t0) + "," + tut(t0.Add(-time.Hour)) + "]", "", 401, "batch item 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxAge = 5 * time.Minute })
			hdr := map[string]string{"Authorization": "Bearer " + testToken}
			if tt.hdr != "" {
				hdr[TimestampHeader] = tt.hdr
			}
			r := f.do(http.MethodPost, tt.body, hdr)
			if r.code != tt.code || !strings.Contains(r.str("error"), tt.wantErr) {
				t.Fatalf("answer %d %s, want %d with %q", r.code, r.raw, tt.code, tt.wantErr)
			}
			if tt.code == 401 && f.h.Stats().Rejected[ResultStale] != 1 {
				t.Fatalf("stats %+v", f.h.Stats())
			}
			if tt.code >= 400 && f.obs.ncalls() != 0 {
				t.Fatal("a refused event was evaluated")
			}
		})
	}
}

func TestReplayWindowOffByDefault(t *testing.T) {
	f := newFixture(t, nil)
	old := `{"id":"old","timestamp":"2020-01-01T00:00:00Z","event_type":"com.genesiscloud.queue.metric",
		"data":{"queue_id":"q","metric":"waiting","value":1}}`
	if r := f.post(old); r.code != 202 {
		t.Fatalf("answer %d %s", r.code, r.raw)
	}
	if got := f.obs.all()[0].At; !got.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("sample time %v, want the event's", got)
	}
}

func TestBatches(t *testing.T) {
	obsTopic := "v2.analytics.queues." + queueA + ".observations"
	waiting := notificationOf(obsTopic, `{"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":2}}]}]}`, "b-c1")
	heartbeat := `{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`
	t.Run("mixed envelopes", func(t *testing.T) {
		f := newFixture(t, nil)
		f.post(tutorialEvent("b-dup", "waiting", 1, ""))
		body := "[" + strings.Join([]string{
			tutorialEvent("b-1", "longest_wait", 3, "min"),
			waiting,
			heartbeat,
			tutorialEvent("b-dup", "waiting", 1, ""),
			tutorialEvent("b-1", "longest_wait", 3, "min"), // repeated within the batch
		}, ",") + "]"
		r := f.post(body)
		if r.code != 202 || r.num("samples") != 2 || r.num("events") != 2 || r.num("ignored") != 1 || r.num("duplicates") != 2 {
			t.Fatalf("answer %d %s", r.code, r.raw)
		}
		if n := f.obs.ncalls(); n != 2 {
			t.Fatalf("%d Observe calls, want one per request", n)
		}
	})
	t.Run("one bad item rejects the batch", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.post("[" + tutorialEvent("b-2", "waiting", 1, "") + `,{"event_type":"com.genesiscloud.queue.metric","data":{"metric":"waiting","value":1}}]`)
		if r.code != 400 || r.str("error") != "batch item 1: missing field data.queue_id" {
			t.Fatalf("answer %d %s", r.code, r.raw)
		}
		if f.obs.ncalls() != 0 {
			t.Fatal("part of a rejected batch was evaluated")
		}
	})
	t.Run("all ignored", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.post("[" + heartbeat + "," + heartbeat + "]")
		if r.code != 200 || r.str("status") != "ignored" || !strings.HasPrefix(r.str("reason"), "all 2 events ignored") {
			t.Fatalf("answer %d %s", r.code, r.raw)
		}
	})
	t.Run("all duplicates", func(t *testing.T) {
		f := newFixture(t, nil)
		f.post(waiting)
		r := f.post("[" + waiting + "," + heartbeat + "]")
		if r.code != 200 || r.str("status") != "duplicate" || r.num("duplicates") != 1 || r.num("ignored") != 1 {
			t.Fatalf("answer %d %s", r.code, r.raw)
		}
	})
}

func TestQueueCap(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxQueues = 2 })
	ev := func(id, q string) string {
		return `{"id":"` + id + `","event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"` + q + `","metric":"waiting","value":1}}`
	}
	for i, q := range []string{"q1", "q2", "q1"} {
		if r := f.post(ev(fmt.Sprint("c", i), q)); r.code != 202 {
			t.Fatalf("%s: %d %s", q, r.code, r.raw)
		}
	}
	r := f.post(ev("c3", "q3"))
	if r.code != 200 || r.str("status") != "ignored" || !strings.Contains(r.str("reason"), "queue limit") {
		t.Fatalf("q3: %d %s", r.code, r.raw)
	}
	r = f.post("[" + ev("c4", "q4") + "," + ev("c5", "q2") + "]")
	if r.code != 202 || r.num("samples") != 1 {
		t.Fatalf("batch: %d %s", r.code, r.raw)
	}
	st := f.h.Stats()
	if st.Queues != 2 || st.DroppedSamples != 2 || st.Accepted != 4 || st.Ignored != 1 {
		t.Fatalf("stats %+v", st)
	}
	// A refused queue's event is not remembered, so it is not a duplicate.
	if r := f.post(ev("c3", "q3")); r.str("status") != "ignored" {
		t.Fatalf("q3 again: %d %s", r.code, r.raw)
	}
}

func TestStatsAndOnResult(t *testing.T) {
	var results []string
	f := newFixture(t, func(c *Config) { c.OnResult = func(r string) { results = append(results, r) } })
	f.obs.fail = 1
	ok := tutorialEvent("s-1", "waiting", 1, "")
	f.post(ok)                                       // unavailable
	f.post(ok)                                       // accepted
	f.post(ok)                                       // duplicate
	f.post(`{"topicName":"channel.metadata"}`)       // ignored
	f.post(`{`)                                      // bad_request
	f.do(http.MethodPost, ok, nil)                   // unauthorized
	f.do(http.MethodGet, "", nil)                    // method_not_allowed
	f.post(ok + strings.Repeat(" ", DefaultMaxBody)) // too_large
	want := []string{ResultUnavailable, ResultAccepted, ResultDuplicate, ResultIgnored, ResultBadRequest,
		ResultUnauthorized, ResultMethodNotAllowed, ResultTooLarge}
	if strings.Join(results, ",") != strings.Join(want, ",") {
		t.Fatalf("results %v, want %v", results, want)
	}
	st := f.h.Stats()
	if st.Accepted != 1 || st.Duplicate != 1 || st.Ignored != 1 || st.Samples != 1 || st.Queues != 1 {
		t.Fatalf("stats %+v", st)
	}
	for _, r := range rejections {
		want := uint64(1)
		if r == ResultStale {
			want = 0
		}
		if st.Rejected[r] != want {
			t.Errorf("rejected[%s] = %d, want %d", r, st.Rejected[r], want)
		}
	}
}

// TestQueueCapWarnsOncePerInterval: dropping samples of new queues is
// logged at most once a minute, with the running total.
func TestQueueCapWarnsOncePerInterval(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *Config) {
		c.MaxQueues = 1
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	ev := func(id, q string) string {
		return `{"id":"` + id + `","event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"` + q + `","metric":"waiting","value":1}}`
	}
	f.post(ev("w0", "q0"))
	for i := range 5 {
		f.post(ev(fmt.Sprint("w", i+1), fmt.Sprint("new", i)))
		f.clock.Add(10 * time.Second)
	}
	if n := strings.Count(logs.String(), "queue limit reached"); n != 1 {
		t.Fatalf("%d warnings within 50 s, want 1:\n%s", n, logs.String())
	}
	f.clock.Add(time.Minute)
	f.post(ev("w9", "new9"))
	if n := strings.Count(logs.String(), "queue limit reached"); n != 2 || !strings.Contains(logs.String(), "dropped_samples=6") {
		t.Fatalf("after a minute: %d warnings, want 2 with the running total 6:\n%s", n, logs.String())
	}
}
