package poll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/source/poll"
)

// t0 is the start of every test's virtual time.
var t0 = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

// env is a fake Genesys on a manual clock, a client of it and an observer.
type env struct {
	fake    *fakegenesys.Server
	clock   *fakegenesys.ManualClock
	client  *genesys.Client
	obs     *recorder
	logs    *syncBuffer
	log     *slog.Logger
	listing *listingFilter
}

// newEnv starts the fake of fo (its clock set to a manual clock at t0)
// behind a listing filter, and a client of it with the given budget.
func newEnv(t *testing.T, fo fakegenesys.Options, budget int) *env {
	t.Helper()
	e := &env{clock: fakegenesys.NewManualClock(t0), obs: &recorder{}, logs: &syncBuffer{},
		listing: &listingFilter{hidden: map[string]bool{}, renamed: map[string]string{}}}
	fo.Clock = e.clock
	e.fake = fakegenesys.New(fo)
	ts := httptest.NewServer(e.listing.wrap(e.fake))
	t.Cleanup(func() {
		_ = e.fake.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := genesys.New(genesys.Options{APIURL: ts.URL, LoginURL: ts.URL, ClientID: fakegenesys.DefaultClientID,
		ClientSecret: fakegenesys.DefaultClientSecret, RequestBudget: budget, Clock: e.clock, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// options returns poller options on the env's clock and logger.
func (e *env) options(o poll.Options) poll.Options {
	o.Clock, o.Logger = e.clock, e.log
	return o
}

// run starts p.Run until the test ends.
func run(t *testing.T, p *poll.Poller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
}

// testCtx ends with the test, and after a generous real-time limit so
// that a bug fails the test rather than hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stepUntil moves virtual time until cond holds: each time the goroutines
// under test are all asleep on the clock (sleepers of them), it advances
// the clock to the earliest wake-up. Nothing is in flight when the clock
// moves, so the outcome does not depend on the machine's speed.
func (e *env) stepUntil(t *testing.T, what string, sleepers int, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	for !cond() {
		if err := e.clock.WaitFor(ctx, func(n int) bool { return n >= sleepers }); err != nil {
			t.Fatalf("waiting for %s at %s: %v", what, e.clock.Now().Sub(t0), err)
		}
		if cond() {
			return
		}
		if next, ok := e.clock.NextWake(); ok {
			e.clock.Set(next)
		}
	}
}

// eventually waits, up to a real-time deadline, until cond holds, for
// conditions that change without the clock moving.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// waitNextPoll waits until the poller has scheduled its next poll at
// t0+at.
func waitNextPoll(t *testing.T, p *poll.Poller, at time.Duration) {
	t.Helper()
	eventually(t, "the next poll at "+at.String(), func() bool { return p.Status().NextPoll.Equal(t0.Add(at)) })
}

// recorder is an Observer that keeps every sample.
type recorder struct {
	mu      sync.Mutex
	samples []metric.Sample
	calls   int
}

func (r *recorder) Observe(_ context.Context, samples ...metric.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.samples = append(r.samples, samples...)
	return nil
}

// all returns the samples received so far.
func (r *recorder) all() []metric.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]metric.Sample(nil), r.samples...)
}

// latest returns the latest queue-total sample of a metric per queue.
func (r *recorder) latest(m metric.Name) map[string]metric.Sample {
	out := map[string]metric.Sample{}
	for _, s := range r.all() {
		if s.Metric == m && s.MediaType == "" {
			out[s.QueueID] = s
		}
	}
	return out
}

// has reports whether every queue has a queue-total sample of m.
func (r *recorder) has(m metric.Name, ids []string) bool {
	got := r.latest(m)
	for _, id := range ids {
		if _, ok := got[id]; !ok {
			return false
		}
	}
	return true
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// listingFilter stands in front of the fake. It hides and renames queues
// in the queue listings, to play queues created or renamed in Genesys
// after the poller started. With thin set, it narrows every observation
// query to its first queue before the fake serves it, so that a test of
// thousands of queues runs quickly under the race detector: the fake
// still receives, counts and answers every request.
type listingFilter struct {
	mu      sync.Mutex
	hidden  map[string]bool
	renamed map[string]string
	thin    bool
}

func (f *listingFilter) hide(id string, hidden bool) {
	f.mu.Lock()
	f.hidden[id] = hidden
	f.mu.Unlock()
}

func (f *listingFilter) rename(id, name string) {
	f.mu.Lock()
	f.renamed[id] = name
	f.mu.Unlock()
}

func (f *listingFilter) setThin(thin bool) {
	f.mu.Lock()
	f.thin = thin
	f.mu.Unlock()
}

func (f *listingFilter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		listing := len(f.hidden)+len(f.renamed) > 0 && r.Method == http.MethodGet && r.URL.Path == "/api/v2/routing/queues"
		thin := f.thin && r.URL.Path == "/api/v2/analytics/queues/observations/query"
		f.mu.Unlock()
		switch {
		case thin:
			thinObservationQuery(r)
			next.ServeHTTP(w, r)
		case listing:
			f.filterListing(w, r, next)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// thinObservationQuery keeps the first queue of an observation query.
func thinObservationQuery(r *http.Request) {
	var q map[string]any
	body, err := io.ReadAll(r.Body)
	if err != nil || json.Unmarshal(body, &q) != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		return
	}
	if flt, ok := q["filter"].(map[string]any); ok {
		if ps, ok := flt["predicates"].([]any); ok && len(ps) > 1 {
			flt["predicates"] = ps[:1]
		}
	}
	body, _ = json.Marshal(q)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// filterListing serves a queue listing without the hidden queues and
// with the new names.
func (f *listingFilter) filterListing(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		copyAnswer(w, rec.Code, rec.Header(), rec.Body.Bytes())
		return
	}
	f.mu.Lock()
	var kept []any
	for _, ent := range body["entities"].([]any) {
		q := ent.(map[string]any)
		id, _ := q["id"].(string)
		if f.hidden[id] {
			continue
		}
		if n, ok := f.renamed[id]; ok {
			q["name"] = n
		}
		kept = append(kept, q)
	}
	f.mu.Unlock()
	body["entities"] = kept
	out, _ := json.Marshal(body)
	copyAnswer(w, rec.Code, rec.Header(), out)
}

func copyAnswer(w http.ResponseWriter, code int, h http.Header, body []byte) {
	for k, vs := range h {
		if !strings.EqualFold(k, "Content-Length") {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// callsOf returns the fake's calls of an endpoint.
func callsOf(f *fakegenesys.Server, endpoint string) []fakegenesys.Call {
	var out []fakegenesys.Call
	for _, c := range f.Calls() {
		if c.Endpoint == endpoint {
			out = append(out, c)
		}
	}
	return out
}
