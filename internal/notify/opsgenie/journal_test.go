package opsgenie

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify/journaltest"
)

// process returns a new notifier of f's configuration using journal j, as
// another process (after a crash or a failover) would have.
func (f *fixture) process(t *testing.T, j *journaltest.Journal) *Notifier {
	t.Helper()
	n, err := New(f.n.cfg, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	n.UseJournal(j)
	return n
}

// TestNewProcessConfirmsNotedRequest: a create OpsGenie accepted (202) in a
// process that died before confirming it is confirmed by the next process
// through its noted requestId, not sent again.
func TestNewProcessConfirmsNotedRequest(t *testing.T) {
	f := newFixture(t, nil)
	f.fake.SetNotProcessedPolls(2)
	j := &journaltest.Journal{}
	d := delivery(transition(alert.ActionCreate))
	if _, err := f.process(t, j).Begin(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	// The process dies here: its memory of the request is gone.
	noted, _, ok, _ := j.Get(context.Background(), "opsgenie/1/0")
	if !ok || strings.HasPrefix(noted, noteFailed) {
		t.Fatalf("no requestId noted after the 202: %q", noted)
	}
	rc, err := f.process(t, j).Notify(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := requestCount(f, "POST", "/v2/alerts"); n != 1 {
		t.Errorf("%d create requests, want 1", n)
	}
	if !strings.Contains(rc.Note, "Created alert") {
		t.Errorf("receipt note %q, want the confirmed status", rc.Note)
	}
	if id, _, _ := strings.Cut(noted, "\n"); !strings.Contains(lastStatusPath(f), id) {
		t.Errorf("the new process did not ask for request %s", id)
	}
}

// TestNewProcessResendsFailedRequest: when the noted request turns out to
// have failed, the next attempt makes it again, once.
func TestNewProcessResendsFailedRequest(t *testing.T) {
	f := newFixture(t, nil)
	j := &journaltest.Journal{}
	d := delivery(transition(alert.ActionCreate))
	f.fake.FailRequests(1, "Integration is disabled")
	if _, err := f.process(t, j).Begin(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.process(t, j).Notify(context.Background(), d, nil); err == nil || !strings.Contains(err.Error(), "Integration is disabled") {
		t.Fatalf("confirming a failed request: %v", err)
	}
	if _, err := f.process(t, j).Notify(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	if n := requestCount(f, "POST", "/v2/alerts"); n != 2 {
		t.Errorf("%d create requests, want 2 (the failed one and its repeat)", n)
	}
	if len(f.fake.Alerts()) != 1 {
		t.Errorf("%d alerts, want 1", len(f.fake.Alerts()))
	}
}

// TestNotedRequestNeedsTheSameDelivery: a note is used only by the delivery
// that wrote it (same transition), not by another with the same id.
func TestNotedRequestNeedsTheSameDelivery(t *testing.T) {
	f := newFixture(t, nil)
	j := &journaltest.Journal{}
	if _, err := f.process(t, j).Notify(context.Background(), delivery(transition(alert.ActionCreate)), nil); err != nil {
		t.Fatal(err)
	}
	other := delivery(resolved()) // id 1 as well
	if _, err := f.process(t, j).Notify(context.Background(), other, nil); err != nil {
		t.Fatal(err)
	}
	if n := requestCount(f, "POST", "/close"); n != 1 {
		t.Errorf("%d close requests, want 1", n)
	}
}

// lastStatusPath is the path of the last request-status call.
func lastStatusPath(f *fixture) string {
	p := ""
	for _, r := range f.fake.Requests() {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/requests/") {
			p = r.Path
		}
	}
	return p
}
