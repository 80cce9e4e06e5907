package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// readyzBody is the part of /readyz the outage tests read.
type readyzBody struct {
	Status        string            `json:"status"`
	Checks        map[string]string `json:"checks"`
	OutboxPending map[string]int    `json:"outbox_pending"`
	Genesys       struct {
		LastPollError    string `json:"last_poll_error"`
		StreamConnected  bool   `json:"stream_connected"`
		StreamReconnects int    `json:"stream_reconnects"`
	} `json:"genesys"`
}

func readyz(t *testing.T, addr string) (int, readyzBody) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyzBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestE2EGenesysOutage runs serve against the fake Genesys Cloud with the
// poller and the websocket streamer, then breaks Genesys: every token
// request fails with 503 (after the current token is revoked), analytics
// queries answer 429 with Retry-After, and the websocket is cut every
// 300 ms. Meanwhile the service keeps serving /readyz (200, Genesys
// "degraded" with the poll error), keeps alerting on webhook samples, and
// shows the trouble in metrics. When Genesys comes back, polling and the
// stream recover by themselves.
func TestE2EGenesysOutage(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC()
	gen := fakegenesys.New(fakegenesys.Options{Sim: sim.New(sim.DemoScenario(start, 4)), ClientID: "qw-client",
		ClientSecret: "qw-secret", HeartbeatInterval: time.Second})
	genURL := gen.Start(t)
	og := fakeog.New()
	ogURL := og.Start(t)
	text := fmt.Sprintf(`
listen: 127.0.0.1:0
store: sqlite:%s
webhook: {secret: %s}
genesys:
  api_url: %s
  login_url: %s
  client_id: qw-client
  client_secret: qw-secret
  poll_interval: 1s
rules:
  - name: long_wait
    metric: longest_wait
    above: 120
    queues: ["webhook-q1"]
    notify: [oncall]
destinations:
  - {name: oncall, type: opsgenie, url: %q, api_key: %q, retry: {initial: 10ms, max: 100ms}}
`, filepath.Join(t.TempDir(), "q.db"), e2eSecret, genURL, genURL, ogURL, fakeog.DefaultKey)
	cfg, err := config.Parse("outage.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{tb: t}
	svc, err := Start(context.Background(), cfg, h.logger(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	runService(t, svc)
	addr := svc.Addr()
	pollSamples := func() float64 { return scrape(t, addr, `queuewatch_samples_received_total{source="poll"}`) }
	state := func() string {
		_, b := readyz(t, addr)
		return fmt.Sprintf("readyz %+v\nlogs:\n%s", b, h.logs.String())
	}

	waitFor(t, 30*time.Second, "Genesys to be polled and streamed", func() bool {
		code, b := readyz(t, addr)
		return code == http.StatusOK && b.Checks["genesys"] == "ok" && b.Genesys.StreamConnected && pollSamples() > 0
	}, state)
	_, before := readyz(t, addr)

	// The token endpoint fails (after the current token is revoked) three
	// times, then works again.
	gen.ExpireTokens()
	gen.FailToken(3, http.StatusServiceUnavailable, 0)
	waitFor(t, 30*time.Second, "/readyz to report the token failures", func() bool {
		code, b := readyz(t, addr)
		return code == http.StatusOK && strings.HasPrefix(b.Checks["genesys"], "degraded") &&
			strings.Contains(b.Genesys.LastPollError, "token request refused: HTTP 503")
	}, state)
	if v := scrape(t, addr, `queuewatch_genesys_requests_total{code="503",endpoint="token"}`); v < 1 {
		t.Errorf("token failures in metrics: %v", v)
	}
	waitFor(t, 60*time.Second, "polling to recover from the token outage by itself", func() bool {
		_, b := readyz(t, addr)
		return b.Checks["genesys"] == "ok"
	}, state)

	// Analytics answers 429 with Retry-After, and the websocket is cut
	// every 2 s.
	gen.RateLimitAnalytics(-1, time.Second)
	stopDrops := make(chan struct{})
	dropsDone := make(chan struct{})
	go func() {
		defer close(dropsDone)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopDrops:
				return
			case <-tick.C:
				gen.DropSockets()
			}
		}
	}()
	waitFor(t, 30*time.Second, "/readyz to report the rate limiting and the stream's reconnects", func() bool {
		code, b := readyz(t, addr)
		return code == http.StatusOK && strings.HasPrefix(b.Checks["genesys"], "degraded") && strings.Contains(b.Genesys.LastPollError, "429") &&
			b.Genesys.StreamReconnects > before.Genesys.StreamReconnects
	}, state)
	if v := max(scrape(t, addr, `queuewatch_genesys_requests_total{code="429",endpoint="observations"}`), 0) +
		max(scrape(t, addr, `queuewatch_genesys_requests_total{code="429",endpoint="aggregates"}`), 0); v < 1 {
		t.Errorf("429s in metrics: %v", v)
	}

	// Alerting goes on through the webhook while Genesys is down.
	if err := postEvents(http.DefaultClient, addr, event{queue: "webhook-q1", metric: "longest_wait", value: 300, at: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the webhook breach to reach OpsGenie during the outage", func() bool {
		return len(og.Alerts()) == 1
	}, state)

	// Genesys comes back; nobody touches the service.
	close(stopDrops)
	<-dropsDone
	gen.Faults.Clear()
	recovered := pollSamples()
	waitFor(t, 60*time.Second, "polling and the stream to recover by themselves", func() bool {
		code, b := readyz(t, addr)
		return code == http.StatusOK && b.Checks["genesys"] == "ok" && b.Genesys.StreamConnected && pollSamples() > recovered
	}, state)
	if v := scrape(t, addr, "queuewatch_genesys_stream_connected"); v != 1 {
		t.Errorf("queuewatch_genesys_stream_connected = %v after recovery", v)
	}
}

// TestE2EDestinationOutageInReadyz: while OpsGenie answers 503, /readyz
// stays 200 but names the failing destination, its failures and what it is
// owed; once OpsGenie is back the owed create goes out and /readyz is
// clear again, with nobody touching the service.
func TestE2EDestinationOutageInReadyz(t *testing.T) {
	t.Parallel()
	h := startE2EWith(t, rules(waitRule, "oncall"), e2eOpts{dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry}})
	addr := h.svc.Addr()
	state := func() string {
		_, b := readyz(t, addr)
		return fmt.Sprintf("readyz %+v\noutbox:\n%s", b, h.outboxSummary())
	}
	h.og.Faults.Add(faults.Fault{Status: http.StatusServiceUnavailable, Times: -1})
	h.send(event{queue: queueID(1), metric: "longest_wait", value: 300, at: time.Now()})
	waitFor(t, 15*time.Second, "/readyz to name the failing destination", func() bool {
		code, b := readyz(t, addr)
		return code == http.StatusOK && strings.HasPrefix(b.Checks["destinations"], "degraded: oncall:") &&
			strings.Contains(b.Checks["destinations"], "server_error") && b.OutboxPending["oncall"] == 1
	}, state)
	h.og.Faults.Clear()
	waitFor(t, 15*time.Second, "the create to go out and /readyz to clear", func() bool {
		_, b := readyz(t, addr)
		return b.Checks["destinations"] == "ok" && b.OutboxPending["oncall"] == 0 && len(h.og.Alerts()) == 1
	}, state)
}
