package genesys_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// fuzzEndpoints are the answers FuzzResponses feeds to the client, chosen
// by the fuzzer's first argument.
var fuzzEndpoints = []string{"token", "observations", "aggregates", "queues"}

// FuzzResponses feeds arbitrary 200 answers of the token, observations,
// aggregates and queue-listing endpoints to a real client over HTTP. The
// client must never panic, and what it accepts must be plausible: only the
// queues it asked about, finite non-negative values, percentages within
// 0-100. The seed corpus is in testdata/fuzz/FuzzResponses.
func FuzzResponses(f *testing.F) {
	f.Add(uint8(0), []byte(`{"access_token":"tok","token_type":"bearer","expires_in":86399}`))
	f.Add(uint8(0), []byte(`{"access_token":"","expires_in":-1}`))
	f.Add(uint8(1), []byte(officialObservations))
	f.Add(uint8(1), []byte(trapObservations(t0)))
	f.Add(uint8(1), []byte(`{"results":[{"group":{"queueId":"q1","mediaType":"voice"},"data":[{"metric":"oLongestWaiting","stats":{"count":1,"calculatedMetricValue":-5}}]}]}`))
	f.Add(uint8(2), []byte(`{"results":[{"group":{"queueId":"q1","mediaType":"voice"},"data":[{"interval":"2026-05-14T10:00:00.000Z/2026-05-14T10:30:00.000Z","metrics":[{"metric":"nOffered","stats":{"count":10}},{"metric":"oServiceLevel","stats":{"ratio":0.8,"numerator":8,"denominator":10,"target":0.8}}]}]}]}`))
	f.Add(uint8(2), []byte(`{"results":[{"group":{"queueId":"q2"},"data":[{"metrics":[{"metric":"tAnswered","stats":{"count":3,"sum":1e308,"max":1e308}}]}]}]}`))
	f.Add(uint8(3), []byte(`{"entities":[{"id":"q1","name":"Support","mediaSettings":{"call":{"serviceLevel":{"percentage":0.8,"durationMs":20000}}}}],"pageCount":1}`))
	f.Add(uint8(3), []byte(`{"entities":[{"id":"","mediaSettings":{"call":{"serviceLevel":{"percentage":80,"durationMs":-1}}}}],"nextUri":"x","pageCount":0}`))

	var mu sync.Mutex
	var answer []byte
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, p := answer, path
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" && p != "/oauth/token" {
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":86399}`))
			return
		}
		if r.URL.Query().Get("pageNumber") > "1" {
			_, _ = w.Write([]byte(`{"entities":[]}`)) // the listing ends after the fuzzed page
			return
		}
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	ids := []string{"q1", "q2"}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		endpoint := fuzzEndpoints[int(which)%len(fuzzEndpoints)]
		p := map[string]string{"token": "/oauth/token", "observations": observationsPath,
			"aggregates": "/api/v2/analytics/conversations/aggregates/query", "queues": "/api/v2/routing/queues"}[endpoint]
		mu.Lock()
		answer, path = body, p
		mu.Unlock()
		c, err := genesys.New(genesys.Options{APIURL: srv.URL, LoginURL: srv.URL, ClientID: "id", ClientSecret: "secret",
			HTTPClient: srv.Client(), Budget: genesys.NewBudget(1<<20, nil), RequestTimeout: 5 * time.Second, TokenBackoff: time.Millisecond, MaxTokenBackoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var rep genesys.Report
		switch endpoint {
		case "token":
			if err := c.Authenticate(ctx); err == nil && c.TokensIssued() != 1 {
				t.Fatalf("authenticated with %d tokens issued", c.TokensIssued())
			}
			return
		case "observations":
			rep, err = c.QueueObservations(ctx, ids)
		case "aggregates":
			rep, err = c.ConversationAggregates(ctx, ids, genesys.Interval{Start: t0.Add(-30 * time.Minute), End: t0})
		case "queues":
			qs, err := c.ListQueues(ctx, genesys.ListQueuesOptions{})
			if err != nil {
				return
			}
			for _, q := range qs {
				for _, s := range q.TargetSamples(t0, metric.SourcePoll) {
					checkFuzzSample(t, s, nil)
				}
			}
			return
		}
		if err != nil {
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("an error names the client secret: %v", err)
			}
			return
		}
		for _, q := range rep.Queues {
			if q.QueueID != "q1" && q.QueueID != "q2" {
				t.Fatalf("a report of queues %v holds queue %q", ids, q.QueueID)
			}
		}
		for _, s := range rep.Samples(t0) {
			checkFuzzSample(t, s, ids)
		}
	})
}

// checkFuzzSample fails unless s is a plausible sample of one of ids (any
// queue when ids is nil).
func checkFuzzSample(t *testing.T, s metric.Sample, ids []string) {
	t.Helper()
	info, ok := metric.Lookup(s.Metric)
	switch {
	case !ok:
		t.Fatalf("unknown metric in %+v", s)
	case ids != nil && s.QueueID != ids[0] && s.QueueID != ids[1]:
		t.Fatalf("sample of queue %q, asked for %v", s.QueueID, ids)
	case math.IsNaN(s.Value) || math.IsInf(s.Value, 0) || s.Value < 0:
		t.Fatalf("implausible value in %+v", s)
	case info.Unit == metric.Percent && s.Value > 100:
		t.Fatalf("percentage over 100 in %+v", s)
	}
}
