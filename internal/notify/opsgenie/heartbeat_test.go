package opsgenie

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
)

func TestPing(t *testing.T) {
	f := newFixture(t, nil)
	// OpsGenie answers PONG for heartbeats that do not exist.
	if err := f.n.Ping(t.Context(), "queuewatch prod/eu"); err != nil {
		t.Fatal(err)
	}
	if f.fake.Pings("queuewatch prod/eu") != 1 {
		t.Fatal("ping not received")
	}
	if p := f.fake.Requests()[0]; p.Method != "GET" || p.Path != "/v2/heartbeats/queuewatch%20prod%2Feu/ping" {
		t.Fatalf("ping request %+v", p)
	}
	f.fake.Faults.Add(faults.Fault{Status: 429, RetryAfter: "5"})
	err := f.n.Ping(t.Context(), "qw")
	if ne := asNotifyError(t, err); !ne.Retryable || ne.RetryAfter != 5*time.Second || !strings.Contains(ne.Reason, "ping heartbeat qw") {
		t.Fatalf("throttled ping: %+v", ne)
	}
	if err := f.n.Ping(t.Context(), ""); err == nil {
		t.Fatal("an empty name must be refused")
	}
}

func TestEnsureHeartbeat(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.n.EnsureHeartbeat(t.Context(), "qw", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	hbs := f.fake.Heartbeats()
	if len(hbs) != 1 {
		t.Fatalf("heartbeats %+v", hbs)
	}
	hb := hbs[0]
	if hb.Name != "qw" || hb.Interval != 5 || hb.IntervalUnit != "minutes" || !hb.Enabled || hb.AlertPriority != "P2" ||
		hb.OwnerTeam == nil || hb.OwnerTeam.Name != "Contact Center Ops" || !strings.Contains(hb.AlertMessage, "qw expired") {
		t.Fatalf("heartbeat %+v", hb)
	}
	// A second call finds it and creates nothing.
	n := len(f.fake.Requests())
	if err := f.n.EnsureHeartbeat(t.Context(), "qw", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Requests()[n:]; len(got) != 1 || got[0].Method != "GET" {
		t.Fatalf("requests %+v", got)
	}
	f.fake.AddHeartbeat(fake.Heartbeat{Name: "off", Interval: 1, IntervalUnit: "hours"})
	if err := f.n.EnsureHeartbeat(t.Context(), "off", time.Hour); !errors.Is(err, ErrHeartbeatDisabled) {
		t.Fatalf("disabled heartbeat: %v", err)
	}
	// A key refused outright is reported, classified.
	f.fake.RemoveKey(fake.DefaultKey)
	err := f.n.EnsureHeartbeat(t.Context(), "new", time.Minute)
	if ne := asNotifyError(t, err); ne.Code != 401 || ne.Retryable {
		t.Fatalf("refused: %+v", ne)
	}
}

func TestIntervalUnit(t *testing.T) {
	tests := []struct {
		d    time.Duration
		n    int
		unit string
	}{
		{0, 1, "minutes"},
		{30 * time.Second, 1, "minutes"},
		{90 * time.Second, 2, "minutes"},
		{5 * time.Minute, 5, "minutes"},
		{90 * time.Minute, 90, "minutes"},
		{2 * time.Hour, 2, "hours"},
		{48 * time.Hour, 2, "days"},
		{36 * time.Hour, 36, "hours"},
	}
	for _, tc := range tests {
		if n, u := intervalUnit(tc.d); n != tc.n || u != tc.unit {
			t.Errorf("intervalUnit(%s) = %d %s, want %d %s", tc.d, n, u, tc.n, tc.unit)
		}
	}
}
