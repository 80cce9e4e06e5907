package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, nil)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r := f.do(m, "", nil)
		if r.code != 405 || r.header.Get("Allow") != "POST" || !strings.Contains(r.str("error"), "use POST") {
			t.Fatalf("%s: %d Allow=%q %s", m, r.code, r.header.Get("Allow"), r.raw)
		}
	}
	if got := f.h.Stats().Rejected[ResultMethodNotAllowed]; got != 4 {
		t.Fatalf("method_not_allowed count %d", got)
	}
}

func TestBodyLimit(t *testing.T) {
	event := tutorialEvent("big", "waiting", 1, "")
	pad := func(n int) string { return event + strings.Repeat(" ", n-len(event)) }
	tests := []struct {
		name    string
		maxBody int64
		size    int
		code    int
	}{
		{"exactly 1 MiB", 0, 1 << 20, 202},
		{"one byte over 1 MiB", 0, 1<<20 + 1, 413},
		{"2 MiB", 0, 2 << 20, 413},
		{"custom limit", 1024, 1025, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxBody = tt.maxBody })
			r := f.post(pad(tt.size))
			if r.code != tt.code {
				t.Fatalf("status %d, want %d: %.200s", r.code, tt.code, r.raw)
			}
			if tt.code == 413 && !strings.Contains(r.str("error"), "over the limit") {
				t.Fatalf("error %q", r.str("error"))
			}
		})
	}
}

func TestBadJSON(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"empty", "", "empty body"},
		{"blank", "  \n", "empty body"},
		{"truncated", `{"event_type":`, "unexpected end of JSON input"},
		{"syntax", `{"event_type" "x"}`, "invalid character '\"' after object key"},
		{"trailing data", `{"topicName":"channel.metadata"} {}`, "invalid character '{' after top-level value"},
		{"not an object", `"hello"`, "an event must be a JSON object, got string"},
		{"null", `null`, "an event must be a JSON object, got null"},
		{"number", `42`, "an event must be a JSON object, got number"},
		{"empty object", `{}`, "unrecognised event"},
		{"empty batch", `[]`, "empty batch"},
		{"batch of numbers", `[1]`, "batch item 0: an event must be a JSON object, got number"},
		{"broken batch", `[{"topicName":"x"},`, "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.post(tt.body)
			if r.code != 400 || !strings.Contains(r.str("error"), tt.wantErr) {
				t.Fatalf("answer %d %s, want 400 containing %q", r.code, r.raw, tt.wantErr)
			}
			if f.h.Stats().Rejected[ResultBadRequest] != 1 {
				t.Fatalf("stats %+v", f.h.Stats())
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	obsTopic := "v2.analytics.queues." + queueA + ".observations"
	waiting := `{"group":{"queueId":"` + queueA + `"},"data":[{"metrics":[{"metric":"oWaiting","stats":{"count":1}}]}]}`
	tests := []struct {
		name         string
		first, again string
		dup          bool
	}{
		{"tutorial id", tutorialEvent("t-1", "waiting", 1, ""), tutorialEvent("t-1", "waiting", 2, ""), true},
		{"tutorial event_id",
			`{"event_id":"e-1","event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q","metric":"waiting","value":1}}`,
			`{"event_id":"e-1","id":"other","event_type":"com.genesiscloud.queue.metric","data":{"queue_id":"q","metric":"waiting","value":1}}`, true},
		{"another tutorial id", tutorialEvent("t-1", "waiting", 1, ""), tutorialEvent("t-2", "waiting", 1, ""), false},
		{"notification correlation id", notificationOf(obsTopic, waiting, "c-1"), notificationOf(obsTopic, waiting, "c-1"), true},
		{"same correlation id, other topic", notificationOf(obsTopic, waiting, "c-1"),
			notificationOf("v2.analytics.queues."+queueB+".activity", `{"results":[{"mediaType":"voice","data":[{"metric":"oWaiting","count":1}]}]}`, "c-1"), false},
		{"notification without id", `{"topicName":"` + obsTopic + `","eventBody":` + waiting + `}`,
			`{"topicName":"` + obsTopic + `","eventBody":` + waiting + `}`, false},
		{"eventbridge id", `{"id":"eb-1","detail":` + notificationOf(obsTopic, waiting, "c-1") + `}`,
			`{"id":"eb-1","detail":` + notificationOf(obsTopic, waiting, "c-2") + `}`, true},
		{"tutorial and eventbridge ids do not collide", tutorialEvent("x-1", "waiting", 1, ""),
			`{"id":"x-1","detail":` + notificationOf(obsTopic, waiting, "c-1") + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if r := f.post(tt.first); r.code != 202 {
				t.Fatalf("first: %d %s", r.code, r.raw)
			}
			r := f.post(tt.again)
			if !tt.dup {
				if r.code != 202 || f.obs.ncalls() != 2 {
					t.Fatalf("again: %d %s, %d calls", r.code, r.raw, f.obs.ncalls())
				}
				return
			}
			if r.code != 200 || r.str("status") != "duplicate" || r.str("id") == "" || f.obs.ncalls() != 1 {
				t.Fatalf("again: %d %s, %d calls", r.code, r.raw, f.obs.ncalls())
			}
			f.clock.Add(DefaultDedupWindow)
			if r := f.post(tt.again); r.code != 202 || f.obs.ncalls() != 2 {
				t.Fatalf("after the window: %d %s", r.code, r.raw)
			}
		})
	}
}

func TestObserveFailureThenRetry(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RetryAfter = 2500 * time.Millisecond })
	f.obs.fail = 1
	body := tutorialEvent("retry-1", "service_level", 70, "")
	r := f.post(body)
	if r.code != 503 || r.header.Get("Retry-After") != "3" || !strings.Contains(r.str("error"), "retry") {
		t.Fatalf("first: %d Retry-After=%q %s", r.code, r.header.Get("Retry-After"), r.raw)
	}
	if strings.Contains(r.raw, "database") {
		t.Fatalf("the engine's error leaked: %s", r.raw)
	}
	if r := f.post(body); r.code != 202 {
		t.Fatalf("retry: %d %s", r.code, r.raw)
	}
	if r := f.post(body); r.code != 200 || r.str("status") != "duplicate" {
		t.Fatalf("third: %d %s", r.code, r.raw)
	}
	if n := f.obs.ncalls(); n != 1 {
		t.Fatalf("%d successful evaluations, want 1", n)
	}
	st := f.h.Stats()
	if st.Accepted != 1 || st.Duplicate != 1 || st.Rejected[ResultUnavailable] != 1 || st.Samples != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConcurrentDelivery sends the same event twice while the first is
// being evaluated: the second waits and is a duplicate when the first
// succeeds, and is evaluated when the first fails.
func TestConcurrentDelivery(t *testing.T) {
	for _, firstFails := range []bool{false, true} {
		name := map[bool]string{false: "first succeeds", true: "first fails"}[firstFails]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.obs.block = make(chan struct{})
			f.obs.entered = make(chan struct{}, 2)
			if firstFails {
				f.obs.fail = 1
			}
			waiting := make(chan struct{}, 1)
			f.h.dedup.onWait = func() { waiting <- struct{}{} }
			body := tutorialEvent("conc-1", "waiting", 5, "")
			first, second := make(chan reply, 1), make(chan reply, 1)
			go func() { first <- f.post(body) }()
			<-f.obs.entered // the first is being evaluated
			go func() { second <- f.post(body) }()
			<-waiting // the second waits for it
			f.obs.block <- struct{}{}
			r1 := <-first
			if firstFails {
				<-f.obs.entered // the second is evaluated in turn
				f.obs.block <- struct{}{}
			}
			r2 := <-second
			want1, want2 := 202, 200
			if firstFails {
				want1, want2 = 503, 202
			}
			if r1.code != want1 || r2.code != want2 {
				t.Fatalf("answers %d, %d; want %d, %d (%s / %s)", r1.code, r2.code, want1, want2, r1.raw, r2.raw)
			}
			if f.obs.ncalls() != 1 {
				t.Fatalf("%d successful evaluations, want 1", f.obs.ncalls())
			}
		})
	}
}
