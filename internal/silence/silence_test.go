package silence

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

type listerFunc func(ctx context.Context) ([]store.Silence, error)

func (f listerFunc) Silences(ctx context.Context) ([]store.Silence, error) { return f(ctx) }

func TestMuted(t *testing.T) {
	now := time.Now().UTC()
	silences := []store.Silence{
		{ID: "sales", Queues: []string{"Sales*"}, Rule: "sla_breach", Starts: now.Add(-time.Minute), Ends: now.Add(time.Hour), Comment: "planned outage"},
		{ID: "byid", Queues: []string{"q-42"}, Starts: now.Add(-time.Minute), Ends: now.Add(time.Hour)},
		{ID: "later", Queues: []string{"Support"}, Starts: now.Add(time.Hour), Ends: now.Add(2 * time.Hour)},
		{ID: "past", Queues: nil, Starts: now.Add(-2 * time.Hour), Ends: now.Add(-time.Hour)},
	}
	m := New(listerFunc(func(context.Context) ([]store.Silence, error) { return silences, nil }), func() time.Time { return now }, nil)
	if got := m.Muted("k", "sla_breach", "q-1", "Sales EMEA", now); got != "" {
		t.Fatalf("before Refresh: muted %q", got)
	}
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		rule, id, queue string
		at              time.Time
		want            string
	}{
		{"glob and rule match", "sla_breach", "q-1", "Sales EMEA", now, "silence sales (planned outage)"},
		{"other rule", "long_wait", "q-1", "Sales EMEA", now, ""},
		{"glob does not match", "sla_breach", "q-2", "Support", now, ""},
		{"id matches any rule", "long_wait", "q-42", "Billing", now, "silence byid"},
		{"not started", "sla_breach", "q-3", "Support", now, ""},
		{"started later", "sla_breach", "q-3", "Support", now.Add(90 * time.Minute), "silence later"},
		{"ended", "sla_breach", "q-1", "Sales EMEA", now.Add(2 * time.Hour), ""},
		{"sample older than the silence", "long_wait", "q-42", "Billing", now.Add(-time.Hour), "silence byid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Muted("key", tc.rule, tc.id, tc.queue, tc.at); got != tc.want {
				t.Errorf("Muted = %q, want %q", got, tc.want)
			}
		})
	}
	if got := m.Active("", "q-1", "Sales EMEA", now); len(got) != 1 || got[0].ID != "sales" {
		t.Errorf("Active(any rule) = %+v, want the sales silence", got)
	}
	if got := m.Active("long_wait", "q-1", "Sales EMEA", now); len(got) != 0 {
		t.Errorf("Active(long_wait) = %+v, want none", got)
	}
}

func TestRefreshKeepsCopyOnError(t *testing.T) {
	now := time.Now().UTC()
	fail := false
	m := New(listerFunc(func(context.Context) ([]store.Silence, error) {
		if fail {
			return nil, errors.New("database is down")
		}
		return []store.Silence{{ID: "all", Starts: now.Add(-time.Minute), Ends: now.Add(time.Hour)}}, nil
	}), nil, nil)
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := m.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh: want the store's error")
	}
	if got := m.Muted("k", "any", "q", "Any", now); got != "silence all" {
		t.Errorf("after a failed refresh Muted = %q, want the previous copy's silence", got)
	}
}

func TestCheckPattern(t *testing.T) {
	for p, ok := range map[string]bool{"Sales*": true, "q-1": true, "[": false, "": false, "  ": false} {
		err := CheckPattern(p)
		if (err == nil) != ok {
			t.Errorf("CheckPattern(%q) = %v, want ok=%v", p, err, ok)
		}
		if err != nil && !errors.Is(err, ErrBadPattern) {
			t.Errorf("CheckPattern(%q) = %v, not ErrBadPattern", p, err)
		}
	}
}
