package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/store"
)

const (
	salesID   = "3f0c8d1e-0000-4000-8000-000000000001"
	supportID = "3f0c8d1e-0000-4000-8000-000000000002"
)

func TestAuth(t *testing.T) {
	silence := `{"queues":["Sales*"],"duration":"1h","comment":"maintenance"}`
	for _, tc := range []struct {
		name       string
		mod        func(*Options)
		method     string
		path, tok  string
		body       string
		want       int
		wantErrHas string
	}{
		{"write without a token", nil, "POST", "/api/v1/silences", "", silence, 401, "missing API token"},
		{"write with a wrong token", nil, "POST", "/api/v1/silences", "wrong", silence, 401, "invalid API token"},
		{"write with a token that is a prefix", nil, "POST", "/api/v1/silences", testToken[:5], silence, 401, "invalid API token"},
		{"write with the token", nil, "POST", "/api/v1/silences", testToken, silence, 201, ""},
		{"retry without a token", nil, "POST", "/api/v1/deliveries/1/retry", "", "", 401, "missing API token"},
		{"expire without a token", nil, "DELETE", "/api/v1/silences/x", "", "", 401, "missing API token"},
		{"writes refused when no token is configured", func(o *Options) { o.APIToken = "" }, "POST", "/api/v1/silences", "anything", silence, 403, "no api_token configured"},
		{"read open by default", nil, "GET", "/api/v1/queues", "", "", 200, ""},
		{"read needs the token with read auth", func(o *Options) { o.ReadAuth = true }, "GET", "/api/v1/alerts", "", "", 401, "missing API token"},
		{"read with read auth and the token", func(o *Options) { o.ReadAuth = true }, "GET", "/api/v1/alerts", testToken, "", 200, ""},
		{"read with read auth and a wrong token", func(o *Options) { o.ReadAuth = true }, "GET", "/api/v1/silences", "nope", "", 401, "invalid API token"},
		{"dashboard page needs no token", func(o *Options) { o.ReadAuth = true }, "GET", "/", "", "", 200, ""},
		{"unknown API route", nil, "GET", "/api/v1/nothing", "", "", 404, "no API route GET /api/v1/nothing"},
		{"wrong method", nil, "PUT", "/api/v1/silences", testToken, "", 404, "no API route PUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.mod)
			code, body := e.raw(tc.method, tc.path, tc.tok, tc.body)
			if code != tc.want {
				t.Fatalf("answered %d, want %d: %s", code, tc.want, body)
			}
			if tc.wantErrHas != "" && !strings.Contains(string(body), tc.wantErrHas) {
				t.Errorf("error body %s does not contain %q", body, tc.wantErrHas)
			}
			if strings.Contains(string(body), testToken) {
				t.Errorf("answer leaks the token: %s", body)
			}
		})
	}
}

func TestEventsAuthByQueryParameter(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ReadAuth = true })
	if code, body := e.raw("GET", "/api/v1/events", "", ""); code != 401 {
		t.Fatalf("events without a token answered %d: %s", code, body)
	}
	s := e.openEvents("", "?access_token="+testToken)
	if ev := s.next(t, 5*time.Second, true); !ev.comment {
		t.Fatalf("want a heartbeat comment, got %+v", ev)
	}
}

func TestQueuesAndAlerts(t *testing.T) {
	e := newEnv(t, nil)
	t0 := e.now.Add(-10 * time.Minute)
	for i := 0; i < 10; i++ {
		e.observe(salesID, "Sales EMEA", t0.Add(time.Duration(i)*time.Minute), map[metric.Name]float64{
			metric.ServiceLevel: 90 - float64(i)*3, metric.LongestWait: 40, metric.Waiting: float64(i),
			metric.AvailableAgents: 5, metric.AbandonRate: 2, metric.ServiceLevelTarget: 80,
		})
		e.observe(supportID, "Support", t0.Add(time.Duration(i)*time.Minute), map[metric.Name]float64{
			metric.ServiceLevel: 95, metric.LongestWait: 10,
		})
	}
	// A media type that reported nothing but its target is not a row.
	if err := e.eng.Observe(context.Background(), metric.Sample{QueueID: supportID, QueueName: "Support", MediaType: "email",
		Metric: metric.ServiceLevelTarget, Value: 80, At: t0}); err != nil {
		t.Fatal(err)
	}
	var qs struct {
		Queues []queueJSON `json:"queues"`
	}
	if code := e.do("GET", "/api/v1/queues", "", "", &qs); code != 200 {
		t.Fatalf("queues answered %d", code)
	}
	if len(qs.Queues) != 2 || qs.Queues[0].QueueName != "Sales EMEA" || qs.Queues[1].QueueName != "Support" {
		t.Fatalf("queues = %+v, want Sales EMEA then Support", qs.Queues)
	}
	sales := qs.Queues[0]
	if sales.State != "firing" || sales.Priority != "P1" {
		t.Errorf("Sales state %s priority %s, want firing P1", sales.State, sales.Priority)
	}
	if sales.Values[metric.ServiceLevel] != 63 || sales.Target == nil || *sales.Target != 80 {
		t.Errorf("Sales values %v target %v, want service level 63 against 80", sales.Values, sales.Target)
	}
	if n := len(sales.History[metric.ServiceLevel]); n != 10 {
		t.Errorf("Sales service level history has %d points, want the 10 minutes observed", n)
	}
	i := slices.IndexFunc(sales.Series, func(s seriesJSON) bool { return s.Rule == "sla_breach" })
	if i < 0 || sales.Series[i].Threshold != 80 || sales.Series[i].Clear != 85 || sales.Series[i].Direction != "below" {
		t.Errorf("Sales series = %+v, want sla_breach below 80 clearing at 85", sales.Series)
	}
	if qs.Queues[1].State != "ok" {
		t.Errorf("Support state %s, want ok", qs.Queues[1].State)
	}

	// Where the alert went: the stored Slack reference and the OpsGenie alias.
	key := salesID + "_sla_breach"
	ds, err := e.st.ListDeliveries(context.Background(), store.DeliveryFilter{Key: key})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries of %s: %v %v, want a create to oncall and cc-slack", key, ds, err)
	}
	if err := e.st.PutRef(context.Background(), store.Ref{Destination: "cc-slack", EpisodeID: ds[0].EpisodeID, Key: key, Value: "C0123456789/1712.000100", UpdatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	var as struct {
		Alerts []alertJSON `json:"alerts"`
	}
	if code := e.do("GET", "/api/v1/alerts", "", "", &as); code != 200 {
		t.Fatalf("alerts answered %d", code)
	}
	if len(as.Alerts) != 1 {
		t.Fatalf("alerts = %+v, want the Sales breach only", as.Alerts)
	}
	a := as.Alerts[0]
	if a.Key != key || a.Priority != "P1" || a.Worst != 63 || !a.Notified || a.Since.IsZero() {
		t.Errorf("alert = %+v, want %s P1 worst 63 notified", a, key)
	}
	want := []deliveredJSON{
		{Destination: "cc-slack", Type: "slack", Status: "pending", Action: "create", Handle: "C0123456789 1712.000100", Link: "https://slack.com/archives/C0123456789/p1712000100"},
		{Destination: "oncall", Type: "opsgenie", Status: "pending", Action: "create", Handle: key},
	}
	if !slices.Equal(a.Delivered, want) {
		t.Errorf("delivered = %+v\nwant %+v", a.Delivered, want)
	}

	var one struct {
		Queues []queueJSON `json:"queues"`
	}
	if code := e.do("GET", "/api/v1/queues/"+supportID, "", "", &one); code != 200 || len(one.Queues) != 1 || one.Queues[0].QueueName != "Support" {
		t.Errorf("queue page data = %d %+v", code, one.Queues)
	}
	var apiErr apiError
	if code := e.do("GET", "/api/v1/queues/nope", "", "", &apiErr); code != 404 || !strings.Contains(apiErr.Error, `"nope"`) {
		t.Errorf("unknown queue answered %d %+v", code, apiErr)
	}
}

func TestAlertHistory(t *testing.T) {
	e := newEnv(t, nil)
	t0 := e.now.Add(-time.Hour)
	for i, sl := range []float64{70, 90, 60, 90} { // two episodes
		e.observe(salesID, "Sales", t0.Add(time.Duration(i)*time.Minute), map[metric.Name]float64{metric.ServiceLevel: sl})
	}
	key := salesID + "_sla_breach"
	var h struct {
		Key      string        `json:"key"`
		Episodes []episodeJSON `json:"episodes"`
		Trans    []struct {
			To     string `json:"to"`
			Action string `json:"action"`
		} `json:"transitions"`
	}
	if code := e.do("GET", "/api/v1/alerts/"+key+"/history", "", "", &h); code != 200 {
		t.Fatalf("history answered %d", code)
	}
	if len(h.Episodes) != 2 || h.Episodes[0].Worst != 60 || h.Episodes[1].Worst != 70 {
		t.Fatalf("episodes = %+v, want two, newest (worst 60) first", h.Episodes)
	}
	// A worse value without a transition: the open episode's worst comes
	// from the engine, not the store's copy as of the last transition.
	e.observe(supportID, "Support", t0, map[metric.Name]float64{metric.ServiceLevel: 70})
	e.observe(supportID, "Support", t0.Add(time.Minute), map[metric.Name]float64{metric.ServiceLevel: 55})
	var again struct {
		Episodes []episodeJSON `json:"episodes"`
	}
	if e.do("GET", "/api/v1/alerts/"+supportID+"_sla_breach/history", "", "", &again); len(again.Episodes) != 1 || again.Episodes[0].Worst != 55 {
		t.Errorf("open episode after a worse value = %+v, want worst 55", again.Episodes)
	}
	for _, ep := range h.Episodes {
		if len(ep.Deliveries) != 4 { // create and resolve to two destinations
			t.Errorf("episode %s has %d deliveries, want 4", ep.ID, len(ep.Deliveries))
		}
		for _, d := range ep.Deliveries {
			if d.EpisodeID != ep.ID {
				t.Errorf("episode %s lists delivery %d of episode %s", ep.ID, d.ID, d.EpisodeID)
			}
		}
	}
	// Newest first: the oldest is the first create, and the first
	// episode's resolve is among them.
	if n := len(h.Trans); n < 4 || h.Trans[n-1].Action != "create" || h.Trans[n-1].To != "firing" ||
		!slices.ContainsFunc(h.Trans, func(tr struct {
			To     string `json:"to"`
			Action string `json:"action"`
		}) bool {
			return tr.Action == "resolve"
		}) {
		t.Errorf("transitions = %+v, want the create first (oldest last) and a resolve", h.Trans)
	}
	var apiErr apiError
	if code := e.do("GET", "/api/v1/alerts/unknown_key/history", "", "", &apiErr); code != 404 {
		t.Errorf("unknown key answered %d %+v", code, apiErr)
	}
	if code := e.do("GET", "/api/v1/alerts/"+key+"/history?limit=0", "", "", &apiErr); code != 400 || len(apiErr.Reasons) != 1 {
		t.Errorf("limit=0 answered %d %+v", code, apiErr)
	}
}

// deadDelivery makes the Sales breach owe deliveries and kills the one to
// destination with reason.
func (e *env) deadDelivery(dest, reason string) store.Delivery {
	e.t.Helper()
	e.observe(salesID, "Sales", e.now.Add(-time.Minute), map[metric.Name]float64{metric.ServiceLevel: 50})
	ctx := context.Background()
	claimed, err := e.st.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "t", Destination: dest, Now: e.now, Lease: time.Minute})
	if err != nil || len(claimed) != 1 {
		e.t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := e.st.FinishDelivery(ctx, claimed[0].ID, "t", store.Outcome{Status: store.StatusDead, At: e.now, Error: reason, Code: 422}); err != nil {
		e.t.Fatal(err)
	}
	return claimed[0]
}

func TestDeliveries(t *testing.T) {
	e := newEnv(t, nil)
	dead := e.deadDelivery("oncall", "422 Unprocessable Entity: Message can not be empty.")
	type list struct {
		Deliveries []store.Delivery `json:"deliveries"`
	}
	for _, tc := range []struct {
		query string
		want  []string // destination/status of each row
	}{
		{"?status=dead", []string{"oncall/dead"}},
		{"?status=pending", []string{"cc-slack/pending"}},
		{"?destination=cc-slack", []string{"cc-slack/pending"}},
		{"?status=retrying", nil},
		{"", []string{"cc-slack/pending", "oncall/dead"}},
	} {
		var l list
		if code := e.do("GET", "/api/v1/deliveries"+tc.query, "", "", &l); code != 200 {
			t.Fatalf("%s answered %d", tc.query, code)
		}
		var got []string
		for _, d := range l.Deliveries {
			got = append(got, d.Destination+"/"+string(d.Status))
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("deliveries%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	var l list
	e.do("GET", "/api/v1/deliveries?status=dead", "", "", &l)
	if l.Deliveries[0].LastError != "422 Unprocessable Entity: Message can not be empty." {
		t.Errorf("dead letter reason = %q, want the vendor's", l.Deliveries[0].LastError)
	}

	for _, tc := range []struct {
		query   string
		reasons []string
	}{
		{"?status=lost", []string{`status "lost": want one of pending, retrying, inflight, sent, dead`}},
		{"?destination=pager&limit=x", []string{`destination "pager" is not configured`, `limit "x": want a whole number from 1 to 1000`}},
		{"?stauts=dead", []string{`unknown parameter "stauts"; known are status, destination, key, limit`}},
	} {
		var apiErr apiError
		if code := e.do("GET", "/api/v1/deliveries"+tc.query, "", "", &apiErr); code != 400 || !slices.Equal(apiErr.Reasons, tc.reasons) {
			t.Errorf("%s answered %d %+v, want 400 with %q", tc.query, code, apiErr, tc.reasons)
		}
	}

	var attempts struct {
		Attempts []store.Attempt `json:"attempts"`
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/deliveries/%d", dead.ID), "", "", &attempts); code != 200 || len(attempts.Attempts) != 1 || attempts.Attempts[0].Code != 422 {
		t.Errorf("attempts = %d %+v, want the one refused attempt", code, attempts)
	}

	// Retry: only dead letters, by a positive id.
	for _, tc := range []struct {
		path string
		want int
	}{
		{fmt.Sprintf("/api/v1/deliveries/%d/retry", dead.ID), http.StatusAccepted},
		{fmt.Sprintf("/api/v1/deliveries/%d/retry", dead.ID), http.StatusConflict}, // no longer dead
		{"/api/v1/deliveries/99999/retry", http.StatusNotFound},
		{"/api/v1/deliveries/abc/retry", http.StatusBadRequest},
		{"/api/v1/deliveries/-3/retry", http.StatusBadRequest},
	} {
		var body map[string]any
		if code := e.do("POST", tc.path, testToken, "", &body); code != tc.want {
			t.Errorf("POST %s answered %d %v, want %d", tc.path, code, body, tc.want)
		} else if code >= 400 && body["error"] == "" {
			t.Errorf("POST %s: error body without a reason: %v", tc.path, body)
		}
	}
	e.do("GET", "/api/v1/deliveries?status=retrying", "", "", &l)
	if len(l.Deliveries) != 1 || l.Deliveries[0].ID != dead.ID || l.Deliveries[0].Attempts != 1 {
		t.Errorf("retrying = %+v, want the retried delivery pending with its attempt kept", l.Deliveries)
	}
}

func TestSilences(t *testing.T) {
	e := newEnv(t, nil)
	var created silenceJSON
	body := `{"queues":["Sales*"],"rule":"sla_breach","duration":"2h","comment":"carrier outage","created_by":"ops"}`
	if code := e.do("POST", "/api/v1/silences", testToken, body, &created); code != 201 {
		t.Fatalf("create answered %d", code)
	}
	if created.ID == "" || created.State != "active" || !created.Ends.Equal(e.now.Add(2*time.Hour)) || created.CreatedBy != "ops" {
		t.Fatalf("created = %+v", created)
	}
	// The matcher knows it at once: a breach of a matching queue is held.
	e.observe(salesID, "Sales EMEA", e.now, map[metric.Name]float64{metric.ServiceLevel: 40})
	ds, _ := e.st.ListDeliveries(context.Background(), store.DeliveryFilter{})
	if len(ds) != 0 {
		t.Fatalf("a silenced breach owes %d deliveries", len(ds))
	}
	var qs struct {
		Queues []queueJSON `json:"queues"`
	}
	e.do("GET", "/api/v1/queues", "", "", &qs)
	if len(qs.Queues) != 1 || !slices.Equal(qs.Queues[0].Silences, []string{created.ID}) || qs.Queues[0].State != "firing" {
		t.Errorf("board = %+v, want Sales firing and silenced by %s", qs.Queues, created.ID)
	}
	var as struct {
		Alerts []alertJSON `json:"alerts"`
	}
	e.do("GET", "/api/v1/alerts", "", "", &as)
	if len(as.Alerts) != 1 || as.Alerts[0].Notified || !strings.Contains(as.Alerts[0].Held, "carrier outage") {
		t.Errorf("alerts = %+v, want one held by the silence", as.Alerts)
	}

	var list struct {
		Silences []silenceJSON `json:"silences"`
	}
	if code := e.do("GET", "/api/v1/silences", "", "", &list); code != 200 || len(list.Silences) != 1 || list.Silences[0].ID != created.ID {
		t.Fatalf("list = %d %+v", code, list)
	}
	var expired silenceJSON
	if code := e.do("DELETE", "/api/v1/silences/"+created.ID, testToken, "", &expired); code != 200 || expired.State != "expired" {
		t.Fatalf("expire = %d %+v", code, expired)
	}
	// The held create goes out on the engine's next tick.
	if err := e.eng.Advance(context.Background(), e.now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	ds, _ = e.st.ListDeliveries(context.Background(), store.DeliveryFilter{})
	if len(ds) != 2 || ds[0].Action != "create" {
		t.Errorf("after the silence ended: %d deliveries, want the held create to both destinations", len(ds))
	}
	var apiErr apiError
	if code := e.do("DELETE", "/api/v1/silences/nope", testToken, "", &apiErr); code != 404 || !strings.Contains(apiErr.Error, "nope") {
		t.Errorf("expire unknown = %d %+v", code, apiErr)
	}
}

func TestSilenceBadInput(t *testing.T) {
	e := newEnv(t, nil)
	past := e.now.Add(-time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"empty body", "", []string{"body: empty body"}},
		{"not JSON", "{", []string{"body: unexpected EOF"}},
		{"unknown field", `{"queue":["x"]}`, []string{`body: json: unknown field "queue"`}},
		{"nothing", `{}`, []string{
			`queues, rule: name at least one queue or a rule; use queues ["*"] to silence everything on purpose`,
			"comment: say why (it is shown next to every held page)",
			"ends_at or duration: say when the silence ends"}},
		{"bad values", `{"queues":["Sales[", ""],"rule":"sla","duration":"soon","comment":"x"}`, []string{
			`queues[0]: "Sales[" is not a queue id or a valid glob`,
			`queues[1]: "" is not a queue id or a valid glob`,
			`rule: "sla" is not a configured rule; known rules are sla_breach, long_wait`,
			`duration: "soon" is not a positive Go duration such as 30m or 2h`}},
		{"both ends", `{"queues":["*"],"duration":"1h","ends_at":"2099-01-01T00:00:00Z","comment":"x"}`, []string{"duration, ends_at: give one of them, not both"}},
		{"ended", `{"queues":["*"],"ends_at":"` + past + `","comment":"x"}`, []string{"ends_at: is in the past"}},
		{"too long", `{"queues":["*"],"duration":"2400h","comment":"x"}`, []string{"ends_at: a silence lasts at most 90 days"}},
		{"negative", `{"queues":["*"],"duration":"-1h","comment":"x"}`, []string{`duration: "-1h" is not a positive Go duration such as 30m or 2h`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var apiErr apiError
			code := e.do("POST", "/api/v1/silences", testToken, tc.body, &apiErr)
			if code != 400 || apiErr.Error != "invalid silence" || !slices.Equal(apiErr.Reasons, tc.want) {
				t.Errorf("answered %d %q %q\nwant 400 with %q", code, apiErr.Error, apiErr.Reasons, tc.want)
			}
		})
	}
	all, _ := e.st.Silences(context.Background())
	if len(all) != 0 {
		t.Errorf("refused requests stored %d silences", len(all))
	}
}

func TestIndexAndAssets(t *testing.T) {
	e := newEnv(t, nil)
	code, body := e.raw("GET", "/", "", "")
	if code != 200 || !strings.Contains(string(body), `<a href="/demo/inbox" class="extra">Fake inboxes</a>`) {
		t.Fatalf("index answered %d without the nav link:\n%s", code, body)
	}
	for _, p := range []string{"/assets/app.js", "/assets/style.css", "/assets/favicon.svg"} {
		if code, b := e.raw("GET", p, "", ""); code != 200 || len(b) < 100 {
			t.Errorf("%s answered %d with %d bytes", p, code, len(b))
		}
	}
	if code, _ := e.raw("GET", "/nothing-here", "", ""); code != 404 {
		t.Errorf("unknown page answered %d, want 404", code)
	}
	if _, err := New(Options{Engine: e.eng, Store: e.st, Retrier: storeRetrier{}, Silences: e.sil, NavLinks: []NavLink{{Title: "x", Path: "http://elsewhere"}}}); err == nil {
		t.Error("New accepted a nav link that is not a local path")
	}
}

func TestPruneHistoryForgetsQueuesThatStoppedReporting(t *testing.T) {
	e := newEnv(t, nil)
	gone := recent.Key("q-gone", "", metric.Waiting)
	live := recent.Key("q-live", "", metric.Waiting)
	e.hist.Record(gone, e.now.Add(-ChartWindow-time.Minute), 3)
	e.hist.Record(live, e.now.Add(-ChartWindow-5*time.Minute), 4) // outside the window of its latest point
	e.hist.Record(live, e.now.Add(-time.Minute), 5)
	e.srv.pruneHistory()
	if pts := e.hist.Points(gone); pts != nil {
		t.Errorf("a queue silent for over %s kept its chart: %v", ChartWindow, pts)
	}
	if pts := e.hist.Points(live); len(pts) != 1 || pts[0].V != 5 {
		t.Errorf("a reporting queue's chart = %v, want its last hour", pts)
	}
}
