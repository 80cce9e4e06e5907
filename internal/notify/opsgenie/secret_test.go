package opsgenie

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
)

// render returns every text an error can produce: its message in all verbs
// and those of everything it wraps.
func render(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		fmt.Fprintf(&b, "%v|%+v|%#v|%s|%q\n", e, e, e, e, e)
	}
	return b.String()
}

// TestSecretNeverLeaks provokes every error the notifier can return, plus
// answers that echo the key, and searches all renderings for the key.
func TestSecretNeverLeaks(t *testing.T) {
	type provoke struct {
		name string
		edit func(*Config)
		prep func(*fixture)
		call func(context.Context, *fixture) error
	}
	create := func(ctx context.Context, f *fixture) error {
		_, err := f.n.Notify(ctx, delivery(transition(alert.ActionCreate)), nil)
		return err
	}
	var cases []provoke
	for _, ec := range errorCases {
		cases = append(cases, provoke{name: ec.name, edit: ec.edit, call: create, prep: func(f *fixture) {
			if ec.setup != nil {
				ec.setup(f.fake)
			}
			if ec.fault != nil {
				f.fake.Faults.Add(*ec.fault)
			}
		}})
	}
	echo := func(body string) func(*fixture) {
		return func(f *fixture) {
			f.fake.Faults.Add(faults.Fault{Status: 400, Body: strings.ReplaceAll(body, "KEY", fake.DefaultKey)})
		}
	}
	cases = append(cases,
		provoke{name: "key echoed in message", prep: echo(`{"message":"bad key KEY","errors":{"KEY":"KEY"},"requestId":"KEY"}`), call: create},
		provoke{name: "key echoed in plain text", prep: echo(`GenieKey KEY is not valid`), call: create},
		provoke{name: "failed request status", prep: func(f *fixture) { f.fake.FailRequests(1, "key "+fake.DefaultKey) }, call: create},
		provoke{name: "ping refused", prep: echo(`{"message":"KEY"}`), call: func(ctx context.Context, f *fixture) error { return f.n.Ping(ctx, "qw") }},
		provoke{name: "heartbeat refused", prep: echo(`{"message":"KEY"}`), call: func(ctx context.Context, f *fixture) error {
			return f.n.EnsureHeartbeat(ctx, "qw", time.Minute)
		}},
		provoke{name: "server gone", prep: func(f *fixture) { f.n.base = "http://127.0.0.1:1" }, call: create},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.edit)
			if tc.prep != nil {
				tc.prep(f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := tc.call(ctx, f)
			if err == nil {
				t.Fatal("no error provoked")
			}
			keys := []string{f.n.cfg.APIKey, fake.DefaultKey}
			for _, k := range keys {
				if s := render(err); strings.Contains(s, k) {
					t.Fatalf("key %q leaks:\n%s", k, s)
				}
			}
		})
	}
}

func TestConfigNeverShowsTheKey(t *testing.T) {
	const key = "very-secret-key-123"
	cfg := Config{Name: "oncall", APIKey: key, BaseURL: "ftp://x"}
	_, err := New(cfg, nil)
	if err == nil {
		t.Fatal("bad URL accepted")
	}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), render(err)} {
		if strings.Contains(s, key) {
			t.Fatalf("key leaks: %s", s)
		}
	}
	if !strings.Contains(cfg.String(), "[redacted]") {
		t.Errorf("String() should say the key is set: %s", cfg)
	}
	d := config.Destination{Name: "oncall", Type: "opsgenie", APIKey: config.Secret(key)}
	if c := FromDestination(d); c.APIKey != key || strings.Contains(fmt.Sprint(c), key) {
		t.Errorf("FromDestination: %v", c)
	}
}
