package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// TestEndToEndFromGenesys runs serve against the fake Genesys Cloud (backed by
// the simulator) with the real poller and streamer: the scripted lunch spike
// breaches its queue's own target and OpsGenie gets exactly one alert for it.
func TestEndToEndFromGenesys(t *testing.T) {
	start := time.Now().UTC()
	scenario := sim.DemoScenario(start, 4)
	model := sim.New(scenario)
	gen := fakegenesys.New(fakegenesys.Options{Sim: model, ClientID: "qw-client", ClientSecret: "qw-secret", HeartbeatInterval: time.Second})
	genURL := gen.Start(t)
	og := fakeog.New()
	ogURL := og.Start(t)
	spike := scenario.Incidents[0].QueueID

	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
store: sqlite:%s
webhook: {insecure: true}
genesys:
  api_url: %s
  login_url: %s
  client_id: qw-client
  client_secret: qw-secret
  poll_interval: 1s
  service_level_window: 5m
rules:
  - name: sla_breach
    metric: service_level
    below: target
    notify: [oncall]
destinations:
  - {name: oncall, type: opsgenie, url: %q, api_key: %q}
`, filepath.Join(t.TempDir(), "q.db"), genURL, genURL, ogURL, fakeog.DefaultKey)
	cfg, err := config.Parse("g.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()

	// Play the simulated day forward, 10 simulated seconds at a time, until
	// the lunch-spike queue pages.
	alias := spike + "_sla_breach"
	deadline := time.Now().Add(60 * time.Second)
	for {
		found := false
		for _, a := range og.Alerts() {
			if a.Alias == alias {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OpsGenie alert %s; alerts: %+v", alias, og.Alerts())
		}
		gen.Advance(10 * time.Second)
		time.Sleep(20 * time.Millisecond) // pace the simulation so the poller sees each step
	}
	creates := 0
	for _, a := range og.Alerts() {
		if a.Alias == alias {
			creates += a.Count
		}
	}
	if creates != 1 {
		t.Fatalf("alias %s created %d times", alias, creates)
	}
	// /readyz reports the Genesys sources.
	resp, err := http.Get("http://" + svc.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Genesys map[string]any `json:"genesys"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if body.Genesys == nil || body.Genesys["queues"] != float64(4) {
		t.Fatalf("readyz genesys: %+v", body.Genesys)
	}
	eventually(t, "the notifications websocket to connect", func() bool {
		return scrape(t, svc.Addr(), "queuewatch_genesys_stream_connected") == 1
	})
	if scrape(t, svc.Addr(), `queuewatch_genesys_requests_total{code="200",endpoint="observations"}`) <= 0 {
		t.Fatal("no Genesys requests counted")
	}
	if scrape(t, svc.Addr(), `queuewatch_samples_received_total{source="poll"}`) <= 0 {
		t.Fatal("no polled samples counted")
	}
}
