package opsgenie

import (
	"testing"
)

func TestHeartbeats(t *testing.T) {
	s := New()
	base := s.Start(t)
	hb := base + "/v2/heartbeats"

	// A ping of a missing heartbeat still says PONG.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH"} {
		a := call(t, m, hb+"/qw/ping", key, "")
		if a.code != 202 || a.body["result"] != "PONG - Heartbeat received" {
			t.Fatalf("%s ping: %d %v", m, a.code, a.body)
		}
	}
	if a := call(t, "GET", hb+"/qw", key, ""); a.code != 404 {
		t.Fatalf("get missing: %d", a.code)
	}
	tests := []struct {
		name, body string
		code       int
	}{
		{"missing enabled", `{"name":"qw","interval":5,"intervalUnit":"minutes"}`, 422},
		{"bad unit", `{"name":"qw","interval":5,"intervalUnit":"weeks","enabled":true}`, 422},
		{"zero interval", `{"name":"qw","interval":0,"intervalUnit":"minutes","enabled":true}`, 422},
		{"ok", `{"name":"qw","interval":5,"intervalUnit":"minutes","enabled":true,"alertTags":["queuewatch"],"alertPriority":"P2"}`, 201},
		{"duplicate", `{"name":"qw","interval":5,"intervalUnit":"minutes","enabled":true}`, 409},
	}
	for _, tc := range tests {
		if a := call(t, "POST", hb, key, tc.body); a.code != tc.code {
			t.Fatalf("%s: %d, want %d: %v", tc.name, a.code, tc.code, a.body)
		}
	}
	call(t, "GET", hb+"/qw/ping", key, "")
	a := call(t, "GET", hb+"/qw", key, "")
	d, _ := a.body["data"].(map[string]any)
	if a.code != 200 || d["name"] != "qw" || d["interval"] != 5.0 || d["enabled"] != true || d["lastPingTime"] == nil {
		t.Fatalf("get: %d %v", a.code, a.body)
	}
	got := s.Heartbeats()
	if len(got) != 1 || got[0].Pings != 1 || got[0].AlertPriority != "P2" || s.Pings("qw") != 5 {
		t.Fatalf("heartbeats %+v, pings %d", got, s.Pings("qw"))
	}
	if a := call(t, "GET", hb, key, ""); len(a.body["data"].(map[string]any)["heartbeats"].([]any)) != 1 {
		t.Fatalf("list %v", a.body)
	}
	s.AddHeartbeat(Heartbeat{Name: "off", Interval: 1, IntervalUnit: "hours"})
	if a := call(t, "GET", hb+"/off", key, ""); a.body["data"].(map[string]any)["enabled"] != false {
		t.Fatalf("added heartbeat %v", a.body)
	}
}
