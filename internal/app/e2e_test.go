package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/fake/webhookrecv"
)

const e2eSecret = "e2e-webhook-secret"

// e2e is a running service wired to fake OpsGenie, Slack, PagerDuty and a
// webhook receiver, fed through its own authenticated webhook.
type e2e struct {
	t     *testing.T
	svc   *Service
	og    *fakeog.Server
	slack *fakeslack.Server
	pd    *fakepd.Server
	recv  *webhookrecv.Server
	seq   int
}

const pdKey = "0123456789abcdef0123456789abcdef"

func startE2E(t *testing.T, ruleYAML string) *e2e {
	t.Helper()
	e := &e2e{t: t, og: fakeog.New(), slack: fakeslack.New(), pd: fakepd.New(), recv: webhookrecv.New("out-secret")}
	e.pd.AddRoutingKey(pdKey)
	ogURL, slackURL, pdURL, recvURL := e.og.Start(t), e.slack.Start(t), e.pd.Start(t), e.recv.Start(t)
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
store: sqlite:%s
webhook:
  secret: %s
rules:
%s
destinations:
  - name: oncall
    type: opsgenie
    url: %s
    api_key: %s
    responders: [{type: team, name: Contact Center Ops}]
  - name: cc-slack
    type: slack
    url: %s
    token: %s
    channel: %s
  - name: pd
    type: pagerduty
    url: %s
    routing_key: %s
  - name: tooling
    type: webhook
    url: %s/hooks/queuewatch
    secret: out-secret
`, filepath.Join(t.TempDir(), "q.db"), e2eSecret, ruleYAML, ogURL, fakeog.DefaultKey, slackURL, fakeslack.DefaultToken,
		fakeslack.DefaultChannel, pdURL, pdKey, recvURL)
	cfg, err := config.Parse("e2e.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	e.svc = svc
	return e
}

// send posts one signed tutorial event and expects 202.
func (e *e2e) send(queueID, queueName, metricName string, value float64, at time.Time) {
	e.t.Helper()
	e.seq++
	body, _ := json.Marshal(map[string]any{
		"event_id": fmt.Sprintf("ev-%d", e.seq), "event_type": "com.genesiscloud.queue.metric",
		"timestamp": at.UTC().Format(time.RFC3339Nano),
		"data":      map[string]any{"queue_id": queueID, "queue_name": queueName, "metric": metricName, "value": value},
	})
	mac := hmac.New(sha256.New, []byte(e2eSecret))
	mac.Write(body)
	req, _ := http.NewRequest("POST", "http://"+e.svc.Addr()+"/webhook/genesys", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Genesys-Cloud-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		e.t.Fatalf("webhook answered %d: %s", resp.StatusCode, b)
	}
}

// eventually waits for cond, failing after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor(t, 30*time.Second, what, cond, nil)
}

// alertRequests lists the alert-changing OpsGenie requests (status checks aside).
func (e *e2e) alertRequests() []fakeog.RecordedRequest {
	var out []fakeog.RecordedRequest
	for _, r := range e.og.Requests() {
		if r.Method == "GET" {
			continue
		}
		out = append(out, r)
	}
	return out
}

// TestEndToEndBreachUpdateResolve: a breach becomes exactly one create per
// destination, a level change one priority update, the recovery exactly one
// close — asserted on what each fake received.
func TestEndToEndBreachUpdateResolve(t *testing.T) {
	e := startE2E(t, `
  - name: long_wait
    metric: longest_wait
    levels:
      - {above: 120, priority: P3}
      - {above: 300, priority: P1}
    notify: [oncall, cc-slack, pd, tooling]`)
	const q = "3f0c8d1e-0000-4000-8000-00000000000a"
	now := time.Now().Add(-time.Minute)
	e.send(q, "Support - Voice", "longest_wait", 150, now)
	eventually(t, "the OpsGenie create", func() bool { return len(e.og.Alerts()) == 1 })
	e.send(q, "Support - Voice", "longest_wait", 350, now.Add(time.Second))
	e.send(q, "Support - Voice", "longest_wait", 30, now.Add(2*time.Second))
	eventually(t, "every destination to see the resolve", func() bool {
		a := e.og.Alerts()
		inc := e.pd.Incidents()
		msgs := e.slack.Messages(fakeslack.DefaultChannel)
		return len(a) == 1 && a[0].Status == "closed" && len(inc) == 1 && inc[0].Status == "resolved" &&
			len(msgs) == 1 && len(msgs[0].Replies) == 1 && len(e.recv.Received()) == 3
	})

	// OpsGenie: create, priority + note, close — nothing else.
	var got []string
	for _, r := range e.alertRequests() {
		got = append(got, r.Method+" "+r.Path)
	}
	alias := q + "_long_wait"
	want := []string{
		"POST /v2/alerts",
		"PUT /v2/alerts/" + alias + "/priority",
		"POST /v2/alerts/" + alias + "/notes",
		"POST /v2/alerts/" + alias + "/close",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("OpsGenie requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var create struct {
		Message, Alias, Priority, Entity, Source string
		Tags                                     []string
		Details                                  map[string]string
		Responders                               []map[string]string
	}
	if err := json.Unmarshal([]byte(e.alertRequests()[0].Body), &create); err != nil {
		t.Fatal(err)
	}
	if create.Alias != alias || create.Priority != "P3" || !strings.HasPrefix(create.Message, "ALARM: Queue Support - Voice") ||
		create.Entity == "" || create.Source == "" || create.Details["queue_id"] != q || len(create.Responders) != 1 {
		t.Fatalf("create body: %+v", create)
	}
	if !strings.Contains(e.alertRequests()[1].Body, `"P1"`) {
		t.Fatalf("priority body: %s", e.alertRequests()[1].Body)
	}
	if a := e.og.Alerts()[0]; a.Count != 1 || a.Priority != "P1" {
		t.Fatalf("alert %+v", a)
	}

	// Slack: one message, edited in place, one thread reply.
	msgs := e.slack.Messages(fakeslack.DefaultChannel)
	if msgs[0].Edits != 2 {
		t.Fatalf("slack message edited %d times, want 2 (priority, resolve)", msgs[0].Edits)
	}
	// PagerDuty: one incident, triggered twice (create, update), then resolved.
	if inc := e.pd.Incidents()[0]; inc.DedupKey != alias || inc.Triggers != 2 || len(inc.Events) != 3 {
		t.Fatalf("incident %+v", inc)
	}
	// Webhook: create, update, resolve in order, each signed once.
	var actions []string
	for _, d := range e.recv.Received() {
		actions = append(actions, string(d.Message.Action))
	}
	if strings.Join(actions, ",") != "create,update,resolve" {
		t.Fatalf("webhook actions %v", actions)
	}
}
