package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/inbox"
)

// syncBuffer is an io.Writer safe for the demo's printer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runningDemo is a demo started in process for a test.
type runningDemo struct {
	info DemoInfo
	out  *syncBuffer
}

// startDemo runs the demo until the test ends and waits until it serves.
func startDemo(t *testing.T, opts DemoOptions) *runningDemo {
	t.Helper()
	ready := make(chan DemoInfo, 1)
	opts.Ready = func(i DemoInfo) { ready <- i }
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Store == "" {
		opts.Store = filepath.Join(t.TempDir(), "demo.db")
	}
	d := &runningDemo{out: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Demo(ctx, opts, d.out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case d.info = <-ready:
	case err := <-done:
		done <- err
		t.Fatalf("demo stopped before serving: %v\n%s", err, d.out)
	case <-time.After(30 * time.Second):
		t.Fatalf("demo not serving after 30s\n%s", d.out)
	}
	return d
}

// inboxes reads the demo's fake inboxes over HTTP.
func (d *runningDemo) inboxes(t *testing.T) inbox.Inboxes {
	t.Helper()
	resp, err := http.Get(d.info.URL + "/demo/api/inboxes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v inbox.Inboxes
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /demo/api/inboxes: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// metricsText returns the demo's /metrics page.
func (d *runningDemo) metricsText(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(d.info.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sumSeries adds up every series of a metric whose labels contain all of
// labels (e.g. `source="poll"`); -1 when the metric has no such series.
func sumSeries(page, name string, labels ...string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+|NaN)$`)
	total, found := 0.0, false
outer:
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		for _, l := range labels {
			if !strings.Contains(m[1], l) {
				continue outer
			}
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		total, found = total+v, true
	}
	if !found {
		return -1
	}
	return total
}

// TestDemoDeliversToTheFakeInboxes runs the whole demo in process for at
// most a minute of wall time, at 60× (an hour of simulated time a
// minute): the simulator behind the fake Genesys Cloud, the real poller
// and streamer, the real notifiers. The scripted incidents must open and
// close an OpsGenie alert and post and edit a Slack message, as read from
// the inbox view over HTTP; and the contract's metrics must move.
func TestDemoDeliversToTheFakeInboxes(t *testing.T) {
	began := time.Now()
	d := startDemo(t, DemoOptions{Queues: 8, Speed: 60, Seed: 1, WebhookSecret: e2eSecret})
	before := d.metricsText(t)

	// The demo's webhook takes signed events like serve's.
	if err := postEvents(http.DefaultClient, strings.TrimPrefix(d.info.URL, "http://"),
		event{queue: "demo-webhook-queue", name: "Webhook Queue", metric: "waiting", value: 3, at: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}

	var last inbox.Inboxes
	done := func() bool {
		last = d.inboxes(t)
		og, sl := last.OpsGenie, last.Slack
		return og != nil && sl != nil && og.Creates >= 1 && og.Closed >= 1 && sl.Posts >= 1 && sl.Updates >= 1
	}
	waitEvery(t, 60*time.Second, 250*time.Millisecond, "an OpsGenie create and close and a Slack post and update", done, func() string {
		b, _ := json.MarshalIndent(last, "", "  ")
		return fmt.Sprintf("inboxes: %s\ndemo output:\n%s", b, d.out)
	})

	t.Logf("OpsGenie create and close, Slack post and edit after %s of wall time at 60×", time.Since(began).Round(100*time.Millisecond))

	// What the inboxes hold is what the notifiers sent: a closed alert
	// with a close note, and a Slack message edited in place.
	var closed *inbox.Alert
	for i, a := range last.OpsGenie.Alerts {
		if a.Status == "closed" {
			closed = &last.OpsGenie.Alerts[i]
			break
		}
	}
	if closed == nil || !strings.Contains(closed.Alias, "_") || closed.Priority == "" || closed.ClosedAt.IsZero() {
		t.Errorf("closed OpsGenie alert: %+v", closed)
	}
	edited := 0
	for _, m := range last.Slack.Messages {
		if m.Edits > 0 {
			edited++
			if m.Title == "" || m.State == "" {
				t.Errorf("edited Slack message without a header: %+v", m)
			}
		}
	}
	if edited == 0 {
		t.Errorf("no Slack message edited in place: %+v", last.Slack.Messages)
	}
	if out := d.out.String(); !strings.Contains(out, "pending → firing") || !strings.Contains(out, "→ oncall (opsgenie): create") {
		t.Errorf("the console shows no transitions:\n%s", out)
	}

	// A delivery is counted once the destination confirmed it (OpsGenie
	// through its request status), which may be a moment after the inbox
	// shows it: scrape until every series moved, or report those that did not.
	var after string
	stuck := func() (out []string) {
		for _, c := range demoMetrics {
			was, now := sumSeries(before, c.name, c.labels...), sumSeries(after, c.name, c.labels...)
			if now <= max(was, 0) {
				out = append(out, fmt.Sprintf("%s{%s} did not move: %v before, %v after", c.name, strings.Join(c.labels, ","), was, now))
			}
		}
		return out
	}
	waitEvery(t, 30*time.Second, 250*time.Millisecond, "the contract's metrics to move", func() bool {
		after = d.metricsText(t)
		return len(stuck()) == 0
	}, func() string { return strings.Join(stuck(), "\n") })
	if v := sumSeries(after, "queuewatch_genesys_stream_connected"); v != 1 {
		t.Errorf("queuewatch_genesys_stream_connected = %v, want 1", v)
	}
	// Gauges are present; their values go up and down with the day.
	for _, name := range []string{"queuewatch_alerts", "queuewatch_outbox_pending"} {
		if !strings.Contains(after, "# TYPE "+name+" gauge") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestDemoTakesAFreePortWhenTheAddressIsBusy starts two demos on one
// address: the second says it moved and serves elsewhere.
func TestDemoTakesAFreePortWhenTheAddressIsBusy(t *testing.T) {
	first := startDemo(t, DemoOptions{Queues: 2, Speed: 1, Seed: 1})
	busy := strings.TrimPrefix(first.info.URL, "http://")
	second := startDemo(t, DemoOptions{Queues: 2, Speed: 1, Seed: 1, Listen: busy})
	if second.info.URL == first.info.URL {
		t.Fatalf("both demos claim %s", busy)
	}
	if out := second.out.String(); !strings.Contains(out, busy+" is in use") {
		t.Errorf("the banner does not say the address was busy:\n%s", out)
	}
	resp, err := http.Get(second.info.URL + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /demo/ on the second demo: %s", resp.Status)
	}
}

// TestDemoStopsAfterDuration runs a short simulated span and checks that
// Demo returns on its own and says so.
func TestDemoStopsAfterDuration(t *testing.T) {
	var out syncBuffer
	opts := DemoOptions{Queues: 2, Speed: 600, Duration: time.Minute, Seed: 1, Listen: "127.0.0.1:0",
		Store: filepath.Join(t.TempDir(), "demo.db")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := Demo(ctx, opts, &out); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("Demo ran until the test's deadline instead of stopping after --duration")
	}
	if !strings.Contains(out.String(), "1m0s of simulated time played; stopped.") {
		t.Errorf("no closing line:\n%s", out.String())
	}
}

// demoMetrics are the contract's metric series that must move while the demo
// runs.
var demoMetrics = []struct {
	name   string
	labels []string
}{
	{"queuewatch_samples_received_total", []string{`source="poll"`}},
	{"queuewatch_samples_received_total", []string{`source="stream"`}},
	{"queuewatch_samples_received_total", []string{`source="webhook"`}},
	{"queuewatch_webhook_requests_total", []string{`result="accepted"`}},
	{"queuewatch_transitions_total", []string{`to="firing"`}},
	{"queuewatch_transitions_total", []string{`to="ok"`}},
	{"queuewatch_notifications_total", []string{`destination="oncall"`, `action="create"`, `result="sent"`}},
	{"queuewatch_notifications_total", []string{`destination="oncall"`, `action="resolve"`, `result="sent"`}},
	{"queuewatch_notifications_total", []string{`destination="cc-slack"`, `result="sent"`}},
	{"queuewatch_notification_latency_seconds_count", []string{`destination="oncall"`}},
	{"queuewatch_genesys_requests_total", []string{`code="200"`}},
}
