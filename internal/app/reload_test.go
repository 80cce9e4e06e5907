package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// reloadRule pages when the service level is below the given threshold.
func reloadRule(below string) string {
	return `  - name: sla
    metric: service_level
    below: ` + below + `
    notify: [oncall]`
}

// reloadPost makes an API request to the service at addr and returns the
// status and the decoded JSON body.
func reloadPost(t *testing.T, addr, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/-/reload", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST /-/reload answered %d with no JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// TestReloadAppliesConfiguration runs the service with reloads on: a
// changed rule applies after POST /-/reload and after a reload signal
// without a single refused or failed request meanwhile; an invalid file is
// refused with its file:line problems and changes nothing; the endpoint
// needs the API token.
func TestReloadAppliesConfiguration(t *testing.T) {
	h := newHarness(t)
	const token = "reload-test-token"
	path := filepath.Join(t.TempDir(), "queuewatch.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := e2eOpts{dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry}, top: "api_token: " + token}
	write(h.configYAML(reloadRule("50"), opts))
	load := func() (*config.Config, error) {
		return config.Load(path)
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- ServeReloading(ctx, ReloadOptions{Config: cfg, Load: load, Log: h.logger(t.Name()), Reload: reload, Listener: ln})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	waitFor(t, 20*time.Second, "the service to be ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, nil)

	// Requests keep flowing through every reload: none may be refused.
	var served, failed atomic.Int64
	var firstErr atomic.Value
	stopLoad := make(chan struct{})
	var loadWG sync.WaitGroup
	loadWG.Add(1)
	go func() {
		defer loadWG.Done()
		c := &http.Client{Timeout: 10 * time.Second}
		bg := time.Now().UTC().Add(-time.Hour)
		for {
			select {
			case <-stopLoad:
				return
			default:
			}
			resp, err := c.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
				}
			}
			if err == nil {
				// A webhook sample of another queue (never breaching): an
				// accepted POST is one the engine evaluated.
				bg = bg.Add(time.Millisecond)
				err = postEvents(c, addr, event{queue: queueID(2), metric: string(metric.ServiceLevel), value: 95, at: bg})
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				continue
			}
			served.Add(1)
		}
	}()

	q := queueID(1)
	key := alert.Key(q, "sla", "")
	at := time.Now().UTC().Add(-time.Minute)
	sample := func(v float64) {
		t.Helper()
		at = at.Add(time.Second)
		if err := postEvents(http.DefaultClient, addr, event{queue: q, metric: string(metric.ServiceLevel), value: v, at: at}); err != nil {
			t.Fatal(err)
		}
	}
	opened := func() bool {
		for _, a := range h.og.Alerts() {
			if a.Alias == key && a.Open() {
				return true
			}
		}
		return false
	}
	reloads := func(result string) float64 {
		return scrape(t, addr, `queuewatch_config_reloads_total{result="`+result+`"}`)
	}

	// 60 % is fine under the first rule (below 50). Another queue has a
	// sample 20 minutes old: a point of the dashboard's charts.
	sample(60)
	chartQ := queueID(3)
	if err := postEvents(http.DefaultClient, addr, event{queue: chartQ, metric: string(metric.ServiceLevel), value: 91,
		at: time.Now().UTC().Add(-20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := reloads("success"); got != 1 {
		t.Fatalf("reloads_total{success} %v at start, want 1 (the first load)", got)
	}

	// The endpoint needs the token.
	if code, _ := reloadPost(t, addr, ""); code != http.StatusUnauthorized {
		t.Errorf("POST /-/reload without a token: %d, want 401", code)
	}
	if code, _ := reloadPost(t, addr, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("POST /-/reload with a wrong token: %d, want 401", code)
	}

	// An invalid file is refused with file:line: key problems and the
	// running configuration stays.
	bad := h.configYAML(reloadRule("70"), opts) + "bogus_key: 1\n"
	write(bad)
	code, body := reloadPost(t, addr, token)
	if code != http.StatusBadRequest {
		t.Fatalf("POST /-/reload of an invalid file: %d %v, want 400", code, body)
	}
	line := strings.Count(bad, "\n") // bogus_key is the last line
	reasons, _ := json.Marshal(body["reasons"])
	if want := filepath.Base(path); !strings.Contains(string(reasons), want) || !strings.Contains(string(reasons), "bogus_key") ||
		!strings.Contains(string(reasons), ":"+strconv.Itoa(line)+":") {
		t.Errorf("reasons %s do not name %s line %d and the key", reasons, want, line)
	}
	if got := scrape(t, addr, "queuewatch_config_last_reload_successful"); got != 0 {
		t.Errorf("last_reload_successful %v after a failed reload, want 0", got)
	}
	sample(60) // still the first rule: nothing pages
	if got := reloads("failure"); got != 1 {
		t.Errorf("reloads_total{failure} %v, want 1", got)
	}

	// A valid change applies: 60 % now breaches (below 70).
	write(h.configYAML(reloadRule("70"), opts))
	if code, body := reloadPost(t, addr, token); code != http.StatusAccepted {
		t.Fatalf("POST /-/reload: %d %v, want 202", code, body)
	}
	waitFor(t, 30*time.Second, "the reload to apply", func() bool { return reloads("success") == 2 }, nil)
	if got := scrape(t, addr, "queuewatch_config_last_reload_successful"); got != 1 {
		t.Errorf("last_reload_successful %v after a good reload, want 1", got)
	}
	if opened() {
		t.Fatal("an alert opened before any sample breached the new rule")
	}
	// The charts carried over: the new service's board shows the point
	// from before the reload next to a new one.
	if err := postEvents(http.DefaultClient, addr, event{queue: chartQ, metric: string(metric.ServiceLevel), value: 92,
		at: time.Now().UTC().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if pts := chartPoints(t, addr, chartQ, "service_level"); len(pts) != 2 || pts[0][1] != 91 || pts[1][1] != 92 {
		t.Errorf("service_level chart of %s after the reload: %v, want the points 91 (before) and 92 (after)", chartQ, pts)
	}
	sample(60)
	waitFor(t, 30*time.Second, "the OpsGenie alert of the new rule", opened, nil)

	// A dashboard's event stream: it has seen the alert open.
	stream := openStreamAt(t, addr, "", "0")
	seen := stream.next(t, 30*time.Second, "transition", key)
	for drained := false; !drained; {
		select {
		case m, ok := <-stream.events:
			if !ok {
				t.Fatal("the event stream ended before the reload")
			}
			seen = m
		case <-time.After(200 * time.Millisecond):
			drained = true
		}
	}

	// The reload signal: back to below 50, so the open alert resolves on
	// the next sample (the series is resumed from the store).
	write(h.configYAML(reloadRule("50")+"\n    clear: 55", opts))
	reload <- struct{}{}
	waitFor(t, 30*time.Second, "the signalled reload to apply", func() bool { return reloads("success") == 3 }, nil)
	if !stream.ended(30 * time.Second) {
		t.Fatal("the event stream did not end at the reload")
	}
	// The dashboard reconnects after the last event it saw: the new
	// service goes on numbering, so there is nothing to resync.
	resumed := openStreamAt(t, addr, "", seen.id)
	sample(60)
	waitFor(t, 30*time.Second, "the alert to close", func() bool { return !opened() }, nil)
	// Events the stream missed come first (such as the create's delivery
	// outcome), then the resolve; never a resync.
	prevID, _ := strconv.ParseUint(seen.id, 10, 64)
	for resolved := false; !resolved; {
		select {
		case m, ok := <-resumed.events:
			if !ok {
				t.Fatal("the resumed event stream ended")
			}
			id, _ := strconv.ParseUint(m.id, 10, 64)
			if m.typ == "resync" || id <= prevID {
				t.Fatalf("after resuming at %s: event %s %s %s, want only newer events and no resync", seen.id, m.id, m.typ, m.data)
			}
			prevID = id
			resolved = m.typ == "transition" && strings.Contains(m.data, key) && strings.Contains(m.data, `"action":"resolve"`)
		case <-time.After(30 * time.Second):
			t.Fatal("no resolve event on the resumed stream")
		}
	}

	close(stopLoad)
	loadWG.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed across the reloads; the first: %v", failed.Load(), failed.Load()+served.Load(), firstErr.Load())
	}
	if served.Load() == 0 {
		t.Error("no request was served during the test")
	}
	t.Logf("%d health checks and webhook posts served across 2 reloads, none refused", served.Load())
}

// chartPoints returns the board's recent points of one queue's metric.
func chartPoints(t *testing.T, addr, queue, name string) [][2]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/queues")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Queues []struct {
			QueueID string                  `json:"queue_id"`
			History map[string][][2]float64 `json:"history"`
		} `json:"queues"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, q := range body.Queues {
		if q.QueueID == queue {
			return q.History[name]
		}
	}
	t.Fatalf("queue %s is not on the board", queue)
	return nil
}
