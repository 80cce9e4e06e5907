package webhook_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
)

func TestDeliversSignedMessage(t *testing.T) {
	recv, n := setup(t, secret, "/hooks/queuewatch", nil)
	for i, a := range []alert.Action{alert.ActionCreate, alert.ActionUpdate, alert.ActionResolve} {
		r, err := send(t, n, delivery(int64(10+i), a), 0)
		if err != nil || r.Code != 200 {
			t.Fatalf("%s: %+v %v", a, r, err)
		}
	}
	got := recv.Received()
	if len(got) != 3 {
		t.Fatalf("received %d deliveries", len(got))
	}
	d := got[0]
	if d.ID != "10" || d.Path != "/hooks/queuewatch" || d.UserAgent != "queuewatch" || d.Timestamp != strconv.FormatInt(clock().Unix(), 10) {
		t.Errorf("headers: id %q path %q ua %q ts %q", d.ID, d.Path, d.UserAgent, d.Timestamp)
	}
	if !webhook.Verify([]byte(secret), d.Body, d.Signature) || d.Signature != webhook.Sign([]byte(secret), d.Body) {
		t.Errorf("signature %q does not verify", d.Signature)
	}
	m := d.Message
	if m.Version != "1" || m.Action != "create" || m.Key != "q1_sla_breach" || m.DeliveryID != 10 ||
		m.URL != "https://queuewatch.example.com" || !m.SentAt.Equal(clock()) {
		t.Errorf("message %+v", m)
	}
	if m.Episode.ID != "q1_sla_breach@1" || m.Episode.Worst != 62.5 || m.Episode.Priority != "P1" || !m.Episode.End.IsZero() {
		t.Errorf("episode %+v", m.Episode)
	}
	tr := m.Transition
	if tr.QueueName != "Billing DE" || tr.MediaType != "voice" || tr.Value != 62.5 || tr.ValueText != "62.5%" ||
		tr.Threshold != 80 || tr.From != "pending" || tr.To != "firing" || tr.Rule != "sla_breach" {
		t.Errorf("transition %+v", tr)
	}
	if got[1].Message.Action != "update" || got[2].Message.Action != "resolve" {
		t.Errorf("actions %q %q", got[1].Message.Action, got[2].Message.Action)
	}
}

// TestSchemaKeys pins the documented top-level and nested JSON keys.
func TestSchemaKeys(t *testing.T) {
	recv, n := setup(t, secret, "/", nil)
	if _, err := send(t, n, delivery(1, alert.ActionCreate), 0); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(recv.Received()[0].Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "action", "key", "delivery_id", "url", "episode", "transition", "sent_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("key %q missing from %s", k, recv.Received()[0].Body)
		}
	}
	var tr map[string]any
	_ = json.Unmarshal(raw["transition"], &tr)
	for _, k := range []string{"at", "from", "to", "queue_id", "queue_name", "rule", "metric", "value", "value_text", "threshold", "clear", "priority", "reason"} {
		if _, ok := tr[k]; !ok {
			t.Errorf("transition.%s missing", k)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"version":"1","action":"create"}`)
	good := webhook.Sign([]byte(secret), body)
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"valid", secret, body, good, true},
		{"valid upper-case hex", secret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"tampered body", secret, []byte(`{"version":"1","action":"resolve"}`), good, false},
		{"wrong secret", "other", body, good, false},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), false},
		{"other algorithm", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"not hex", secret, body, "sha256=zz", false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"empty header", secret, body, "", false},
		{"empty secret", "", body, webhook.Sign(nil, body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify([]byte(tt.secret), tt.body, tt.header); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	recv, n := setup(t, "", "/", func(c *webhook.Config) { c.Secret = "" })
	if _, err := send(t, n, delivery(1, alert.ActionCreate), 0); err != nil {
		t.Fatal(err)
	}
	if s := recv.Received()[0].Signature; s != "" {
		t.Fatalf("signature %q sent without a secret", s)
	}
}

func TestWrongSecretIsRefusedForGood(t *testing.T) {
	recv, n := setup(t, "the-receivers-secret", "/", nil)
	_, err := send(t, n, delivery(1, alert.ActionCreate), 0)
	ne := asError(t, err)
	if ne.Code != 401 || ne.Retryable || !strings.Contains(ne.Reason, "X-Queuewatch-Signature") || ne.Hint == "" {
		t.Fatalf("got %+v", ne)
	}
	if len(recv.Received()) != 0 || recv.Refused() != 1 {
		t.Fatalf("received %d, refused %d", len(recv.Received()), recv.Refused())
	}
}

func TestRetriedDeliveryIsDeduplicated(t *testing.T) {
	recv, n := setup(t, secret, "/", nil)
	d := delivery(7, alert.ActionCreate)
	for range 3 {
		if _, err := send(t, n, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	got := recv.Received()
	if len(got) != 1 || got[0].Count != 3 || got[0].ID != "7" {
		t.Fatalf("received %+v", got)
	}
}

func TestNewValidates(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "/relative", "https://"} {
		if _, err := webhook.New(webhook.Config{URL: u}, nil); err == nil {
			t.Errorf("New accepted url %q", u)
		}
	}
	n, err := webhook.New(webhook.Config{Name: "t", URL: "https://u:p@hooks.example.com/a/b?token=x"}, nil)
	if err != nil || n.String() != "webhook t (https://hooks.example.com)" {
		t.Fatalf("%v %v", n, err)
	}
}

func TestActionNoneIsPermanent(t *testing.T) {
	recv, n := setup(t, secret, "/", nil)
	_, err := send(t, n, delivery(1, alert.ActionNone), time.Second)
	if asError(t, err).Retryable || len(recv.Received()) != 0 {
		t.Fatal("ActionNone must fail for good without a request")
	}
}
