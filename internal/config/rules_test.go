package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidLevels(t *testing.T) {
	src := `rules:
  - name: sla_levels
    metric: service_level
    levels:
      - below: target
        clear: target+5
        priority: P3
      - below: target-10
        priority: P2
      - below: 50
        priority: P1
  - name: waits
    metric: longest_wait
    levels:
      - above: 60
        priority: P4
      - above: 61
        priority: P3
`
	c := mustParse(t, src, nil)
	lv := c.Rules[0].Levels
	if len(lv) != 3 || *lv[1].Below != (Threshold{Target: true, Value: -10}) || *lv[2].Below != (Threshold{Value: 50}) {
		t.Errorf("levels = %+v", lv)
	}
}

// TestLevelOrderFollowsDirection checks that "more severe" means higher
// for above and lower for below.
func TestLevelOrderFollowsDirection(t *testing.T) {
	const tmpl = `rules:
  - name: r
    metric: waiting
    levels:
      - DIR: A
        priority: P3
      - DIR: B
        priority: P1
`
	tests := []struct {
		dir, a, b string
		ok        bool
	}{
		{"above", "10", "20", true},
		{"above", "20", "10", false},
		{"above", "10", "10", false},
		{"below", "20", "10", true},
		{"below", "10", "20", false},
		{"below", "10", "10", false},
	}
	for _, tt := range tests {
		src := strings.NewReplacer("DIR", tt.dir, "A", tt.a, "B", tt.b).Replace(tmpl)
		_, probs := problems(t, src, nil)
		if ok := probs == nil; ok != tt.ok {
			t.Errorf("%s %s then %s: valid = %v, want %v (%q)", tt.dir, tt.a, tt.b, ok, tt.ok, probs)
		}
		if !tt.ok && (len(probs) != 1 || !strings.HasPrefix(probs[0], "queuewatch.yaml:7: rules[0].levels[1]."+tt.dir+": must be ")) {
			t.Errorf("%s %s then %s: problems %q", tt.dir, tt.a, tt.b, probs)
		}
	}
}

// TestClearSide covers the safe side of clear for both directions, and that
// a clear that cannot be compared without the queue's target is accepted.
func TestClearSide(t *testing.T) {
	tests := []struct {
		dir, threshold, clear string
		ok                    bool
	}{
		{"above", "30", "20", true},
		{"above", "30", "30", true},
		{"above", "30", "30.5", false},
		{"below", "80", "85", true},
		{"below", "80", "79.9", false},
		{"below", "target", "target+5", true},
		{"below", "target-5", "target-10", false},
		{"below", "target", "10", true}, // not comparable: accepted
		{"above", "90", "target", true}, // not comparable: accepted
	}
	for _, tt := range tests {
		src := "rules:\n  - name: r\n    metric: service_level\n    " + tt.dir + ": " + tt.threshold + "\n    clear: " + tt.clear + "\n"
		_, probs := problems(t, src, nil)
		if ok := probs == nil; ok != tt.ok {
			t.Errorf("%s %s clear %s: valid = %v, want %v (%q)", tt.dir, tt.threshold, tt.clear, ok, tt.ok, probs)
		}
		if !tt.ok && (len(probs) != 1 || !strings.HasPrefix(probs[0], "queuewatch.yaml:5: rules[0].clear: must be at or ")) {
			t.Errorf("%s %s clear %s: problems %q", tt.dir, tt.threshold, tt.clear, probs)
		}
	}
}

func TestMediaTypesNormalised(t *testing.T) {
	src := `rules:
  - name: r
    metric: waiting
    above: 1
    media_types: [Call, CHAT, voice, " email ", callback, message]
`
	c := mustParse(t, src, nil)
	want := []string{"voice", "chat", "email", "callback", "message"}
	if !reflect.DeepEqual(c.Rules[0].MediaTypes, want) {
		t.Errorf("media_types = %q, want %q", c.Rules[0].MediaTypes, want)
	}
}

func TestNotifyAndScheduleReferences(t *testing.T) {
	src := `rules:
  - name: r
    metric: waiting
    above: 1
    schedule: office
    notify: [a, b, a]
destinations:
  - {name: a, type: webhook, url: "https://example.com/a"}
  - {name: b, type: webhook, url: "https://example.com/b"}
schedules:
  - name: office
`
	c := mustParse(t, src, nil)
	if !reflect.DeepEqual(c.Rules[0].Notify, []string{"a", "b"}) {
		t.Errorf("notify = %q, want [a b] with the repeat removed", c.Rules[0].Notify)
	}
	if d, ok := c.Destination("b"); !ok || d.URL != "https://example.com/b" {
		t.Errorf("Destination(b) = %+v, %v", d, ok)
	}
	if _, ok := c.Destination("zzz"); ok {
		t.Error("Destination(zzz) found a destination")
	}
	if s, ok := c.Schedule("office"); !ok || s.Name != "office" || s.Line != 11 {
		t.Errorf("Schedule(office) = %+v, %v", s, ok)
	}
	if _, ok := c.Schedule("zzz"); ok {
		t.Error("Schedule(zzz) found a schedule")
	}
}

func TestWebhookAuthConfigured(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"webhook: {secret: s}\n", true},
		{"webhook: {tokens: [t]}\n", true},
		{"webhook: {tokens: [${UNSET_TOKEN}]}\n", false},
		{"webhook: {insecure: true}\n", false},
		{"webhook: {secret: ${UNSET_SECRET}}\n", false},
		{"", false},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.src, nil)
		if got := c.WebhookAuthConfigured(); got != tt.want {
			t.Errorf("%q: WebhookAuthConfigured() = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestOverrideLevels(t *testing.T) {
	src := `rules:
  - name: waits
    metric: longest_wait
    levels:
      - {above: 120, priority: P3}
      - {above: 300, priority: P1}
    overrides:
      - queues: [VIP]
        levels:
          - {above: 60, priority: P2}
          - {above: 120, priority: P1}
      - queues: [Lab]
        threshold: 10
`
	wantProblems(t, src, nil,
		`queuewatch.yaml:13: rules[0].overrides[1].threshold: cannot be used: the rule has levels; override them with "levels"`,
	)
}

func TestMergeKeys(t *testing.T) {
	src := `x-defaults: &defaults
  metric: service_level
  below: 80
  for: 1m
rules:
  - <<: *defaults
    name: a
  - <<: *defaults
    name: b
    below: 70
`
	// x-defaults is not a configuration key.
	_, probs := problems(t, src, nil)
	if len(probs) != 1 || probs[0] != `queuewatch.yaml:1: x-defaults: unknown key; known keys are listen, public_url, api_token, api_token_file, api_read_auth, store, log_level, leader_lease, advertise_url, engine, genesys, webhook, rules, destinations, schedules` {
		t.Fatalf("problems = %q", probs)
	}
	src = `rules:
  - &a
    name: a
    metric: service_level
    below: 80
    for: 1m
  - <<: *a
    name: b
    below: 70
`
	c := mustParse(t, src, nil)
	b := c.Rules[1]
	if b.Name != "b" || b.Metric != "service_level" || *b.Below != (Threshold{Value: 70}) || b.For != Duration(time.Minute) {
		t.Errorf("merged rule = %+v", b)
	}
}

// TestAliasBombIsRefused feeds a file whose merges and aliases would expand
// to 10^9 values and checks that Parse stops early with a problem.
func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("anchors:\n  - &m0 {metric: waiting}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*m%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("  - &l0 [{above: 1, priority: P1}]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  - &r%d [", i)
		b.WriteString(strings.Repeat("*m9, ", 9) + "*m9]\n")
	}
	b.WriteString("rules:\n  - <<: *m9\n    name: r\n    above: 1\n")
	start := time.Now()
	_, err := Parse("q.yaml", []byte(b.String()), nil)
	if err == nil || !strings.Contains(err.Error(), "the file expands to more than 100000 values") {
		t.Errorf("err = %v, want the too-many-values problem", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Parse took %v", d)
	}
}
