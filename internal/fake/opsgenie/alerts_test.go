package opsgenie

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func TestAlertLifecycle(t *testing.T) {
	s := New()
	base := s.Start(t)
	const alias = "q1_sla breach/voice"
	path := base + "/v2/alerts/" + url.PathEscape(alias)

	// Create: 202, then RequestNotProcessed once, then processed.
	a := call(t, "POST", base+"/v2/alerts", key, `{"message":"ALARM","alias":"`+alias+`","priority":"P3","tags":["a"],"details":{"queue_id":"q1"},"note":"opened"}`)
	if a.code != 202 || a.body["result"] != "Request will be processed" {
		t.Fatalf("create: %d %v", a.code, a.body)
	}
	id := a.body["requestId"].(string)
	st := call(t, "GET", base+"/v2/alerts/requests/"+id, key, "")
	if st.code != 404 || st.header.Get("X-Opsgenie-Errortype") != "RequestNotProcessed" {
		t.Fatalf("first status call: %d %v", st.code, st.header)
	}
	data := confirm(t, base, id)
	if data["isSuccess"] != true || data["action"] != "Create" || data["status"] != "Created alert" || data["alias"] != alias {
		t.Fatalf("create status %v", data)
	}
	alertID := data["alertId"].(string)

	// Dedup while open.
	data = do(t, "POST", base+"/v2/alerts", `{"message":"again","alias":"`+alias+`"}`)
	if data["alertId"] != alertID {
		t.Fatalf("dedup made another alert: %v", data)
	}
	do(t, "PUT", path+"/priority?identifierType=alias", `{"priority":"P1"}`)
	do(t, "POST", path+"/notes?identifierType=alias", `{"note":"worse","user":"qw","source":"qw"}`)
	do(t, "POST", path+"/acknowledge?identifierType=alias", `{}`)

	got := s.Alerts()
	if len(got) != 1 {
		t.Fatalf("alerts %+v", got)
	}
	g := got[0]
	if g.Count != 2 || g.Message != "ALARM" || g.Priority != "P1" || !g.Acknowledged || len(g.Notes) != 2 || g.Notes[1].Note != "worse" || g.Status != "open" {
		t.Fatalf("alert %+v", g)
	}

	// Get by alias, id and tiny id.
	for _, q := range []string{path + "?identifierType=alias", base + "/v2/alerts/" + alertID, base + "/v2/alerts/" + g.TinyID + "?identifierType=tiny"} {
		a := call(t, "GET", q, key, "")
		d, _ := a.body["data"].(map[string]any)
		if a.code != 200 || d["id"] != alertID || d["count"] != 2.0 || d["details"].(map[string]any)["queue_id"] != "q1" {
			t.Fatalf("GET %s: %d %v", q, a.code, a.body)
		}
	}

	// Close, then a create makes a new alert.
	data = do(t, "POST", path+"/close?identifierType=alias", `{"user":"qw","source":"qw","note":"Queue SLA restored to 86%."}`)
	if data["isSuccess"] != true || data["status"] != "Closed alert" {
		t.Fatalf("close: %v", data)
	}
	data = do(t, "POST", base+"/v2/alerts", `{"message":"second","alias":"`+alias+`"}`)
	if data["alertId"] == alertID {
		t.Fatal("a create after close must make a new alert")
	}
	got = s.Alerts()
	if len(got) != 2 || got[0].Status != "closed" || got[0].ClosedAt.IsZero() || got[1].Status != "open" || got[1].Count != 1 {
		t.Fatalf("alerts after re-create %+v", got)
	}
	if last := got[0].Notes[len(got[0].Notes)-1]; last.Note != "Queue SLA restored to 86%." {
		t.Fatalf("close note %+v", last)
	}

	// The alias now names the open alert; list and count filter.
	a = call(t, "GET", path+"?identifierType=alias", key, "")
	if a.body["data"].(map[string]any)["message"] != "second" {
		t.Fatalf("alias must name the open alert: %v", a.body)
	}
	q := url.QueryEscape(`status:open AND alias:"` + alias + `"`)
	if a := call(t, "GET", base+"/v2/alerts/count?query="+q, key, ""); a.body["data"].(map[string]any)["count"] != 1.0 {
		t.Fatalf("count %v", a.body)
	}
	a = call(t, "GET", base+"/v2/alerts?limit=1", key, "")
	if l := a.body["data"].([]any); len(l) != 1 || l[0].(map[string]any)["message"] != "second" {
		t.Fatalf("list newest first: %v", a.body)
	}
}

func TestActionsOnMissingAlerts(t *testing.T) {
	s := New()
	base := s.Start(t)
	for _, tc := range []struct{ method, path, body, action string }{
		{"POST", "/v2/alerts/nope/close?identifierType=alias", `{}`, "Close"},
		{"POST", "/v2/alerts/nope/notes?identifierType=alias", `{"note":"n"}`, "AddNote"},
		{"PUT", "/v2/alerts/nope/priority?identifierType=alias", `{"priority":"P1"}`, "UpdatePriority"},
		{"POST", "/v2/alerts/nope/close", `{}`, "Close"},
	} {
		data := do(t, tc.method, base+tc.path, tc.body)
		if data["isSuccess"] != false || data["status"] != "Alert does not exist" || data["action"] != tc.action {
			t.Errorf("%s %s: %v", tc.method, tc.path, data)
		}
	}
	if a := call(t, "GET", base+"/v2/alerts/nope?identifierType=alias", key, ""); a.code != 404 || a.body["message"] != "Alert does not exist" {
		t.Errorf("GET missing: %d %v", a.code, a.body)
	}
}

func TestRequestsAreProcessedInOrder(t *testing.T) {
	s := New()
	s.SetNotProcessedPolls(5)
	base := s.Start(t)
	call(t, "POST", base+"/v2/alerts", key, `{"message":"m","alias":"k"}`)
	a := call(t, "POST", base+"/v2/alerts/k/close?identifierType=alias", key, `{}`)
	if s.Pending() != 2 {
		t.Fatalf("pending %d", s.Pending())
	}
	// Confirming the close processes the create before it.
	data := confirm(t, base, a.body["requestId"].(string))
	if data["isSuccess"] != true {
		t.Fatalf("close: %v", data)
	}
	if got := s.Alerts(); len(got) != 1 || got[0].Status != "closed" {
		t.Fatalf("alerts %+v", got)
	}
}

func TestFailRequestsAndFlatStatus(t *testing.T) {
	s := New()
	s.FailRequests(1, "Integration is disabled")
	s.SetFlatRequestStatus(true)
	s.SetNotProcessedPolls(0)
	base := s.Start(t)
	a := call(t, "POST", base+"/v2/alerts", key, `{"message":"m"}`)
	st := call(t, "GET", base+"/v2/alerts/requests/"+a.body["requestId"].(string), key, "")
	if st.code != 200 || st.body["isSuccess"] != false || st.body["status"] != "Integration is disabled" || st.body["data"] != nil {
		t.Fatalf("flat failed status: %d %v", st.code, st.body)
	}
	if len(s.Alerts()) != 0 {
		t.Fatal("a failed create made an alert")
	}
}

func TestFlushAndReset(t *testing.T) {
	s := New()
	s.SetNotProcessedPolls(100)
	base := s.Start(t)
	call(t, "POST", base+"/v2/alerts", key, `{"message":"m"}`)
	s.Flush()
	if s.Pending() != 0 || len(s.Alerts()) != 1 {
		t.Fatal("Flush must process everything")
	}
	s.Reset()
	if len(s.Alerts()) != 0 || len(s.Requests()) != 0 {
		t.Fatal("Reset must forget everything")
	}
}

func TestInspectionView(t *testing.T) {
	s := New()
	base := s.Start(t)
	do(t, "POST", base+"/v2/alerts", `{"message":"m","alias":"k","details":{"queue_id":"q"}}`)
	resp, err := http.Get(base + "/_fake/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []Alert
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Alias != "k" || got[0].Status != "open" || got[0].Details["queue_id"] != "q" {
		t.Fatalf("view %+v", got)
	}
	resp2, err := http.Get(base + "/_fake/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 404 {
		t.Fatalf("unknown inspection route: %d", resp2.StatusCode)
	}
}

func TestActionsByIDAndTinyID(t *testing.T) {
	s := New()
	base := s.Start(t)
	first := do(t, "POST", base+"/v2/alerts", `{"message":"one","alias":"a"}`)
	do(t, "POST", base+"/v2/alerts", `{"message":"two","alias":"b"}`)
	do(t, "POST", base+"/v2/alerts/"+first["alertId"].(string)+"/close", `{}`)
	tiny := s.Alerts()[1].TinyID
	do(t, "POST", base+"/v2/alerts/"+tiny+"/close?identifierType=tiny", `{"note":"by tiny id"}`)
	for _, a := range s.Alerts() {
		if a.Status != "closed" {
			t.Errorf("alert %s is %s", a.Alias, a.Status)
		}
	}
	// Closing again is accepted.
	if data := do(t, "POST", base+"/v2/alerts/a/close?identifierType=alias", `{}`); data["isSuccess"] != true {
		t.Errorf("second close: %v", data)
	}
}
