package config

import (
	"reflect"
	"runtime"
	"testing"
	"time"
)

// TestEmptyFileDefaults parses files without content and checks every
// top-level default.
func TestEmptyFileDefaults(t *testing.T) {
	for name, src := range map[string]string{
		"empty":         "",
		"comments only": "# nothing configured yet\n",
		"null document": "~\n",
		"empty mapping": "{}\n",
		"null sections": "genesys:\nwebhook:\nengine:\nrules:\ndestinations:\nschedules:\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, src, nil)
			checks := []struct {
				name      string
				got, want any
			}{
				{"File", c.File, "queuewatch.yaml"},
				{"Listen", c.Listen, "127.0.0.1:8080"},
				{"Store", c.Store, "sqlite:queuewatch.db"},
				{"LogLevel", c.LogLevel, "info"},
				{"Engine.Shards", c.Engine.Shards, runtime.NumCPU()},
				{"Engine.Tick", c.Engine.Tick, Duration(time.Second)},
				{"Genesys.Queues", c.Genesys.Queues, []string{"*"}},
				{"Genesys.PollInterval", c.Genesys.PollInterval, Duration(15 * time.Second)},
				{"Genesys.Stream", c.Genesys.Stream != nil && *c.Genesys.Stream, true},
				{"Genesys.RequestBudget", c.Genesys.RequestBudget, 150},
				{"Genesys.ServiceLevelWindow", c.Genesys.ServiceLevelWindow, Duration(30 * time.Minute)},
				{"Genesys.DiscoveryInterval", c.Genesys.DiscoveryInterval, Duration(5 * time.Minute)},
				{"Webhook.Path", c.Webhook.Path, "/webhook/genesys"},
				{"Webhook.MaxAge", c.Webhook.MaxAge, Duration(0)},
				{"WebhookAuthConfigured", c.WebhookAuthConfigured(), false},
				{"Rules", len(c.Rules), 0},
				{"Destinations", len(c.Destinations), 0},
				{"Schedules", len(c.Schedules), 0},
			}
			for _, ck := range checks {
				if !reflect.DeepEqual(ck.got, ck.want) {
					t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
				}
			}
		})
	}
}

func TestExplicitValuesKept(t *testing.T) {
	src := `engine:
  shards: 3
  tick: 250ms
genesys:
  poll_interval: 0s
  stream: false
  request_budget: 300
  queues: [Sales]
log_level: DEBUG
store: postgres://qw@db/qw
listen: ":9090"
`
	c := mustParse(t, src, nil)
	if c.Genesys.PollInterval != 0 {
		t.Errorf("poll_interval 0s became %v; 0 turns polling off", c.Genesys.PollInterval)
	}
	if c.Genesys.Stream == nil || *c.Genesys.Stream {
		t.Error("stream: false was not kept")
	}
	if c.Genesys.RequestBudget != 300 || c.Engine.Shards != 3 || c.Engine.Tick != Duration(250*time.Millisecond) {
		t.Errorf("budget %d shards %d tick %v", c.Genesys.RequestBudget, c.Engine.Shards, c.Engine.Tick)
	}
	if c.LogLevel != "debug" {
		t.Errorf("log_level = %q, want it normalised to debug", c.LogLevel)
	}
	if c.Store != "postgres://qw@db/qw" || c.Listen != ":9090" || !reflect.DeepEqual(c.Genesys.Queues, []string{"Sales"}) {
		t.Errorf("store %q listen %q queues %q", c.Store, c.Listen, c.Genesys.Queues)
	}
}

func TestRuleDefaults(t *testing.T) {
	src := `rules:
  - name: plain
    metric: waiting
    above: 10
  - name: slow_clear
    metric: service_level
    below: 80
    clear_for: 10m
    priority: p1
  - name: levels
    metric: longest_wait
    levels:
      - above: 120
        priority: p3
      - above: 300
        clear: 200
        priority: P1
  - name: flap_off
    metric: waiting
    above: 10
    flap: {window: 0s}
  - name: flap_custom
    metric: waiting
    above: 10
    flap: {transitions: 6, clear_for: 0s}
`
	c := mustParse(t, src, nil)
	plain := c.Rules[0]
	if plain.Priority != "P3" || !reflect.DeepEqual(plain.Queues, []string{"*"}) {
		t.Errorf("plain: priority %q queues %q, want P3 and [*]", plain.Priority, plain.Queues)
	}
	if plain.Clear == nil || *plain.Clear != (Threshold{Value: 10}) {
		t.Errorf("plain: clear = %v, want the threshold 10", plain.Clear)
	}
	if plain.Clear == plain.Above {
		t.Error("plain: clear shares the threshold's pointer")
	}
	if plain.Flap != (Flap{Window: Duration(30 * time.Minute), Transitions: 4, ClearFor: Duration(5 * time.Minute)}) {
		t.Errorf("plain: flap = %+v, want 30m, 4, 5m", plain.Flap)
	}
	if plain.For != 0 || plain.ClearFor != 0 || plain.StaleAfter != 0 {
		t.Errorf("plain: for %v clear_for %v stale_after %v, want 0", plain.For, plain.ClearFor, plain.StaleAfter)
	}

	slow := c.Rules[1]
	if slow.Priority != "P1" {
		t.Errorf("priority p1 = %q, want P1", slow.Priority)
	}
	if slow.Flap.ClearFor != Duration(30*time.Minute) {
		t.Errorf("flap.clear_for = %v, want 3 × clear_for = 30m", slow.Flap.ClearFor)
	}

	lv := c.Rules[2].Levels
	if lv[0].Priority != "P3" || *lv[0].Clear != (Threshold{Value: 120}) || *lv[1].Clear != (Threshold{Value: 200}) {
		t.Errorf("levels = %+v %+v, want P3 clear 120 and clear 200", lv[0], lv[1])
	}
	if lv[0].Line != 13 || lv[1].Line != 15 || c.Rules[2].Line != 10 {
		t.Errorf("lines: rule %d levels %d %d, want 10, 13, 15", c.Rules[2].Line, lv[0].Line, lv[1].Line)
	}
	if c.Rules[2].Clear != nil {
		t.Errorf("a rule with levels got a rule-level clear %v", c.Rules[2].Clear)
	}

	if f := c.Rules[3].Flap; f.Window != 0 || f.Transitions != 0 {
		t.Errorf("flap window 0s: %+v, want detection off (window 0, transitions 0)", f)
	}
	if f := c.Rules[4].Flap; f != (Flap{Window: Duration(30 * time.Minute), Transitions: 6, ClearFor: 0}) {
		t.Errorf("flap custom: %+v, want 30m, 6, explicit 0s clear_for", f)
	}
}

func TestOverrideDefaults(t *testing.T) {
	src := `rules:
  - name: abandon
    metric: abandon_rate
    above: 10
    clear: 8
    overrides:
      - queues: [VIP]
        threshold: 5
      - queues: [Sales]
        clear: 6
      - queues: [Lab]
        disabled: true
`
	c := mustParse(t, src, nil)
	o := c.Rules[0].Overrides
	if *o[0].Threshold != (Threshold{Value: 5}) || *o[0].Clear != (Threshold{Value: 5}) {
		t.Errorf("override with threshold 5: threshold %v clear %v, want 5 and 5", o[0].Threshold, o[0].Clear)
	}
	if *o[1].Threshold != (Threshold{Value: 10}) || *o[1].Clear != (Threshold{Value: 6}) {
		t.Errorf("override with clear 6: threshold %v clear %v, want the rule's 10 and 6", o[1].Threshold, o[1].Clear)
	}
	if !o[2].Disabled || o[2].Threshold != nil || o[2].Clear != nil {
		t.Errorf("disabled override = %+v", o[2])
	}
	if o[0].Line != 7 || o[1].Line != 9 || o[2].Line != 11 {
		t.Errorf("override lines %d %d %d, want 7 9 11", o[0].Line, o[1].Line, o[2].Line)
	}
}

func TestDestinationDefaults(t *testing.T) {
	src := `destinations:
  - name: og
    type: OpsGenie
    api_key: k
  - name: jsm
    type: jsm
    url: https://api.atlassian.com/jsm/ops/integration/
    api_key: k
  - name: sl
    type: slack
    token: t
    channel: C1
  - name: pd
    type: pagerduty
    routing_key: r
  - name: hook
    type: webhook
    url: https://example.com/hook/
  - name: tuned
    type: slack
    token: t
    channel: C1
    rate: 0.5
    burst: 1
    timeout: 3s
    retry: {initial: 2s, max: 1m, max_retry_after: 30s}
`
	c := mustParse(t, src, nil)
	type want struct {
		typ, url    string
		rate        float64
		burst       int
		timeout     time.Duration
		retry       Retry
		destination int
		line        int
	}
	def := Retry{Initial: Duration(time.Second), Max: Duration(5 * time.Minute), MaxRetryAfter: Duration(10 * time.Minute)}
	wants := []want{
		{"opsgenie", "https://api.opsgenie.com", 5, 10, 10 * time.Second, def, 0, 2},
		{"jsm", "https://api.atlassian.com/jsm/ops/integration", 5, 10, 10 * time.Second, def, 1, 5},
		{"slack", "https://slack.com/api", 1, 3, 10 * time.Second, def, 2, 9},
		{"pagerduty", "https://events.pagerduty.com", 2, 5, 10 * time.Second, def, 3, 13},
		{"webhook", "https://example.com/hook/", 10, 20, 10 * time.Second, def, 4, 16},
		{"slack", "https://slack.com/api", 0.5, 1, 3 * time.Second, Retry{Duration(2 * time.Second), Duration(time.Minute), Duration(30 * time.Second)}, 5, 19},
	}
	for _, w := range wants {
		d := c.Destinations[w.destination]
		got := want{d.Type, d.URL, d.Rate, d.Burst, d.Timeout.D(), d.Retry, w.destination, d.Line}
		if got != w {
			t.Errorf("destination %d (%s):\n got %+v\nwant %+v", w.destination, d.Name, got, w)
		}
	}
}

func TestScheduleDefaults(t *testing.T) {
	c := mustParse(t, "schedules:\n  - name: always\n", nil)
	s := c.Schedules[0]
	if s.Timezone != "UTC" || s.Weekdays != nil || s.Hours != nil || s.Line != 2 {
		t.Errorf("schedule = %+v, want timezone UTC, no weekdays or hours, line 2", s)
	}
}

func TestLeaderLease(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want time.Duration
		prob string
	}{
		{"", 15 * time.Second, ""},
		{"leader_lease: 3s\n", 3 * time.Second, ""},
		{"leader_lease: 500ms\n", 0, "queuewatch.yaml:1: leader_lease: must be between 1s and 10m"},
		{"leader_lease: 11m\n", 0, "queuewatch.yaml:1: leader_lease: must be between 1s and 10m"},
	} {
		cfg, probs := problems(t, c.yaml, nil)
		if c.prob != "" {
			if len(probs) != 1 || probs[0] != c.prob {
				t.Errorf("%q: problems %q, want %q", c.yaml, probs, c.prob)
			}
			continue
		}
		if len(probs) != 0 || cfg.LeaderLease.D() != c.want {
			t.Errorf("%q: leader_lease %v, problems %q; want %v", c.yaml, cfg.LeaderLease.D(), probs, c.want)
		}
	}
}

func TestAdvertiseURL(t *testing.T) {
	for _, c := range []struct {
		yaml, want, prob string
	}{
		{"", "", ""},
		{"advertise_url: http://10.0.0.5:8080\n", "http://10.0.0.5:8080", ""},
		{"advertise_url: https://qw-1.internal/\n", "https://qw-1.internal", ""},
		{"advertise_url: 10.0.0.5:8080\n", "", "queuewatch.yaml:1: advertise_url: must be an http:// or https:// URL, such as http://10.0.0.5:8080"},
		{"advertise_url: ftp://10.0.0.5\n", "", "queuewatch.yaml:1: advertise_url: must be an http:// or https:// URL, such as http://10.0.0.5:8080"},
		{"advertise_url: http://u:p@10.0.0.5:8080\n", "", "queuewatch.yaml:1: advertise_url: must be a base URL without user, query or fragment, such as http://10.0.0.5:8080"},
		{"advertise_url: http://10.0.0.5:8080/?x=1\n", "", "queuewatch.yaml:1: advertise_url: must be a base URL without user, query or fragment, such as http://10.0.0.5:8080"},
		{"\nadvertise_url: http://0.0.0.0:8080\n", "", "queuewatch.yaml:2: advertise_url: must name an address the other replicas can reach, not 0.0.0.0"},
		{"advertise_url: http://[::]:8080\n", "", "queuewatch.yaml:1: advertise_url: must name an address the other replicas can reach, not ::"},
	} {
		cfg, probs := problems(t, c.yaml, nil)
		if c.prob != "" {
			if len(probs) != 1 || probs[0] != c.prob {
				t.Errorf("%q: problems %q, want %q", c.yaml, probs, c.prob)
			}
			continue
		}
		if len(probs) != 0 || cfg.AdvertiseURL != c.want {
			t.Errorf("%q: advertise_url %q, problems %q; want %q", c.yaml, cfg.AdvertiseURL, probs, c.want)
		}
	}
}
