package opsgenie

import (
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		err     string
		base    string
		timeout time.Duration
	}{
		{name: "defaults", cfg: Config{APIKey: "k"}, base: OpsGenieURL, timeout: DefaultTimeout},
		{name: "EU", cfg: Config{APIKey: "k", BaseURL: OpsGenieEUURL + "/"}, base: OpsGenieEUURL},
		{name: "JSM", cfg: Config{Type: "JSM", APIKey: "k"}, base: JSMURL},
		{name: "no key", cfg: Config{}, err: "api key is empty"},
		{name: "blank key", cfg: Config{APIKey: "  "}, err: "api key is empty"},
		{name: "unknown type", cfg: Config{Type: "pagerduty", APIKey: "k"}, err: `unknown type "pagerduty"`},
		{name: "not http", cfg: Config{APIKey: "k", BaseURL: "ftp://x"}, err: "not an http(s) URL"},
		{name: "no host", cfg: Config{APIKey: "k", BaseURL: "https://"}, err: "not an http(s) URL"},
		{name: "bad URL", cfg: Config{APIKey: "k", BaseURL: "http://[::1"}, err: "not a URL"},
		{name: "bad responder type", cfg: Config{APIKey: "k", Responders: []Responder{{Type: "group", Name: "x"}}}, err: "responder 1: unknown type"},
		{name: "nameless team", cfg: Config{APIKey: "k", Responders: []Responder{{Type: "team"}}}, err: "needs an id or a name"},
		{name: "nameless user", cfg: Config{APIKey: "k", Responders: []Responder{{Type: "user"}}}, err: "needs an id or a username"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(tc.cfg, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.base != tc.base || n.cfg.Source != DefaultSource || n.cfg.Now == nil {
				t.Errorf("notifier %+v", n.cfg)
			}
			if tc.timeout != 0 && n.cfg.Timeout != tc.timeout {
				t.Errorf("timeout %s", n.cfg.Timeout)
			}
		})
	}
}

func TestFromDestination(t *testing.T) {
	d := config.Destination{
		Name: "oncall", Type: "jsm", URL: JSMURL, APIKey: "k", Tags: []string{"cc"},
		Responders: []config.Responder{{Type: "team", Name: "ops"}, {Type: "user", Username: "ann"}},
		Timeout:    config.Duration(3 * time.Second),
	}
	c := FromDestination(d)
	if c.Name != "oncall" || c.Type != "jsm" || c.BaseURL != JSMURL || c.APIKey != "k" || c.Timeout != 3*time.Second ||
		len(c.Tags) != 1 || len(c.Responders) != 2 || c.Responders[1].Username != "ann" {
		t.Fatalf("config %+v", c)
	}
	if _, err := New(c, nil); err != nil {
		t.Fatal(err)
	}
}
