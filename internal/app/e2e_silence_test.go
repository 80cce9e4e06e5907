package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/store"
)

const apiTestToken = "e2e-api-token"

// slaRule pages as soon as a queue's service level drops below 80%.
const slaRule = `
  - name: sla_breach
    metric: service_level
    below: 80
    clear: 85
    priority: P1
    flap: {transitions: 0}
    notify: [%[1]s]`

// api calls the service's JSON API with the test token and decodes the
// answer into out; it returns the status.
func (h *harness) api(method, path, body string, out any) int {
	h.tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+h.svc.Addr()+path, rd)
	if err != nil {
		h.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiTestToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.tb.Fatalf("%s %s answered %d, not JSON: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// ogCreates returns the aliases OpsGenie accepted a create for.
func ogCreates(og *fakeog.Server) []string {
	var out []string
	for _, op := range accepted(ogOps(og.Requests())) {
		if op.Op == "create" {
			out = append(out, op.Alias)
		}
	}
	return out
}

// TestE2ESilenceHoldsPageUntilExpired runs the real service: a silence made
// through the API keeps a breach from paging OpsGenie while another queue
// pages; expiring it sends the page of the breach, still open, at once.
func TestE2ESilenceHoldsPageUntilExpired(t *testing.T) {
	h := startE2EWith(t, rules(slaRule, "oncall"), e2eOpts{dests: []string{"oncall"}, top: "api_token: " + apiTestToken})
	var sil struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if code := h.api("POST", "/api/v1/silences", `{"queues":["Sales*"],"duration":"1h","comment":"carrier outage"}`, &sil); code != 201 || sil.State != "active" {
		t.Fatalf("create silence answered %d %+v", code, sil)
	}
	sales, support := queueID(1), queueID(2)
	now := time.Now()
	h.send(event{queue: sales, name: "Sales EMEA", metric: "service_level", value: 50, at: now})
	h.send(event{queue: support, name: "Support", metric: "service_level", value: 60, at: now})

	// Support pages; by the time it has, Sales would have too.
	waitFor(t, 10*time.Second, "Support's create at OpsGenie", func() bool {
		return strings.Join(ogCreates(h.og), ",") == support+"_sla_breach"
	}, func() string { return strings.Join(ogCreates(h.og), ",") + "\n" + h.outboxSummary() })
	if ds := h.deliveriesOf(store.DeliveryFilter{Key: sales + "_sla_breach"}); len(ds) != 0 {
		t.Fatalf("the silenced breach owes %d deliveries", len(ds))
	}
	var alerts struct {
		Alerts []struct {
			Key        string   `json:"key"`
			State      string   `json:"state"`
			Notified   bool     `json:"notified"`
			Held       string   `json:"held"`
			SilencedBy []string `json:"silenced_by"`
		} `json:"alerts"`
	}
	h.api("GET", "/api/v1/alerts", "", &alerts)
	var held bool
	for _, a := range alerts.Alerts {
		if a.Key == sales+"_sla_breach" {
			held = a.State == "firing" && !a.Notified && strings.Contains(a.Held, "carrier outage") && len(a.SilencedBy) == 1 && a.SilencedBy[0] == sil.ID
		}
	}
	if !held {
		t.Fatalf("alerts = %+v, want Sales firing, held by silence %s", alerts.Alerts, sil.ID)
	}

	// Evaluation went on meanwhile: a worse value is recorded, still no page.
	h.send(event{queue: sales, name: "Sales EMEA", metric: "service_level", value: 40, at: now.Add(time.Second)})
	if code := h.api("DELETE", "/api/v1/silences/"+sil.ID, "", &sil); code != 200 || sil.State != "expired" {
		t.Fatalf("expire answered %d %+v", code, sil)
	}
	waitFor(t, 10*time.Second, "Sales's create at OpsGenie once the silence ended", func() bool {
		return strings.Contains(strings.Join(ogCreates(h.og), ","), sales+"_sla_breach")
	}, func() string { return strings.Join(ogCreates(h.og), ",") + "\n" + h.outboxSummary() })
	for _, a := range h.og.Alerts() {
		if a.Alias == sales+"_sla_breach" && !a.Open() {
			t.Errorf("Sales's alert is %s, want open: the breach is still on", a.Status)
		}
	}
}
