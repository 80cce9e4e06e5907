package opsgenie

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

func TestAuth(t *testing.T) {
	s := New()
	s.AddKey("config-key", ConfigKey)
	s.AddKey("revoked", IntegrationKey)
	s.RemoveKey("revoked")
	base := s.Start(t)
	create := `{"message":"m"}`
	tests := []struct {
		name, method, path, auth, body string
		code                           int
		msg                            string
		apiCode                        float64
	}{
		{"no header", "POST", "/v2/alerts", "", create, 401, "Could not authenticate", 0},
		{"basic scheme", "POST", "/v2/alerts", "Basic " + DefaultKey, create, 401, "Could not authenticate", 0},
		{"bearer scheme", "POST", "/v2/alerts", "Bearer " + DefaultKey, create, 401, "Could not authenticate", 0},
		{"unknown key", "POST", "/v2/alerts", "GenieKey nope", create, 401, "Could not authenticate", 0},
		{"revoked key", "POST", "/v2/alerts", "GenieKey revoked", create, 401, "Could not authenticate", 0},
		{"config key create", "POST", "/v2/alerts", "GenieKey config-key", create, 403, "use an API key from an API integration", 40301},
		{"config key close", "POST", "/v2/alerts/a/close?identifierType=alias", "GenieKey config-key", "", 403, "API integration", 40301},
		{"config key reads", "GET", "/v2/alerts", "GenieKey config-key", "", 200, "", 0},
		{"config key heartbeats", "GET", "/v2/heartbeats", "GenieKey config-key", "", 200, "", 0},
		{"integration key", "POST", "/v2/alerts", key, create, 202, "", 0},
		{"scheme is case-insensitive", "POST", "/v2/alerts", "geniekey " + DefaultKey, create, 202, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, tc.method, base+tc.path, tc.auth, tc.body)
			if a.code != tc.code {
				t.Fatalf("code %d, want %d: %v", a.code, tc.code, a.body)
			}
			if msg, _ := a.body["message"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
			if c, _ := a.body["code"].(float64); c != tc.apiCode {
				t.Errorf("code field %v, want %v", c, tc.apiCode)
			}
			if a.body["requestId"] == "" || a.body["took"] == nil {
				t.Errorf("answer lacks requestId/took: %v", a.body)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	s := New()
	base := s.Start(t)
	tests := []struct {
		name, method, path, body string
		code                     int
	}{
		{"v1-style close does not exist", "POST", "/v2/alerts/close", `{"identifier":"x","identifierType":"alias"}`, 404},
		{"unknown v2 route", "GET", "/v2/nothing", "", 404},
		{"outside v2", "GET", "/v1/json/alert", "", 404},
		{"root", "GET", "/", "", 404},
		{"wrong method", "DELETE", "/v2/alerts", "", 404},
		{"unknown action", "POST", "/v2/alerts/a/explode", "", 404},
		{"jsm create", "POST", JSMPrefix + "/v2/alerts", `{"message":"m"}`, 202},
		{"jsm list", "GET", JSMPrefix + "/v2/alerts", "", 200},
		{"jsm unknown", "GET", JSMPrefix + "/v3/alerts", "", 404},
		{"bad identifierType", "POST", "/v2/alerts/a/close?identifierType=name", "", 422},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, tc.method, base+tc.path, key, tc.body)
			if a.code != tc.code {
				t.Fatalf("code %d, want %d: %v", a.code, tc.code, a.body)
			}
			if a.code == 404 {
				if msg, _ := a.body["message"].(string); msg == "" {
					t.Errorf("404 without a JSON message: %v", a.body)
				}
			}
		})
	}
	if got := s.Alerts(); len(got) != 1 || got[0].Integration != "jsm" {
		t.Errorf("want the one JSM alert, got %+v", got)
	}
}

func TestValidation(t *testing.T) {
	s := New()
	base := s.Start(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	quoted := func(n int) string { return fmt.Sprintf("%q", long(n)) }
	list := func(n, l int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("%q", fmt.Sprint(i)+long(l-len(fmt.Sprint(i))))
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	tests := []struct {
		name, body string
		code       int
		field      string
	}{
		{"minimal", `{"message":"m"}`, 202, ""},
		{"all limits met", `{"message":` + quoted(130) + `,"alias":` + quoted(512) + `,"description":` + quoted(15000) +
			`,"tags":` + list(20, 50) + `,"actions":` + list(10, 50) + `,"entity":` + quoted(512) + `,"source":` + quoted(100) +
			`,"user":` + quoted(100) + `,"note":` + quoted(25000) + `,"details":{"k":` + quoted(7999) + `},"priority":"P1"}`, 202, ""},
		{"multibyte counts characters", `{"message":"` + strings.Repeat("é", 130) + `"}`, 202, ""},
		{"empty username tolerated", `{"message":"m","responders":[{"type":"team","name":"ops","username":""}]}`, 202, ""},
		{"missing message", `{"alias":"a"}`, 422, "message"},
		{"blank message", `{"message":"  "}`, 422, "message"},
		{"message 131", `{"message":` + quoted(131) + `}`, 422, "message"},
		{"alias 513", `{"message":"m","alias":` + quoted(513) + `}`, 422, "alias"},
		{"description 15001", `{"message":"m","description":` + quoted(15001) + `}`, 422, "description"},
		{"21 tags", `{"message":"m","tags":` + list(21, 5) + `}`, 422, "tags"},
		{"tag 51", `{"message":"m","tags":[` + quoted(51) + `]}`, 422, "tags[0]"},
		{"11 actions", `{"message":"m","actions":` + list(11, 5) + `}`, 422, "actions"},
		{"details 8001", `{"message":"m","details":{"k":` + quoted(8000) + `}}`, 422, "details"},
		{"details not strings", `{"message":"m","details":{"k":1}}`, 422, "details"},
		{"entity object", `{"message":"m","entity":{"id":"q","name":"n","type":"Queue"}}`, 422, "entity"},
		{"entity 513", `{"message":"m","entity":` + quoted(513) + `}`, 422, "entity"},
		{"source 101", `{"message":"m","source":` + quoted(101) + `}`, 422, "source"},
		{"user 101", `{"message":"m","user":` + quoted(101) + `}`, 422, "user"},
		{"note 25001", `{"message":"m","note":` + quoted(25001) + `}`, 422, "note"},
		{"bad priority", `{"message":"m","priority":"P9"}`, 422, "priority"},
		{"bad responder type", `{"message":"m","responders":[{"type":"bb","name":"x"}]}`, 422, "responders#type"},
		{"responder without name", `{"message":"m","responders":[{"type":"team"}]}`, 422, "responders#id"},
		{"invalid JSON", `{"message":`, 400, ""},
		{"empty body", ``, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, "POST", base+"/v2/alerts", key, tc.body)
			if a.code != tc.code {
				t.Fatalf("code %d, want %d: %v", a.code, tc.code, a.body)
			}
			if tc.field == "" {
				return
			}
			errs, _ := a.body["errors"].(map[string]any)
			if _, ok := errs[tc.field]; !ok {
				t.Errorf("errors %v lack %q", errs, tc.field)
			}
		})
	}
}

func TestActionValidation(t *testing.T) {
	s := New()
	base := s.Start(t)
	tests := []struct {
		name, method, path, body string
		code                     int
	}{
		{"close without body", "POST", "/v2/alerts/a/close?identifierType=alias", "", 202},
		{"close note too long", "POST", "/v2/alerts/a/close?identifierType=alias", `{"note":"` + strings.Repeat("n", 25001) + `"}`, 422},
		{"note required", "POST", "/v2/alerts/a/notes?identifierType=alias", `{"user":"u"}`, 422},
		{"note body required", "POST", "/v2/alerts/a/notes?identifierType=alias", ``, 400},
		{"priority required", "PUT", "/v2/alerts/a/priority?identifierType=alias", `{}`, 422},
		{"priority enum", "PUT", "/v2/alerts/a/priority?identifierType=alias", `{"priority":"high"}`, 422},
		{"priority ok", "PUT", "/v2/alerts/a/priority?identifierType=alias", `{"priority":"P1"}`, 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := call(t, tc.method, base+tc.path, key, tc.body); a.code != tc.code {
				t.Fatalf("code %d, want %d: %v", a.code, tc.code, a.body)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	s := New()
	base := s.Start(t)
	s.Faults.Add(faults.Fault{Status: 429, RetryAfter: "7", Header: http.Header{"X-Ratelimit-Period-In-Sec": {"60"}}, Path: "/v2/alerts", Method: "POST"})
	s.Faults.Add(faults.Fault{Status: 503, Path: "/requests/"})
	a := call(t, "POST", base+"/v2/alerts", key, `{"message":"m"}`)
	if a.code != 429 || a.header.Get("Retry-After") != "7" || a.header.Get("X-RateLimit-Period-In-Sec") != "60" {
		t.Fatalf("429 fault: %d %v", a.code, a.header)
	}
	a = call(t, "POST", base+"/v2/alerts", key, `{"message":"m"}`)
	if a.code != 202 {
		t.Fatalf("after the fault: %d", a.code)
	}
	id := a.body["requestId"].(string)
	if a := call(t, "GET", base+"/v2/alerts/requests/"+id, key, ""); a.code != 503 {
		t.Fatalf("503 fault: %d", a.code)
	}
	if got := confirm(t, base, id); got["isSuccess"] != true {
		t.Fatalf("status after fault: %v", got)
	}
	// Inspection is never faulted.
	s.Faults.Add(faults.Fault{Status: 500, Times: -1})
	resp, err := http.Get(base + "/_fake/requests")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("inspection faulted: %d", resp.StatusCode)
	}
	s.Faults.Clear()
	reqs := s.Requests()
	if len(reqs) < 4 || reqs[0].Status != 429 || reqs[1].Status != 202 {
		t.Fatalf("recorded: %+v", reqs)
	}
}

func TestRecordedRequestsMaskTheKey(t *testing.T) {
	s := New()
	base := s.Start(t)
	call(t, "POST", base+"/v2/alerts", key, `{"message":"m"}`)
	r := s.Requests()[0]
	if strings.Contains(r.Auth, DefaultKey) || r.Auth != "GenieKey ****5555" {
		t.Fatalf("auth recorded as %q", r.Auth)
	}
	if r.Method != "POST" || r.Path != "/v2/alerts" || r.Body != `{"message":"m"}` || r.Status != 202 || r.At.IsZero() {
		t.Fatalf("recorded %+v", r)
	}
}

func TestVirtualProcessingDelay(t *testing.T) {
	s := New()
	clock := newClock(time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC))
	s.SetClock(clock.Now)
	s.SetProcessingDelay(30 * time.Second)
	s.SetNotProcessedPolls(0)
	base := s.Start(t)
	a := call(t, "POST", base+"/v2/alerts", key, `{"message":"m","alias":"a"}`)
	id := a.body["requestId"].(string)
	for range 3 {
		st := call(t, "GET", base+"/v2/alerts/requests/"+id, key, "")
		if st.code != 404 || st.header.Get("X-Opsgenie-Errortype") != "RequestNotProcessed" {
			t.Fatalf("before the delay: %d %v", st.code, st.header)
		}
	}
	if len(s.Alerts()) != 0 || s.Pending() != 1 {
		t.Fatal("processed before the delay passed")
	}
	now := clock.Advance(30 * time.Second)
	if st := call(t, "GET", base+"/v2/alerts/requests/"+id, key, ""); st.code != 200 {
		t.Fatalf("after the delay: %d", st.code)
	}
	if got := s.Alerts(); len(got) != 1 || !got[0].CreatedAt.Equal(now) {
		t.Fatalf("alerts %+v", got)
	}
}
