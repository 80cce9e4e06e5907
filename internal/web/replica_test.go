package web

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// TestLiveReads checks which routes Options.LiveReads wraps (the reads
// that come from memory, and no write or store read) and that a notice it
// puts in the context reaches the JSON the dashboard reads.
func TestLiveReads(t *testing.T) {
	const notice = "this replica is a follower; live data is on the leader, which it cannot reach: test"
	var mu sync.Mutex
	var wrapped []string
	e := newEnv(t, func(o *Options) {
		o.LiveReads = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				wrapped = append(wrapped, r.Method+" "+r.URL.Path)
				mu.Unlock()
				next.ServeHTTP(w, r.WithContext(WithFollowerNotice(r.Context(), notice)))
			})
		}
	})
	e.observe("q1", "Sales", e.now, map[metric.Name]float64{metric.ServiceLevel: 50})

	for _, path := range []string{"/api/v1/queues", "/api/v1/queues/q1", "/api/v1/alerts", "/api/v1/health"} {
		var body struct {
			Notice string `json:"follower_notice"`
		}
		if code := e.do("GET", path, "", "", &body); code != http.StatusOK || body.Notice != notice {
			t.Errorf("GET %s: %d, follower_notice %q; want 200 and the notice", path, code, body.Notice)
		}
	}
	for _, path := range []string{"/api/v1/meta", "/api/v1/deliveries", "/api/v1/silences"} {
		if code := e.do("GET", path, "", "", nil); code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	if code := e.do("POST", "/api/v1/silences", testToken, `{"queue":"Sales","duration":"1h","comment":"x"}`, nil); code >= 500 {
		t.Errorf("POST /api/v1/silences: %d", code)
	}
	if code, _ := e.raw("GET", "/api/v1/alerts/q1_sla_breach/history", "", ""); code != http.StatusOK {
		t.Errorf("GET an alert's history: %d", code)
	}
	ev := e.openEvents("", "")
	ev.next(t, 10*time.Second, true) // the stream is open once a heartbeat arrives

	want := []string{"GET /api/v1/queues", "GET /api/v1/queues/q1", "GET /api/v1/alerts", "GET /api/v1/health",
		"GET /api/v1/alerts/q1_sla_breach/history", "GET /api/v1/events"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(wrapped, want) {
		t.Errorf("LiveReads wrapped\n%s\nwant\n%s", strings.Join(wrapped, "\n"), strings.Join(want, "\n"))
	}

	// Without a notice the field is left out.
	plain := newEnv(t, nil)
	var body map[string]any
	if plain.do("GET", "/api/v1/queues", "", "", &body); body["follower_notice"] != nil {
		t.Errorf("follower_notice %v without a notice", body["follower_notice"])
	}
}
