package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/source/webhook"
)

// These tests hold the service to bounded resources over real sockets: an
// endless stream of made-up queue ids, and slow or idle clients.

// TestE2EWebhookUnknownQueueFloodIsBounded: once the webhook tracks its
// limit of distinct queue ids, samples of further queues are answered 200
// "ignored" with the reason, counted in /metrics and warned about once per
// interval, and the service's series and heap stop growing.
func TestE2EWebhookUnknownQueueFloodIsBounded(t *testing.T) {
	h := startE2EWith(t, rules(waitRule, "tooling"), e2eOpts{dests: []string{"tooling"}})
	const batch = 500
	at := time.Now()
	post := func(first int) (int, string) {
		evs := make([]event, batch)
		for i := range evs {
			evs[i] = event{queue: fmt.Sprintf("bogus-%08d", first+i), metric: "longest_wait", value: 1, at: at}
		}
		// postEvents refuses anything but 202; the answers past the limit
		// are 200, so look at them directly.
		err := postEvents(http.DefaultClient, h.svc.Addr(), evs...)
		if err == nil {
			return http.StatusAccepted, ""
		}
		code, reason := 0, err.Error()
		fmt.Sscanf(reason, "webhook answered %d", &code)
		return code, reason
	}
	// Fill the limit: every sample is evaluated.
	for first := 0; first < webhook.DefaultMaxQueues; first += batch {
		if code, msg := post(first); code != http.StatusAccepted {
			t.Fatalf("queues %d…: %d %s", first, code, msg)
		}
	}
	series, _, err := h.svc.engine.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != webhook.DefaultMaxQueues {
		t.Fatalf("%d series after %d queues, want one each", len(series), webhook.DefaultMaxQueues)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	// Beyond it: 40,000 more made-up queues are refused, not tracked.
	const flood = 40_000
	for first := webhook.DefaultMaxQueues; first < webhook.DefaultMaxQueues+flood; first += batch {
		code, msg := post(first)
		if code != http.StatusOK || !strings.Contains(msg, `"status":"ignored"`) || !strings.Contains(msg, "queue limit reached") {
			t.Fatalf("queues %d… past the limit: %d %s, want 200 ignored with the reason", first, code, msg)
		}
	}
	after := heap()
	series, _, err = h.svc.engine.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != webhook.DefaultMaxQueues {
		t.Errorf("%d series after the flood, want still %d", len(series), webhook.DefaultMaxQueues)
	}
	// The admitted 10,000 queues cost several MiB; 40,000 refused ones
	// must cost next to nothing (the slack covers other tests' garbage).
	if grew := int64(after) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d KiB over %d refused queues", grew>>10, flood)
	}
	addr := h.svc.Addr()
	if got := scrape(t, addr, "queuewatch_webhook_queues"); got != webhook.DefaultMaxQueues {
		t.Errorf("queuewatch_webhook_queues = %v, want %d", got, webhook.DefaultMaxQueues)
	}
	if got := scrape(t, addr, "queuewatch_webhook_dropped_samples_total"); got != flood {
		t.Errorf("queuewatch_webhook_dropped_samples_total = %v, want %d", got, flood)
	}
	if got := scrape(t, addr, `queuewatch_webhook_requests_total{result="ignored"}`); got != flood/batch {
		t.Errorf(`queuewatch_webhook_requests_total{result="ignored"} = %v, want %d`, got, flood/batch)
	}
	// A known queue still gets through.
	h.send(event{queue: "bogus-00000001", metric: "longest_wait", value: 2, at: at.Add(time.Second)})
	if n := strings.Count(h.logs.String(), "webhook queue limit reached"); n != 1 {
		t.Errorf("the queue limit was warned about %d times within a minute, want once:\n%s", n, h.logs.String())
	}
}

// slowServer starts a service whose HTTP timeouts are scaled down from
// serve's (10 s for headers, 30 s for the whole request) so that slow
// clients are cut off within the test.
func slowServer(t *testing.T) *Service {
	t.Helper()
	h := newHarness(t)
	cfg := h.config(rules(waitRule, "tooling"), e2eOpts{dests: []string{"tooling"}})
	svc, err := Start(context.Background(), cfg, h.logger(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if svc.srv.ReadHeaderTimeout <= 0 || svc.srv.ReadTimeout <= 0 || svc.srv.IdleTimeout <= 0 || svc.srv.MaxHeaderBytes <= 0 {
		t.Fatalf("serve's HTTP server lacks a limit: %+v", svc.srv)
	}
	svc.srv.ReadHeaderTimeout, svc.srv.ReadTimeout, svc.srv.IdleTimeout = 200*time.Millisecond, time.Second, time.Second
	runService(t, svc)
	h.svc = svc
	return svc
}

// runService runs a started service until the test ends, then stops it
// and fails the test if it did not shut down cleanly.
func runService(t *testing.T, svc *Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

// drip writes the request head, then one byte of more every 50 ms for up
// to 10 s, and reports whether the server ended the connection (closed it
// or answered) before the drip ran out, and what it answered.
func drip(t *testing.T, addr, head, more string) (cut bool, answer string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ended := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server answers and closes, or closes
		ended <- string(b)
	}()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		select {
		case a := <-ended:
			return true, a
		case <-time.After(50 * time.Millisecond): // the drip's pace
		}
		if _, err := io.WriteString(conn, more[i%len(more):i%len(more)+1]); err != nil {
			return true, <-ended
		}
	}
	return false, ""
}

// TestServerCutsOffSlowClients: a client sending its header or its body a
// byte at a time is cut off by the server's timeouts, an oversized header
// is refused, and many idle half-open clients do not keep a normal request
// from being served.
func TestServerCutsOffSlowClients(t *testing.T) {
	svc := slowServer(t)
	addr := svc.Addr()

	t.Run("slow header", func(t *testing.T) {
		cut, _ := drip(t, addr, "POST /webhook/genesys HTTP/1.1\r\nHost: q\r\n", "X-Slow: aaaaaaaa\r\n")
		if !cut {
			t.Fatal("a client dripping its header for 10 s was not cut off")
		}
	})
	t.Run("slow body", func(t *testing.T) {
		head := "POST /webhook/genesys HTTP/1.1\r\nHost: q\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
		cut, answer := drip(t, addr, head, `{"event_id":"x"}`)
		if !cut {
			t.Fatal("a client dripping its body for 10 s was not cut off")
		}
		if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 4") {
			t.Errorf("a cut-off body was answered %q", firstLine(answer))
		}
	})
	t.Run("oversized header", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 2*maxHeaderBytes))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a %d KiB header was answered %d, want 431", 2*maxHeaderBytes>>10, resp.StatusCode)
		}
	})
	t.Run("idle clients do not block others", func(t *testing.T) {
		const idle = 64
		for range idle {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "POST /webhook/genesys HTTP/1.1\r\nHost: q\r\n"); err != nil {
				t.Fatal(err)
			}
		}
		evs := event{queue: queueID(1), metric: "longest_wait", value: 1, at: time.Now()}
		if err := postEvents(http.DefaultClient, addr, evs); err != nil {
			t.Fatalf("with %d idle clients holding connections: %v", idle, err)
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || body.Status != "ready" {
			t.Fatalf("/readyz answered %d %q with idle clients connected", resp.StatusCode, body.Status)
		}
	})
}

func firstLine(s string) string {
	line, _, _ := bufio.NewReader(strings.NewReader(s)).ReadLine()
	return string(line)
}
