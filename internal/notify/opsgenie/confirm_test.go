package opsgenie

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/store"
)

func TestConfirmation(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the fake before a create is sent.
		setup     func(f *fixture)
		ok        bool
		retryable bool
		reason    string
		note      string
		// statusCalls is how many status requests are expected.
		statusCalls int
	}{
		{
			name:        "processed at once",
			setup:       func(f *fixture) { f.fake.SetNotProcessedPolls(0) },
			ok:          true,
			note:        "Created alert",
			statusCalls: 1,
		},
		{
			name:        "RequestNotProcessed three times, then success",
			setup:       func(f *fixture) { f.fake.SetNotProcessedPolls(3) },
			ok:          true,
			note:        "Created alert",
			statusCalls: 4,
		},
		{
			name: "status endpoint briefly failing",
			setup: func(f *fixture) {
				f.fake.Faults.Add(faults.Fault{Status: 503, Path: "/requests/", Times: 2})
			},
			ok:          true,
			note:        "Created alert",
			statusCalls: 4, // 503, 503, not processed, done
		},
		{
			name:        "JSM flat status",
			setup:       func(f *fixture) { f.fake.SetFlatRequestStatus(true) },
			ok:          true,
			note:        "Created alert",
			statusCalls: 2,
		},
		{
			name:        "status unknown to the service",
			setup:       func(f *fixture) { f.fake.Faults.Add(faults.Fault{Status: 404, Path: "/requests/"}) },
			ok:          true,
			note:        "accepted, unconfirmed: request status not available (HTTP 404)",
			statusCalls: 1,
		},
		{
			name: "status of an unknown shape",
			setup: func(f *fixture) {
				f.fake.Faults.Add(faults.Fault{Status: 200, Path: "/requests/", Body: `{"data":{"action":"Create"}}`})
			},
			ok:          true,
			note:        "accepted, unconfirmed: request status without isSuccess",
			statusCalls: 1,
		},
		{
			name:        "isSuccess false",
			setup:       func(f *fixture) { f.fake.FailRequests(1, "Integration is disabled") },
			retryable:   true,
			reason:      "create alert: request ",
			note:        "was accepted but failed: Integration is disabled",
			statusCalls: 2,
		},
		{
			name: "status check refused",
			setup: func(f *fixture) {
				f.fake.Faults.Add(faults.Fault{Status: 401, Path: "/requests/", Body: `{"message":"Could not authenticate"}`})
			},
			reason:      "checking request",
			note:        "Could not authenticate",
			statusCalls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tc.setup(f)
			r, err := f.send(t, transition(alert.ActionCreate))
			calls := 0
			for _, rq := range f.fake.Requests() {
				if strings.Contains(rq.Path, "/v2/alerts/requests/") {
					calls++
				}
			}
			if calls != tc.statusCalls {
				t.Errorf("%d status calls, want %d", calls, tc.statusCalls)
			}
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(r.Note, tc.note) {
					t.Errorf("note %q, want %q", r.Note, tc.note)
				}
				return
			}
			ne := asNotifyError(t, err)
			if ne.Retryable != tc.retryable || !strings.Contains(ne.Reason, tc.reason) || !strings.Contains(ne.Error(), tc.note) {
				t.Errorf("error %+v (%v)", ne, ne)
			}
		})
	}
}

func TestConfirmationDeadline(t *testing.T) {
	f := newFixture(t, nil)
	f.fake.SetNotProcessedPolls(1 << 30)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.n.Notify(ctx, delivery(transition(alert.ActionCreate)), nil)
	ne := asNotifyError(t, err)
	if !ne.Retryable || ne.Code != 202 || !strings.Contains(ne.Reason, "not confirmed before the deadline (not processed yet)") {
		t.Fatalf("error %+v", ne)
	}
}

func TestConfirmationWithoutCallerDeadline(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	f.fake.SetNotProcessedPolls(1 << 30)
	began := time.Now()
	_, err := f.n.Notify(context.Background(), delivery(transition(alert.ActionCreate)), nil)
	if ne := asNotifyError(t, err); !ne.Retryable {
		t.Fatalf("error %+v", ne)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("Config.Timeout must bound a call without deadline; took %s", d)
	}
}

// priorityChange is an update of the open alert from P2 to P1.
func priorityChange() alert.Transition {
	tr := transition(alert.ActionUpdate)
	tr.PrevPriority, tr.Priority, tr.Value, tr.Reason = alert.P2, alert.P1, 55, "priority P2 → P1"
	tr.At = start.Add(time.Minute)
	return tr
}

// requestCount counts the fake's recorded requests whose path ends in suffix
// (the query aside) with method.
func requestCount(f *fixture, method, suffix string) int {
	n := 0
	for _, r := range f.fake.Requests() {
		if r.Method == method && strings.HasSuffix(strings.SplitN(r.Path, "?", 2)[0], suffix) {
			n++
		}
	}
	return n
}

// unconfirmedUpdate opens the alert, then makes a first attempt of delivery
// id, a priority change, that ends before OpsGenie processed its requests,
// and returns the delivery.
func unconfirmedUpdate(t *testing.T, f *fixture, id int64) store.Delivery {
	t.Helper()
	f.mustSend(t, transition(alert.ActionCreate))
	f.fake.SetNotProcessedPolls(1 << 30)
	d := delivery(priorityChange())
	d.ID = id
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.n.Notify(ctx, d, nil); err == nil || !asNotifyError(t, err).Retryable {
		t.Fatalf("first attempt: %v, want a retryable deadline", err)
	}
	f.fake.SetNotProcessedPolls(0)
	return d
}

// TestRetryResumesAcceptedSteps: an update (priority, then note) whose
// requests OpsGenie accepted but had not processed when the attempt's
// deadline passed is resumed by the next attempt of the same delivery: it
// confirms the requests already accepted instead of making them again, so
// the alert gets its note once.
func TestRetryResumesAcceptedSteps(t *testing.T) {
	f := newFixture(t, nil)
	d := unconfirmedUpdate(t, f, 7)
	for attempt := 2; attempt <= 3; attempt++ {
		rc, err := f.n.Notify(context.Background(), d, nil)
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		if !strings.Contains(rc.Note, "priority P1: ") {
			t.Errorf("attempt %d: receipt note %q", attempt, rc.Note)
		}
	}
	// The third attempt (a redelivery after the second was confirmed) is
	// a new send: the memory of a confirmed delivery is dropped.
	if n := requestCount(f, "POST", "/notes"); n != 2 {
		t.Errorf("%d note requests over three attempts, want 2 (the first resumed, the third anew)", n)
	}
	if n := requestCount(f, "PUT", "/priority"); n != 2 {
		t.Errorf("%d priority requests, want 2", n)
	}
}

// TestRetryRepeatsOnlyFailedSteps: when OpsGenie processed an update's
// priority change without success, the next attempt makes that request
// again but only confirms the note, which it had accepted.
func TestRetryRepeatsOnlyFailedSteps(t *testing.T) {
	f := newFixture(t, nil)
	f.mustSend(t, transition(alert.ActionCreate))
	f.fake.FailRequests(1, "Rate limited by downstream")
	d := delivery(priorityChange())
	d.ID = 8
	_, err := f.n.Notify(context.Background(), d, nil)
	if ne := asNotifyError(t, err); !ne.Retryable || !strings.Contains(ne.Reason, "update priority: request ") ||
		!strings.Contains(ne.Reason, "was accepted but failed: Rate limited by downstream") {
		t.Fatalf("first attempt: %+v", ne)
	}
	if _, err := f.n.Notify(context.Background(), d, nil); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if n := requestCount(f, "PUT", "/priority"); n != 2 {
		t.Errorf("%d priority requests, want 2", n)
	}
	if n := requestCount(f, "POST", "/notes"); n != 1 {
		t.Errorf("%d note requests, want 1", n)
	}
	if a := f.fake.Alerts()[0]; a.Priority != "P1" || len(a.Notes) != 1 {
		t.Errorf("alert priority %s with %d notes, want P1 with one", a.Priority, len(a.Notes))
	}
}

// TestResumeNeedsTheSameDelivery: remembered steps are resumed only by the
// same delivery: another delivery that happens to have the same id (a
// different store) makes its requests anew.
func TestResumeNeedsTheSameDelivery(t *testing.T) {
	f := newFixture(t, nil)
	unconfirmedUpdate(t, f, 9)
	other := delivery(resolved())
	other.ID = 9
	if _, err := f.n.Notify(context.Background(), other, nil); err != nil {
		t.Fatal(err)
	}
	if n := requestCount(f, "POST", "/close"); n != 1 {
		t.Errorf("%d close requests, want 1", n)
	}
}
