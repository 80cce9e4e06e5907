package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

const (
	testSecret = "s3cret-hmac-key-do-not-leak"
	testToken  = "tok-eventbridge-do-not-leak"
	testToken2 = "tok-relay-do-not-leak"
	queueA     = "1d1af111-b11c-11f1-b111-1cf1c11111fc"
	queueB     = "7a0c0cde-0000-4000-8000-000000000002"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 5, 14, 13, 10, 0, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// errEngine is the internal error a failing fake Observer returns.
var errEngine = errors.New("store: database is locked at /var/lib/queuewatch/secret-path.db")

// fakeObserver records Observe calls. It fails the next `fail` calls and,
// when block is set, announces each call on entered and waits on block.
type fakeObserver struct {
	mu      sync.Mutex
	calls   [][]metric.Sample
	fail    int
	block   chan struct{}
	entered chan struct{}
}

func (o *fakeObserver) Observe(ctx context.Context, samples ...metric.Sample) error {
	if o.block != nil {
		o.entered <- struct{}{}
		<-o.block
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail > 0 {
		o.fail--
		return errEngine
	}
	o.calls = append(o.calls, append([]metric.Sample(nil), samples...))
	return nil
}

// all returns every sample observed so far.
func (o *fakeObserver) all() []metric.Sample {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []metric.Sample
	for _, c := range o.calls {
		out = append(out, c...)
	}
	return out
}

func (o *fakeObserver) ncalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.calls)
}

// fixture is a running handler behind a real HTTP server.
type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	h     *Handler
	obs   *fakeObserver
	clock *fakeClock
}

// baseConfig has a secret and two tokens, a fake clock and no logs.
func baseConfig(clock *fakeClock) Config {
	return Config{
		Secret: []byte(testSecret),
		Tokens: []string{testToken, testToken2},
		Clock:  clock.Now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// newFixture starts a handler; edit may change the configuration.
func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, obs: &fakeObserver{}, clock: newClock()}
	cfg := baseConfig(f.clock)
	if edit != nil {
		edit(&cfg)
	}
	h, err := New(cfg, f.obs)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.h = h
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// reply is a decoded answer.
type reply struct {
	code   int
	header http.Header
	raw    string
	body   map[string]any
}

func (r reply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r reply) num(key string) float64 {
	n, _ := r.body[key].(float64)
	return n
}

// do sends a request with the given headers and decodes the JSON answer.
func (f *fixture) do(method, body string, hdr map[string]string) reply {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+"/webhook/genesys", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Fatalf("Content-Type %q, body %s", ct, raw)
	}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		f.t.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	if r.code >= 400 && r.str("error") == "" {
		f.t.Fatalf("error answer %d without an error field: %s", r.code, raw)
	}
	return r
}

// post sends a body signed with the test secret.
func (f *fixture) post(body string) reply {
	f.t.Helper()
	return f.do(http.MethodPost, body, map[string]string{SignatureHeader: sign(testSecret, body)})
}

// sign returns the signature header value of body.
func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// tutorialEvent builds a tutorial envelope.
func tutorialEvent(id, metricName string, value any, unit string) string {
	b, _ := json.Marshal(map[string]any{
		"id": id, "version": 1, "timestamp": t0.Add(-10 * time.Second).Format(time.RFC3339Nano),
		"event_type": TutorialEventType, "source": "relay",
		"data": map[string]any{"queue_id": queueA, "queue_name": "Support - Voice",
			"metric": metricName, "value": value, "unit": unit, "interval": "PT1M"},
	})
	return string(b)
}

// sampleSet renders samples as comparable strings, ignoring order.
func sampleSet(samples []metric.Sample) map[string]int {
	m := map[string]int{}
	for _, s := range samples {
		m[sampleString(s)]++
	}
	return m
}

func sampleString(s metric.Sample) string {
	b, _ := json.Marshal(struct {
		Q, N, Media, M string
		V              float64
		At             string
		Src            string
	}{s.QueueID, s.QueueName, s.MediaType, string(s.Metric), roundTo(s.Value, 6), s.At.UTC().Format(time.RFC3339Nano), string(s.Source)})
	return string(b)
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// smp builds an expected webhook sample.
func smp(queue, name, media string, m metric.Name, v float64, at time.Time) metric.Sample {
	return metric.Sample{QueueID: queue, QueueName: name, MediaType: media, Metric: m, Value: v, At: at, Source: metric.SourceWebhook}
}

// sameSamples fails unless got and want hold the same samples.
func sameSamples(t *testing.T, got, want []metric.Sample) {
	t.Helper()
	g, w := sampleSet(got), sampleSet(want)
	for k, n := range w {
		if g[k] != n {
			t.Errorf("missing sample %s (got %d of %d)", k, g[k], n)
		}
	}
	for k, n := range g {
		if w[k] != n {
			t.Errorf("unexpected sample %s (%d)", k, n)
		}
	}
}
