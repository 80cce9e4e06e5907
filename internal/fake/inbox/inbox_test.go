package inbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	"github.com/queuewatch/queuewatch/internal/fake/slack"
)

// call sends a JSON request and fails the test unless it answers 2xx.
func call(t *testing.T, method, url, auth string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestInboxesShowWhatTheFakesReceived drives each fake through its real API
// (an alert opened, noted and closed; a message posted, updated and
// replied to; an incident triggered and resolved) and reads the views back
// over HTTP.
func TestInboxesShowWhatTheFakesReceived(t *testing.T) {
	og, sl, pd := opsgenie.New(), slack.New(), pagerduty.New()
	ogURL, slURL, pdURL := og.Start(t), sl.Start(t), pd.Start(t)
	genie := "GenieKey " + opsgenie.DefaultKey
	bot := "Bearer " + slack.DefaultToken

	call(t, "POST", ogURL+"/v2/alerts", genie, map[string]any{"message": "Support below target", "alias": "q1_sla_breach", "priority": "P2"})
	call(t, "POST", ogURL+"/v2/alerts", genie, map[string]any{"message": "Sales waiting long", "alias": "q2_long_wait", "priority": "P1"})
	call(t, "POST", ogURL+"/v2/alerts/q1_sla_breach/close?identifierType=alias", genie, map[string]any{"note": "recovered: 91%"})

	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": ":rotating_light: Support: service level 61%"}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Priority* P2"}},
		{"type": "section", "fields": []map[string]any{{"type": "mrkdwn", "text": "*Now*\n61%"}, {"type": "mrkdwn", "text": "*Target*\n80%"}}},
		{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": "rule `sla_breach`"}}},
		{"type": "actions", "elements": []map[string]any{{"type": "button", "action_id": "q", "text": map[string]any{"type": "plain_text", "text": "View queue"}, "url": "https://example.com/q1"}}},
	}
	posted := call(t, "POST", slURL+"/chat.postMessage", bot, map[string]any{"channel": slack.DefaultChannel, "text": ":rotating_light: Support breaching", "blocks": blocks})
	ts, _ := posted["ts"].(string)
	blocks[0]["text"] = map[string]any{"type": "plain_text", "text": ":white_check_mark: Support: recovered"}
	call(t, "POST", slURL+"/chat.update", bot, map[string]any{"channel": slack.DefaultChannel, "ts": ts, "text": ":white_check_mark: Support recovered", "blocks": blocks})
	call(t, "POST", slURL+"/chat.postMessage", bot, map[string]any{"channel": slack.DefaultChannel, "thread_ts": ts, "text": "Resolved after 4m"})

	key := strings.Repeat("k", 32)
	call(t, "POST", pdURL+"/v2/enqueue", "", map[string]any{"routing_key": key, "event_action": "trigger", "dedup_key": "q1_sla_breach",
		"payload": map[string]any{"summary": "Support below target", "source": "queuewatch", "severity": "error"}})
	call(t, "POST", pdURL+"/v2/enqueue", "", map[string]any{"routing_key": key, "event_action": "resolve", "dedup_key": "q1_sla_breach"})

	srv := httptest.NewServer(New(Sources{OpsGenie: og, Slack: sl, Channel: slack.DefaultChannel, PagerDuty: pd}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/demo/api/inboxes")
	if err != nil {
		t.Fatal(err)
	}
	var got Inboxes
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ogIn := got.OpsGenie
	if ogIn == nil || ogIn.Open != 1 || ogIn.Closed != 1 || ogIn.Creates != 2 || len(ogIn.Alerts) != 2 {
		t.Fatalf("opsgenie inbox: %+v", ogIn)
	}
	if a := ogIn.Alerts[0]; a.Alias != "q2_long_wait" || a.Status != "open" || a.Priority != "P1" {
		t.Errorf("newest alert first: %+v", a)
	}
	if a := ogIn.Alerts[1]; a.Status != "closed" || a.ClosedAt.IsZero() || len(a.Notes) == 0 || a.Notes[len(a.Notes)-1].Text != "recovered: 91%" {
		t.Errorf("closed alert with its note: %+v", a)
	}

	slIn := got.Slack
	if slIn == nil || slIn.Posts != 1 || slIn.Updates != 1 || slIn.Replies != 1 || len(slIn.Messages) != 1 {
		t.Fatalf("slack inbox: %+v", slIn)
	}
	m := slIn.Messages[0]
	if m.State != "resolved" || m.Edits != 1 || !strings.Contains(m.Title, "recovered") || len(m.Replies) != 1 || m.Replies[0].Text != "Resolved after 4m" {
		t.Errorf("message updated in place with a thread reply: %+v", m)
	}
	if len(m.Body) != 1 || m.Body[0] != "*Priority* P2" || len(m.Fields) != 2 || m.Fields[1] != "*Target*\n80%" || len(m.Context) != 1 || len(m.Links) != 1 || m.Links[0].URL != "https://example.com/q1" {
		t.Errorf("blocks read: body %q fields %q context %q links %+v", m.Body, m.Fields, m.Context, m.Links)
	}

	pdIn := got.PagerDuty
	if pdIn == nil || pdIn.Resolved != 1 || pdIn.Triggered != 0 || len(pdIn.Incidents) != 1 || pdIn.Incidents[0].Events != 2 {
		t.Fatalf("pagerduty inbox: %+v", pdIn)
	}

	// The page and its assets are served; the page loads its script.
	for path, want := range map[string]string{
		"/demo/":                 "/demo/assets/inbox.js",
		"/demo/assets/inbox.js":  "/demo/api/inboxes",
		"/demo/assets/inbox.css": "--firing",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want a body with %q", path, resp.StatusCode, want)
		}
	}
}

func TestSlackStateFromHeader(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{":rotating_light: Support: service level 61%", "firing"},
		{":white_check_mark: Support: recovered", "resolved"},
		{"Queues breaching: 3", "info"},
	} {
		if got := slackMessage(slack.Message{Text: tc.text}).State; got != tc.want {
			t.Errorf("%q: state %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestOnlyConfiguredInboxesAreShown(t *testing.T) {
	h := New(Sources{Slack: slack.New(), Channel: slack.DefaultChannel})
	got := h.Snapshot()
	if got.OpsGenie != nil || got.PagerDuty != nil || got.Slack == nil || got.Slack.Messages == nil {
		t.Fatalf("snapshot with Slack only: %+v", got)
	}
}
