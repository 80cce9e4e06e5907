package webhookrecv

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
)

const secret = "s3cret"

const body = `{"version":"1","action":"create","key":"q1_sla","delivery_id":1,"episode":{"id":"e1"},"transition":{"rule":"sla"},"sent_at":"2026-08-25T09:14:03Z"}`

func post(t *testing.T, url, id, sig, b string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/hook", strings.NewReader(b))
	if id != "" {
		req.Header.Set(webhook.DeliveryHeader, id)
	}
	if sig != "" {
		req.Header.Set(webhook.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func sign(b string) string { return webhook.Sign([]byte(secret), []byte(b)) }

func TestReceive(t *testing.T) {
	tampered := strings.Replace(body, "create", "resolve", 1)
	tests := []struct {
		name, id, sig, body string
		code                int
		answer              string // "status" or "error" of the answer
	}{
		{"no signature", "1", "", body, 401, "bad or missing X-Queuewatch-Signature"},
		{"tampered body", "1", sign(body), tampered, 401, "bad or missing X-Queuewatch-Signature"},
		{"wrong secret", "1", webhook.Sign([]byte("other"), []byte(body)), body, 401, "bad or missing X-Queuewatch-Signature"},
		{"no delivery id", "", sign(body), body, 400, "missing X-Queuewatch-Delivery"},
		{"not a message", "1", sign(`{"hello":1}`), `{"hello":1}`, 400, "body is not a queuewatch webhook message"},
		{"accepted", "1", sign(body), body, 200, "ok"},
		{"duplicate", "1", sign(body), body, 200, "duplicate"},
		{"another delivery", "2", sign(tampered), tampered, 200, "ok"},
	}
	s := New(secret)
	url := s.Start(t)
	for _, tt := range tests {
		code, m := post(t, url, tt.id, tt.sig, tt.body)
		if code != tt.code || (m["status"] != tt.answer && m["error"] != tt.answer) {
			t.Errorf("%s: got %d %v, want %d %q", tt.name, code, m, tt.code, tt.answer)
		}
	}
	got := s.Received()
	if len(got) != 2 || got[0].ID != "1" || got[0].Count != 2 || got[0].Message.Action != "create" ||
		got[1].Message.Action != "resolve" || got[0].Path != "/hook" || string(got[0].Body) != body {
		t.Fatalf("received %+v", got)
	}
	if s.Refused() != 5 {
		t.Fatalf("refused %d, want 5", s.Refused())
	}
}

func TestNoSecretAcceptsUnsigned(t *testing.T) {
	s := New("")
	if code, _ := post(t, s.Start(t), "9", "", body); code != 200 || len(s.Received()) != 1 {
		t.Fatalf("got %d, %d received", code, len(s.Received()))
	}
}

func TestInspectionAndFaults(t *testing.T) {
	s := New(secret)
	url := s.Start(t)
	s.Faults.Add(faults.Fault{Status: 503, RetryAfter: "1"})
	if code, _ := post(t, url, "1", sign(body), body); code != 503 || len(s.Received()) != 0 {
		t.Fatalf("fault: %d, %d received", code, len(s.Received()))
	}
	post(t, url, "1", sign(body), body)
	resp, err := http.Get(url + "/_fake/received")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var got []Delivery
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 1 || got[0].Message.Key != "q1_sla" {
		t.Fatalf("inspection %v %s", err, b)
	}
	if resp, err := http.Get(url + "/hook"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /hook: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
