package pagerduty

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

const key = "0123456789abcdef0123456789abcdef"

type answer struct {
	code       int
	retryAfter string
	body       map[string]any
}

func post(t *testing.T, url, body string) answer {
	t.Helper()
	resp, err := http.Post(url+"/v2/enqueue", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return a
}

func trigger(k, dedup, severity, summary string) string {
	return fmt.Sprintf(`{"routing_key":%q,"event_action":"trigger","dedup_key":%q,
		"payload":{"summary":%q,"source":"queuewatch","severity":%q,"timestamp":"2015-07-17T08:42:58.315+0000"},
		"links":[{"href":"https://example.invalid/q","text":"Queue"}]}`, k, dedup, summary, severity)
}

func followUp(k, action, dedup string) string {
	return fmt.Sprintf(`{"routing_key":%q,"event_action":%q,"dedup_key":%q}`, k, action, dedup)
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		body   string
		status string
		errs   string // substring of errors[0]
	}{
		{"not JSON", nil, `{"routing_key":`, "Unrecognized object", "JSON parse error"},
		{"no routing key", nil, `{"event_action":"resolve","dedup_key":"x"}`, "invalid event", "wrong length"},
		{"short routing key", nil, followUp("abc", "resolve", "x"), "invalid event", "should be 32 characters"},
		{"unknown routing key", []string{strings.Repeat("z", 32)}, followUp(key, "resolve", "x"), "invalid event", "Invalid routing key"},
		{"bad action", nil, followUp(key, "close", "x"), "invalid event", "'event_action' is invalid"},
		{"resolve without dedup_key", nil, followUp(key, "resolve", ""), "invalid event", "'dedup_key' is missing"},
		{"acknowledge without dedup_key", nil, followUp(key, "acknowledge", ""), "invalid event", "'dedup_key' is missing"},
		{"trigger without payload", nil, followUp(key, "trigger", "x"), "invalid event", "'payload' is missing"},
		{"trigger without summary", nil, trigger(key, "x", "info", ""), "invalid event", "'payload.summary' is missing"},
		{"summary over 1024", nil, trigger(key, "x", "info", strings.Repeat("é", 1025)), "invalid event", "longer than 1024"},
		{"bad severity", nil, trigger(key, "x", "P1", "s"), "invalid event", "'payload.severity' is invalid"},
		{"dedup_key over 255", nil, trigger(key, strings.Repeat("d", 256), "info", "s"), "invalid event", "longer than 255"},
		{"missing source", nil, `{"routing_key":"` + key + `","event_action":"trigger","payload":{"summary":"s","severity":"info"}}`, "invalid event", "'payload.source' is missing"},
		{"bad timestamp", nil, `{"routing_key":"` + key + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info","timestamp":"yesterday"}}`, "invalid event", "ISO 8601"},
		{"link without href", nil, `{"routing_key":"` + key + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"},"links":[{"text":"t"}]}`, "invalid event", "'links[0].href'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			for _, k := range tt.keys {
				s.AddRoutingKey(k)
			}
			a := post(t, s.Start(t), tt.body)
			if a.code != 400 || a.body["status"] != tt.status {
				t.Fatalf("got %d %v, want 400 %q", a.code, a.body, tt.status)
			}
			errs, _ := a.body["errors"].([]any)
			if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs[0]), tt.errs) {
				t.Fatalf("errors %v, want %q", errs, tt.errs)
			}
			if len(s.Incidents()) != 0 {
				t.Fatal("an invalid event changed the state")
			}
		})
	}
}

func TestAcceptedLimits(t *testing.T) {
	s := New()
	url := s.Start(t)
	for _, body := range []string{
		trigger(key, strings.Repeat("d", 255), "critical", strings.Repeat("é", 1024)),
		trigger(key, "k2", "error", "RFC 3339 "+time.Now().Format(time.RFC3339)),
	} {
		if a := post(t, url, body); a.code != 202 {
			t.Fatalf("got %d %v", a.code, a.body)
		}
	}
}

func TestDedupSemantics(t *testing.T) {
	s := New()
	url := s.Start(t)
	other := strings.Repeat("o", 32)
	steps := []struct {
		body              string
		incidents         int
		status            string // of the last incident
		triggers, dropped int
	}{
		{trigger(key, "q1", "warning", "first"), 1, Triggered, 1, 0},
		{trigger(key, "q1", "critical", "worse"), 1, Triggered, 2, 0},
		{followUp(other, "resolve", "q1"), 1, Triggered, 2, 1}, // other routing key: dropped
		{followUp(key, "acknowledge", "q1"), 1, Acknowledged, 2, 1},
		{trigger(key, "q1", "critical", "again"), 1, Acknowledged, 3, 1},
		{followUp(key, "resolve", "q1"), 1, Resolved, 3, 1},
		{followUp(key, "resolve", "q1"), 1, Resolved, 3, 2}, // resolved already: dropped
		{followUp(key, "resolve", "never"), 1, Resolved, 3, 3},
		{trigger(key, "q1", "info", "next breach"), 2, Triggered, 1, 3},
	}
	for i, st := range steps {
		a := post(t, url, st.body)
		if a.code != 202 || a.body["status"] != "success" || a.body["message"] != "Event processed" {
			t.Fatalf("step %d: %d %v", i, a.code, a.body)
		}
		incs := s.Incidents()
		last := incs[len(incs)-1]
		if len(incs) != st.incidents || last.Status != st.status || last.Triggers != st.triggers || s.Dropped() != st.dropped {
			t.Fatalf("step %d: %d incidents, last %s with %d triggers, %d dropped; want %d %s %d %d",
				i, len(incs), last.Status, last.Triggers, s.Dropped(), st.incidents, st.status, st.triggers, st.dropped)
		}
	}
	first := s.Incidents()[0]
	if first.Summary != "first" || first.Severity != "warning" || len(first.Events) != 5 || first.ResolvedAt.IsZero() {
		t.Fatalf("first incident %+v", first)
	}
	if first.Events[1].Payload.Severity != "critical" || first.Events[0].Links[0].Href != "https://example.invalid/q" {
		t.Fatalf("events %+v", first.Events)
	}
}

func TestTriggerWithoutDedupKeyGetsOne(t *testing.T) {
	s := New()
	url := s.Start(t)
	a := post(t, url, trigger(key, "", "info", "s"))
	b := post(t, url, trigger(key, "", "info", "s"))
	k, _ := a.body["dedup_key"].(string)
	if a.code != 202 || len(k) != 32 || k == b.body["dedup_key"] || len(s.Incidents()) != 2 {
		t.Fatalf("answers %v %v, incidents %d", a.body, b.body, len(s.Incidents()))
	}
}

func TestRateLimit(t *testing.T) {
	s := New()
	url := s.Start(t)
	s.SetRateLimit(2, time.Minute, "30")
	for i := range 2 {
		if a := post(t, url, trigger(key, "q", "info", "s")); a.code != 202 {
			t.Fatalf("event %d: %d", i, a.code)
		}
	}
	a := post(t, url, trigger(key, "q", "info", "s"))
	if a.code != 429 || a.retryAfter != "30" {
		t.Fatalf("got %d Retry-After %q", a.code, a.retryAfter)
	}
	if other := post(t, url, trigger(strings.Repeat("o", 32), "q", "info", "s")); other.code != 202 {
		t.Fatalf("the limit is per routing key, got %d", other.code)
	}
	if in := s.Incidents()[0]; in.Triggers != 2 {
		t.Fatalf("a throttled event was applied: %+v", in)
	}
	s.SetRateLimit(0, 0, "")
	if a := post(t, url, trigger(key, "q", "info", "s")); a.code != 202 {
		t.Fatalf("limit removed, got %d", a.code)
	}
}

func TestRoutesAndInspection(t *testing.T) {
	s := New()
	url := s.Start(t)
	post(t, url, trigger(key, "q1", "error", "s"))
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/v2/enqueue", 404},
		{"POST", "/v1/enqueue", 404},
		{"POST", "/v2/change/enqueue", 404},
		{"GET", "/_fake/incidents", 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, url+tt.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s %s: %d", tt.method, tt.path, resp.StatusCode)
		}
		if tt.path == "/_fake/incidents" {
			var incs []Incident
			if err := json.Unmarshal(body, &incs); err != nil || len(incs) != 1 || incs[0].DedupKey != "q1" || incs[0].Status != Triggered {
				t.Errorf("inspection: %v %s", err, body)
			}
		}
	}
}

func TestFaults(t *testing.T) {
	s := New()
	url := s.Start(t)
	s.Faults.Add(faults.Fault{Status: 503, RetryAfter: "5", Path: "/v2/enqueue"})
	if a := post(t, url, trigger(key, "q", "info", "s")); a.code != 503 || a.retryAfter != "5" {
		t.Fatalf("got %d %q", a.code, a.retryAfter)
	}
	if a := post(t, url, trigger(key, "q", "info", "s")); a.code != 202 {
		t.Fatalf("fault used up, got %d", a.code)
	}
	if n := len(s.Incidents()); n != 1 {
		t.Fatalf("the faulted event must not be applied: %d incidents", n)
	}
}

func TestListenAndClose(t *testing.T) {
	s := New()
	u, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if u != s.URL() || post(t, u, trigger(key, "q", "info", "s")).code != 202 {
		t.Fatal("not serving")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Post(u+"/v2/enqueue", "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("still serving after Close")
	}
}
