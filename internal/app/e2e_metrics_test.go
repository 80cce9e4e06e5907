package app

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

// scrape returns the value of one series of /metrics, or -1 when absent.
func scrape(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestMetricsMoveWithTraffic checks that the contract's metric names appear
// and move as a breach flows through.
func TestMetricsMoveWithTraffic(t *testing.T) {
	e := startE2E(t, `
  - name: sla_breach
    metric: service_level
    below: 80
    notify: [oncall, pd]`)
	addr := e.svc.Addr()
	if v := scrape(t, addr, `queuewatch_alerts{state="firing"}`); v != 0 {
		t.Fatalf("firing before any breach: %v", v)
	}
	now := time.Now().Add(-time.Minute)
	e.send("q-1", "Support", "service_level", 50, now)
	eventually(t, "the create to be sent", func() bool {
		return scrape(t, addr, `queuewatch_notifications_total{action="create",destination="oncall",result="sent"}`) == 1
	})
	for series, want := range map[string]float64{
		`queuewatch_samples_received_total{source="webhook"}`:             1,
		`queuewatch_webhook_requests_total{result="accepted"}`:            1,
		`queuewatch_transitions_total{rule="sla_breach",to="firing"}`:     1,
		`queuewatch_alerts{state="firing"}`:                               1,
		`queuewatch_notification_latency_seconds_count{destination="pd"}`: 1,
	} {
		eventually(t, series, func() bool { return scrape(t, addr, series) == want })
	}
	// OpsGenie down: the next breach stays owed and the gauge shows it.
	e.og.Faults.Add(faults.Fault{Status: 503, Times: -1})
	e.send("q-2", "Billing", "service_level", 40, now.Add(time.Second))
	eventually(t, "outbox_pending to show the owed create", func() bool {
		return scrape(t, addr, `queuewatch_outbox_pending{destination="oncall"}`) == 1
	})
	e.og.Faults.Clear()
	e.svc.dispatcher.Wake()
	if scrape(t, addr, "go_goroutines") <= 0 {
		t.Fatal("Go runtime metrics missing")
	}
}
