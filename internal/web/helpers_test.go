package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/silence"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
)

const testToken = "s3cret-api-token"

const testConfig = `
store: sqlite:unused.db
webhook: {insecure: true}
rules:
  - name: sla_breach
    metric: service_level
    below: 80
    clear: 85
    priority: P1
    notify: [oncall, cc-slack]
  - name: long_wait
    metric: longest_wait
    above: 300
    priority: P2
    notify: [oncall]
destinations:
  - name: oncall
    type: opsgenie
    url: http://127.0.0.1:1
    api_key: 11111111-2222-4333-8444-555555555555
  - name: cc-slack
    type: slack
    url: http://127.0.0.1:1
    token: xoxb-test
    channel: C0123456789
`

// env is a web server over a real engine and a real SQLite store.
type env struct {
	t      testing.TB
	st     *sqlite.Store
	eng    *alert.Engine
	sil    *silence.Matcher
	srv    *Server
	hist   *recent.Recorder
	url    string
	now    time.Time
	cancel context.CancelFunc
}

// storeRetrier retries dead deliveries straight in the store.
type storeRetrier struct {
	st  store.Store
	now func() time.Time
}

func (r storeRetrier) RetryDead(ctx context.Context, id int64) error {
	return r.st.RetryDelivery(ctx, id, r.now())
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	cfg, err := config.Parse("web-test.yaml", []byte(testConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rules, err := rule.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, now: time.Now().UTC().Truncate(time.Second), hist: NewHistory()}
	clock := func() time.Time { return e.now }
	e.sil = silence.New(st, clock, nil)
	e.eng, err = alert.New(alert.Options{Rules: rules, Committer: st, Shards: 2, Muter: e.sil})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Engine: e.eng, Store: st, Retrier: storeRetrier{st, clock}, Silences: e.sil,
		APIToken: testToken, Rules: []string{"sla_breach", "long_wait"},
		Destinations: []Destination{{"oncall", "opsgenie"}, {"cc-slack", "slack"}},
		NavLinks:     []NavLink{{Title: "Fake inboxes", Path: "/demo/inbox"}},
		Version:      "test", Now: clock, History: e.hist, Heartbeat: 50 * time.Millisecond,
		Health: func(context.Context) Health {
			return Health{Store: "ok", Outbox: map[string]int{"oncall": 2}, OutboxTotal: 2}
		},
	}
	if mod != nil {
		mod(&opts)
	}
	e.srv, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv.Register(mux)
	hs := httptest.NewServer(mux)
	e.url = hs.URL
	runCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	done := make(chan struct{})
	go func() { defer close(done); e.srv.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		hs.CloseClientConnections()
		hs.Close()
		_ = e.eng.Close(context.Background())
		_ = st.Close()
	})
	return e
}

// observe feeds samples of one queue through the engine.
func (e *env) observe(queueID, queueName string, at time.Time, values map[metric.Name]float64) {
	e.t.Helper()
	var ss []metric.Sample
	for n, v := range values {
		ss = append(ss, metric.Sample{QueueID: queueID, QueueName: queueName, Metric: n, Value: v, At: at, Source: metric.SourceWebhook})
	}
	e.hist.Add(ss...) // as the service does on every sample's way in
	if err := e.eng.Observe(context.Background(), ss...); err != nil {
		e.t.Fatal(err)
	}
}

// do sends a request and decodes the JSON answer into out (when not nil),
// returning the status.
func (e *env) do(method, path, tok, body string, out any) int {
	e.t.Helper()
	code, b := e.raw(method, path, tok, body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: answer %d is not JSON: %v\n%s", method, path, code, err, b)
		}
	}
	return code
}

func (e *env) raw(method, path, tok, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, typ, data string
	comment       bool
}

// sseStream reads events from an open event stream.
type sseStream struct {
	resp *http.Response
	ch   chan sseEvent
}

func (e *env) openEvents(lastID, query string) *sseStream {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/v1/events"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		e.t.Fatalf("events answered %d: %s", resp.StatusCode, b)
	}
	s := &sseStream{resp: resp, ch: make(chan sseEvent, 64)}
	go func() {
		defer close(s.ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.typ != "" || ev.data != "" {
					s.ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.ch <- sseEvent{comment: true, data: line}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); resp.Body.Close() })
	return s
}

// next returns the next event (comments skipped unless wantComment) or
// fails after d.
func (s *sseStream) next(t *testing.T, d time.Duration, wantComment bool) sseEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.ch:
			if !ok {
				t.Fatal("event stream ended")
			}
			if ev.comment && !wantComment {
				continue
			}
			return ev
		case <-deadline:
			t.Fatalf("no event within %v", d)
		}
	}
}
