package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/fake/webhookrecv"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// This file holds the harness shared by the fault, storm, restart and
// delivery-benchmark tests. It is startE2E with knobs: which destinations,
// extra YAML per destination (retry timings, rates, timeouts), a proxy in
// front of OpsGenie, dispatcher options that the configuration does not
// expose (workers, batch size, lease margin, owner) and several services in
// turn on one SQLite file. It works for tests and benchmarks (testing.TB).

// fastRetry is the retry timing of destinations in tests that must not wait
// for production backoff.
const fastRetry = "retry: {initial: 10ms, max: 100ms}"

// allDests are the destinations of the harness, in configuration order.
var allDests = []string{"oncall", "cc-slack", "pd", "tooling"}

// e2eOpts tunes one service of a harness. The zero value is startE2E's setup.
type e2eOpts struct {
	// db is the SQLite file; a new temporary file when empty.
	db string
	// dests names the configured destinations; all four when nil.
	dests []string
	// extra holds YAML lines ("key: value", one per line) added to a
	// destination by name; "*" adds them to every destination.
	extra map[string]string
	// ogURL replaces the fake OpsGenie's URL, e.g. with a proxy in front of it.
	ogURL string
	// slackToken and pdKey replace the credentials the fakes accept.
	slackToken, pdKey string
	// top holds top-level YAML added to the configuration, e.g.
	// "engine: {shards: 1}".
	top string
	// dispatcher, when set, replaces the service's dispatcher before it runs
	// with one built from these options (the configuration has no way to set
	// workers, batch size, lease margin, tick or owner).
	dispatcher *notify.Options
	// wrapStore, when set, wraps the store the (replaced) dispatcher uses.
	wrapStore func(notify.Store) notify.Store
}

// harness is a set of started fakes and the service currently fed.
type harness struct {
	tb                              testing.TB
	og                              *fakeog.Server
	slack                           *fakeslack.Server
	pd                              *fakepd.Server
	recv                            *webhookrecv.Server
	ogURL, slackURL, pdURL, recvURL string
	db                              string
	svc                             *Service
	logs                            logTail
}

// newHarness starts the fakes; start a service with start.
func newHarness(tb testing.TB) *harness {
	tb.Helper()
	h := &harness{tb: tb, og: fakeog.New(), slack: fakeslack.New(), pd: fakepd.New(), recv: webhookrecv.New("out-secret")}
	h.pd.AddRoutingKey(pdKey)
	// The scopes docs/delivery.md asks for: chat:write to post, and
	// channels:history to find a message an attempt cut short had posted.
	h.slack.AddToken(fakeslack.DefaultToken, "chat:write", "channels:history")
	h.ogURL, h.slackURL, h.pdURL, h.recvURL = h.og.Start(tb), h.slack.Start(tb), h.pd.Start(tb), h.recv.Start(tb)
	h.db = filepath.Join(tb.TempDir(), "q.db")
	tb.Cleanup(func() { // after the services stopped
		if tb.Failed() {
			if s := h.logs.String(); s != "" {
				tb.Logf("the services' last warnings and errors:\n%s", s)
			}
		}
	})
	return h
}

// startE2EWith starts the fakes and one service.
func startE2EWith(tb testing.TB, ruleYAML string, o e2eOpts) *harness {
	tb.Helper()
	h := newHarness(tb)
	h.start(ruleYAML, o)
	return h
}

// running is a started service.
type running struct {
	svc     *Service
	cancel  context.CancelFunc
	done    chan error
	stopped atomic.Bool
}

// stop shuts the service down gracefully and returns Run's error.
func (r *running) stop() error {
	if r.stopped.Swap(true) {
		return nil
	}
	r.cancel()
	return <-r.done
}

// logTail keeps the last warnings and errors the services logged, shown
// when a test fails.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimRight(string(p), "\n"))
	if len(l.lines) > 400 {
		l.lines = slices.Delete(l.lines, 0, len(l.lines)-200)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// logger returns the logger of a service: warnings and errors go to h's
// log tail, everything to stderr when QUEUEWATCH_E2E_LOG is set.
func (h *harness) logger(name string) *slog.Logger {
	handlers := []slog.Handler{slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelWarn})}
	if os.Getenv("QUEUEWATCH_E2E_LOG") != "" {
		handlers = append(handlers, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewMultiHandler(handlers...)).With("svc", name)
}

// config renders and parses the service configuration.
func (h *harness) config(ruleYAML string, o e2eOpts) *config.Config {
	h.tb.Helper()
	text := h.configYAML(ruleYAML, o)
	cfg, err := config.Parse("e2e.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		h.tb.Fatalf("%v\n%s", err, text)
	}
	return cfg
}

// configYAML renders the service configuration as YAML, for services that
// run in another process.
func (h *harness) configYAML(ruleYAML string, o e2eOpts) string {
	h.tb.Helper()
	db := o.db
	if db == "" {
		db = h.db
	}
	dests := o.dests
	if dests == nil {
		dests = allDests
	}
	ogURL := h.ogURL
	if o.ogURL != "" {
		ogURL = o.ogURL
	}
	slackToken, routingKey := fakeslack.DefaultToken, pdKey
	if o.slackToken != "" {
		slackToken = o.slackToken
	}
	if o.pdKey != "" {
		routingKey = o.pdKey
	}
	blocks := map[string]string{
		"oncall": fmt.Sprintf(`  - name: oncall
    type: opsgenie
    url: %s
    api_key: %s
    responders: [{type: team, name: Contact Center Ops}]
`, ogURL, fakeog.DefaultKey),
		"cc-slack": fmt.Sprintf(`  - name: cc-slack
    type: slack
    url: %s
    token: %s
    channel: %s
`, h.slackURL, slackToken, fakeslack.DefaultChannel),
		"pd": fmt.Sprintf(`  - name: pd
    type: pagerduty
    url: %s
    routing_key: %s
`, h.pdURL, routingKey),
		"tooling": fmt.Sprintf(`  - name: tooling
    type: webhook
    url: %s/hooks/queuewatch
    secret: out-secret
`, h.recvURL),
	}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\nstore: sqlite:%s\n%s\nwebhook:\n  secret: %s\nrules:\n%s\ndestinations:\n", db, o.top, e2eSecret, ruleYAML)
	for _, d := range dests {
		block, ok := blocks[d]
		if !ok {
			h.tb.Fatalf("unknown destination %q", d)
		}
		b.WriteString(block)
		for _, extra := range []string{o.extra["*"], o.extra[d]} {
			for line := range strings.SplitSeq(strings.TrimSpace(extra), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					b.WriteString("    " + line + "\n")
				}
			}
		}
	}
	return b.String()
}

// start starts a service, makes it the one h feeds and stops it gracefully
// when the test ends (unless stopped before).
func (h *harness) start(ruleYAML string, o e2eOpts) *running {
	h.tb.Helper()
	cfg := h.config(ruleYAML, o)
	name := "svc"
	if o.dispatcher != nil && o.dispatcher.Owner != "" {
		name = o.dispatcher.Owner
	}
	log := h.logger(h.tb.Name() + "/" + name)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := Start(ctx, cfg, log)
	if err != nil {
		cancel()
		h.tb.Fatal(err)
	}
	if o.dispatcher != nil || o.wrapStore != nil {
		var opts notify.Options
		if o.dispatcher != nil {
			opts = *o.dispatcher
		}
		if opts.Logger == nil {
			opts.Logger = log
		}
		if opts.Observer == nil {
			opts.Observer = svc.metrics // as Start wires it
		}
		var st notify.Store = svc.store
		if o.wrapStore != nil {
			st = o.wrapStore(st)
		}
		// Run has not started the background yet, so this is the
		// dispatcher it runs and wakes.
		svc.dispatcher = notify.NewDispatcher(st, svc.dests.list, opts)
	}
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	h.tb.Cleanup(func() {
		if err := r.stop(); err != nil {
			h.tb.Errorf("shutdown: %v", err)
		}
	})
	h.svc = svc
	return r
}

// event is one tutorial metric event.
type event struct {
	queue, name, metric string
	value               float64
	at                  time.Time
}

var eventSeq atomic.Int64

// post signs and posts events (one object, or an array for several) to the
// service's webhook and returns an error unless it answered 202. It is safe
// for concurrent use.
func (h *harness) post(evs ...event) error {
	return postEvents(http.DefaultClient, h.svc.Addr(), evs...)
}

// postEvents signs and posts events to the webhook of the service listening
// at addr, as post does.
func postEvents(client *http.Client, addr string, evs ...event) error {
	items := make([]map[string]any, len(evs))
	for i, ev := range evs {
		name := ev.name
		if name == "" {
			name = "Queue " + ev.queue
		}
		items[i] = map[string]any{
			"event_id": fmt.Sprintf("ev-%d", eventSeq.Add(1)), "event_type": "com.genesiscloud.queue.metric",
			"timestamp": ev.at.UTC().Format(time.RFC3339Nano),
			"data":      map[string]any{"queue_id": ev.queue, "queue_name": name, "metric": ev.metric, "value": ev.value},
		}
	}
	var body []byte
	if len(items) == 1 {
		body, _ = json.Marshal(items[0])
	} else {
		body, _ = json.Marshal(items)
	}
	mac := hmac.New(sha256.New, []byte(e2eSecret))
	mac.Write(body)
	req, _ := http.NewRequest("POST", "http://"+addr+"/webhook/genesys", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Genesys-Cloud-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("webhook answered %d: %s", resp.StatusCode, b)
	}
	return nil
}

// send posts events and fails the test unless they were accepted.
func (h *harness) send(evs ...event) {
	h.tb.Helper()
	if err := h.post(evs...); err != nil {
		h.tb.Fatal(err)
	}
}

// waitFor polls cond every 10 ms until it holds, failing after d with what
// and, when state is set, a description of what was seen.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool, state func() string) {
	tb.Helper()
	waitEvery(tb, d, 10*time.Millisecond, what, cond, state)
}

// waitEvery is waitFor polling every interval, for conditions that are
// costly to check (they query the store) or slow to come true.
func waitEvery(tb testing.TB, d, interval time.Duration, what string, cond func() bool, state func() string) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if state != nil {
				msg = "\n" + state()
			}
			tb.Fatalf("timed out after %v waiting for %s%s", d, what, msg)
		}
		time.Sleep(interval) // polling a condition, with a deadline
	}
}

// deliveriesOf lists the service's outbox rows (newest first).
func (h *harness) deliveriesOf(f store.DeliveryFilter) []store.Delivery {
	h.tb.Helper()
	if f.Limit == 0 {
		f.Limit = 1 << 20
	}
	ds, err := h.svc.store.ListDeliveries(context.Background(), f)
	if err != nil {
		h.tb.Fatal(err)
	}
	return ds
}

// owed reports how many deliveries are pending or in flight.
func (h *harness) owed() int {
	h.tb.Helper()
	counts, err := h.svc.store.PendingCounts(context.Background())
	if err != nil {
		h.tb.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// outboxSummary describes the outbox by destination, action and status, for
// failure messages.
func (h *harness) outboxSummary() string {
	ds, err := h.svc.store.ListDeliveries(context.Background(), store.DeliveryFilter{Limit: 1 << 20})
	if err != nil {
		return err.Error()
	}
	counts := map[string]int{}
	var errs []string
	for _, d := range ds {
		counts[fmt.Sprintf("%s/%s/%s", d.Destination, d.Action, d.Status)]++
		if d.LastError != "" && len(errs) < 5 {
			errs = append(errs, fmt.Sprintf("%d %s %s %s: %s", d.ID, d.Destination, d.Action, d.Status, d.LastError))
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %d\n", k, counts[k])
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "  last error %s\n", e)
	}
	return b.String()
}

// ogOp is one alert-changing OpsGenie request.
type ogOp struct {
	Op        string // create, priority, note, close
	Alias     string
	Status    int
	At        time.Time
	RequestID string // of the answer, when the fake recorded it
}

func (o ogOp) String() string { return fmt.Sprintf("%s %s → %d", o.Op, o.Alias, o.Status) }

// ok reports whether OpsGenie accepted the request.
func (o ogOp) ok() bool { return o.Status >= 200 && o.Status <= 299 }

// ogOps classifies the OpsGenie requests that change alerts, oldest first;
// status checks (GET) are left out.
func ogOps(reqs []fakeog.RecordedRequest) []ogOp {
	var out []ogOp
	for _, r := range reqs {
		if r.Method == http.MethodGet {
			continue
		}
		op := classifyOG(r.Method, r.Path, r.Body, r.Status, r.At)
		op.RequestID = r.RequestID
		out = append(out, op)
	}
	return out
}

func classifyOG(method, path, body string, status int, at time.Time) ogOp {
	op := ogOp{Status: status, At: at}
	rest, _ := strings.CutPrefix(path, "/v2/alerts")
	rest = strings.Trim(rest, "/")
	switch {
	case rest == "" && method == http.MethodPost:
		op.Op = "create"
		var b struct{ Alias string }
		_ = json.Unmarshal([]byte(body), &b)
		op.Alias = b.Alias
	default:
		alias, action, _ := strings.Cut(rest, "/")
		op.Alias, op.Op = alias, action
		if action == "notes" {
			op.Op = "note"
		}
	}
	return op
}

// phase orders the operations of one episode.
var phase = map[string]int{"create": 0, "priority": 1, "note": 2, "close": 3}

// byAlias groups operations by alias, keeping their order.
func byAlias(ops []ogOp) map[string][]ogOp {
	out := map[string][]ogOp{}
	for _, o := range ops {
		out[o.Alias] = append(out[o.Alias], o)
	}
	return out
}

// opNames renders operations as "create,close,…".
func opNames(ops []ogOp) string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.Op
	}
	return strings.Join(names, ",")
}

// accepted keeps the operations OpsGenie accepted.
func accepted(ops []ogOp) []ogOp {
	var out []ogOp
	for _, o := range ops {
		if o.ok() {
			out = append(out, o)
		}
	}
	return out
}

// queueID returns the id of test queue i.
func queueID(i int) string { return fmt.Sprintf("3f0c8d1e-0000-4000-8000-%012d", i) }

// raceEnabled reports whether the test binary was built with -race, under
// which the pure-Go SQLite driver is about ten times slower.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
