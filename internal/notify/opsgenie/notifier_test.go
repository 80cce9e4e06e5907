package opsgenie

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/alert"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
)

func TestCreate(t *testing.T) {
	f := newFixture(t, nil)
	r := f.mustSend(t, transition(alert.ActionCreate))
	alerts := f.fake.Alerts()
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v", alerts)
	}
	a := alerts[0]
	if r.Ref != a.ID || r.Code != 202 || !strings.Contains(r.Note, "Created alert") {
		t.Errorf("receipt %+v, alert id %s", r, a.ID)
	}
	want := "ALARM: Queue Support - Voice service_level is 70% (threshold 80%)"
	if a.Message != want {
		t.Errorf("message %q, want %q", a.Message, want)
	}
	if a.Alias != "3f0c8d1e-0000-4000-8000-000000000001_sla_breach" || a.Priority != "P2" || a.Entity != "Support - Voice" || a.Source != "queuewatch" {
		t.Errorf("alert %+v", a)
	}
	for _, s := range []string{"Queue: Support - Voice\n", "Current value: 70%\n", "Threshold: 80% (clears at 85%)\n", "Queue target: 80%\n",
		"Breach started: 2026-03-30T05:36:00Z\n", "https://apps.mypurecloud.com/directory/#/admin/routing/queues/3f0c8d1e-0000-4000-8000-000000000001"} {
		if !strings.Contains(a.Description, s) {
			t.Errorf("description lacks %q:\n%s", s, a.Description)
		}
	}
	wantDetails := map[string]string{
		"queue_id": "3f0c8d1e-0000-4000-8000-000000000001", "queue_name": "Support - Voice", "metric": "service_level",
		"value": "70%", "threshold": "80%", "target": "80%", "rule": "sla_breach", "priority": "P2",
		"episode_id": "3f0c8d1e-0000-4000-8000-000000000001_sla_breach@1774848960000", "started_at": "2026-03-30T05:36:00Z",
		"genesys_admin_url": "https://apps.mypurecloud.com/directory/#/admin/routing/queues/3f0c8d1e-0000-4000-8000-000000000001",
		"dashboard_url":     "https://qw.example.com/?alert=3f0c8d1e-0000-4000-8000-000000000001_sla_breach",
	}
	for k, v := range wantDetails {
		if a.Details[k] != v {
			t.Errorf("details[%s] = %q, want %q", k, a.Details[k], v)
		}
	}
	if got := strings.Join(a.Tags, ","); got != "queuewatch,contact-center,sla_breach,service_level" {
		t.Errorf("tags %s", got)
	}
	if len(a.Responders) != 2 || a.Responders[1] != (fake.Responder{Type: "user", Username: "ann@example.com"}) {
		t.Errorf("responders %+v", a.Responders)
	}
	req := f.fake.Requests()[0]
	if req.Method != "POST" || req.Path != "/v2/alerts" || req.Auth != "GenieKey ****5555" {
		t.Errorf("request %+v", req)
	}
}

func TestUpdates(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*alert.Transition)
		priority  string
		note      string
		requests  []string
		wantNotes int
	}{
		{
			name: "priority change",
			edit: func(tr *alert.Transition) {
				tr.PrevPriority, tr.Priority, tr.Value, tr.Reason = alert.P2, alert.P1, 55, "priority P2 → P1"
			},
			priority: "P1",
			note:     "Priority changed from P2 to P1: service_level is 55% (threshold 80%).",
			requests: []string{"PUT /v2/alerts/3f0c8d1e-0000-4000-8000-000000000001_sla_breach/priority", "POST /v2/alerts/3f0c8d1e-0000-4000-8000-000000000001_sla_breach/notes"},
		},
		{
			name: "staleness note",
			edit: func(tr *alert.Transition) {
				tr.Reason, tr.Note = "no data for 5m0s", "No samples for 5m0s; the figures may be stale."
			},
			priority: "P2",
			note:     "No samples for 5m0s; the figures may be stale. Now service_level is 70% (threshold 80%).",
			requests: []string{"POST /v2/alerts/3f0c8d1e-0000-4000-8000-000000000001_sla_breach/notes"},
		},
		{
			name:     "data received again",
			edit:     func(tr *alert.Transition) { tr.Reason, tr.Note = "data received again", "Samples are arriving again." },
			priority: "P2",
			note:     "Samples are arriving again.",
			requests: []string{"POST /v2/alerts/3f0c8d1e-0000-4000-8000-000000000001_sla_breach/notes"},
		},
		{
			name:     "bare reason",
			edit:     func(tr *alert.Transition) { tr.Reason = "flapping" },
			priority: "P2",
			note:     "Update: flapping; service_level is 70% (threshold 80%).",
			requests: []string{"POST /v2/alerts/3f0c8d1e-0000-4000-8000-000000000001_sla_breach/notes"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.mustSend(t, transition(alert.ActionCreate))
			before := len(f.fake.Requests())
			tr := transition(alert.ActionUpdate)
			tc.edit(&tr)
			r := f.mustSend(t, tr)
			if r.Ref != "" || r.Code != 202 {
				t.Errorf("receipt %+v", r)
			}
			a := f.fake.Alerts()[0]
			if a.Priority != tc.priority {
				t.Errorf("priority %s, want %s", a.Priority, tc.priority)
			}
			if last := a.Notes[len(a.Notes)-1]; !strings.HasPrefix(last.Note, tc.note) || last.User != "queuewatch" || last.Source != "queuewatch" {
				t.Errorf("note %+v, want prefix %q", last, tc.note)
			}
			var got []string
			for _, rq := range f.fake.Requests()[before:] {
				if !strings.Contains(rq.Path, "/requests/") {
					got = append(got, rq.Method+" "+rq.Path)
					if rq.Query != "identifierType=alias" {
						t.Errorf("query %q", rq.Query)
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.requests, "\n") {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.requests, "\n"))
			}
		})
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t, nil)
	f.mustSend(t, transition(alert.ActionCreate))
	r := f.mustSend(t, resolved())
	if !strings.Contains(r.Note, "Closed alert") {
		t.Errorf("receipt %+v", r)
	}
	a := f.fake.Alerts()[0]
	if a.Status != "closed" || a.ClosedBy != "queuewatch" {
		t.Fatalf("alert %+v", a)
	}
	want := "Queue Support - Voice service_level restored to 86% (clears at 85%). The breach lasted 12m0s; worst value 62%."
	if got := a.Notes[len(a.Notes)-1].Note; got != want {
		t.Errorf("close note %q\nwant %q", got, want)
	}
	var body map[string]string
	last := f.fake.Requests()
	for _, rq := range last {
		if strings.HasSuffix(rq.Path, "/close") {
			if rq.Query != "identifierType=alias" {
				t.Errorf("close query %q", rq.Query)
			}
			if err := json.Unmarshal([]byte(rq.Body), &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if body["source"] != "queuewatch" || body["user"] != "queuewatch" || body["note"] != want {
		t.Errorf("close body %v", body)
	}
}

func TestResolveOfMissingAlertIsDone(t *testing.T) {
	f := newFixture(t, nil)
	r, err := f.send(t, resolved())
	if err != nil {
		t.Fatal(err)
	}
	if r.Note != "nothing to close: Alert does not exist" || r.Ref != "" {
		t.Fatalf("receipt %+v", r)
	}
}

func TestDedup(t *testing.T) {
	f := newFixture(t, nil)
	r1 := f.mustSend(t, transition(alert.ActionCreate))
	r2 := f.mustSend(t, transition(alert.ActionCreate)) // a retried create
	a := f.fake.Alerts()
	if len(a) != 1 || a[0].Count != 2 || r1.Ref != r2.Ref {
		t.Fatalf("creating twice while open: %+v (refs %s %s)", a, r1.Ref, r2.Ref)
	}
	f.mustSend(t, resolved())
	r3 := f.mustSend(t, transition(alert.ActionCreate))
	a = f.fake.Alerts()
	if len(a) != 2 || a[0].Status != "closed" || a[1].Status != "open" || a[1].Count != 1 || r3.Ref == r1.Ref {
		t.Fatalf("create after close: %+v", a)
	}
}

func TestAliasEncoding(t *testing.T) {
	tests := []struct{ name, key, wirePath string }{
		{"spaces", "queue one_sla breach", "/v2/alerts/queue%20one_sla%20breach/close"},
		{"slash", "billing/de_sla", "/v2/alerts/billing%2Fde_sla/close"},
		{"query and fragment", "a?b#c%d_r", "/v2/alerts/a%3Fb%23c%25d_r/close"},
		{"unicode", "kö_sla", "/v2/alerts/k%C3%B6_sla/close"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			cr := transition(alert.ActionCreate)
			cr.Key = tc.key
			f.mustSend(t, cr)
			rs := resolved()
			rs.Key = tc.key
			f.mustSend(t, rs)
			a := f.fake.Alerts()
			if len(a) != 1 || a[0].Alias != tc.key || a[0].Status != "closed" {
				t.Fatalf("alerts %+v", a)
			}
			found := false
			for _, rq := range f.fake.Requests() {
				found = found || rq.Path == tc.wirePath
			}
			if !found {
				t.Errorf("no request to %s: %+v", tc.wirePath, f.fake.Requests())
			}
			if u, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(tc.wirePath, "/v2/alerts/"), "/close")); u != tc.key {
				t.Errorf("wire path does not decode to the key: %q", u)
			}
		})
	}
}

func TestJSM(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Type = "jsm"
		c.BaseURL += fake.JSMPrefix
	})
	f.mustSend(t, transition(alert.ActionCreate))
	f.mustSend(t, resolved())
	a := f.fake.Alerts()
	if len(a) != 1 || a[0].Integration != "jsm" || a[0].Status != "closed" {
		t.Fatalf("alerts %+v", a)
	}
	for _, rq := range f.fake.Requests() {
		if !strings.HasPrefix(rq.Path, "/jsm/ops/integration/v2/") {
			t.Errorf("request outside the JSM API: %s", rq.Path)
		}
	}
	n, err := New(Config{Type: "jsm", APIKey: "k"}, nil)
	if err != nil || n.base != JSMURL {
		t.Fatalf("default JSM URL: %v %v", n, err)
	}
}

func TestUnsupportedAction(t *testing.T) {
	f := newFixture(t, nil)
	tr := transition(alert.ActionNone)
	_, err := f.send(t, tr)
	if ne := asNotifyError(t, err); ne.Retryable {
		t.Fatalf("must be permanent: %v", ne)
	}
	tr = transition(alert.ActionCreate)
	tr.Key = ""
	d := delivery(tr)
	d.Key = ""
	if _, err := f.n.Notify(t.Context(), d, nil); err == nil || asNotifyError(t, err).Retryable {
		t.Fatalf("a delivery without key must fail for good: %v", err)
	}
}
