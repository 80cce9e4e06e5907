package opsgenie

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
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
