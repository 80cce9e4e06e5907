package app

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoPlaysScriptedIncidents runs 25 simulated minutes as fast as the
// machine allows and checks that the scripted incidents page and recover.
func TestDemoPlaysScriptedIncidents(t *testing.T) {
	start := time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC)
	run := func() string {
		var out bytes.Buffer
		opts := DemoOptions{Queues: 8, Speed: 1e9, Duration: 25 * time.Minute, Seed: 0, Start: start,
			Store: filepath.Join(t.TempDir(), "demo.db")}
		if err := Demo(context.Background(), opts, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := run()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`"Support - Voice" sla_breach pending → firing .* action=create`),     // lunch spike
		regexp.MustCompile(`"Sales - Voice" long_wait pending → firing .* action=create`),        // agents logging off
		regexp.MustCompile(`"Support - Voice" sla_breach resolving → ok .* action=resolve`),      // recovery
		regexp.MustCompile(`→ oncall \(opsgenie\): create \S+_sla_breach: ALARM: Queue Support`), // what would be sent
	} {
		if !want.MatchString(out) {
			t.Errorf("demo output lacks %s\n%s", want, out)
		}
	}
	creates := strings.Count(out, "action=create")
	resolves := strings.Count(out, "action=resolve")
	if creates == 0 || resolves == 0 || resolves > creates {
		t.Errorf("%d creates, %d resolves", creates, resolves)
	}
	if again := run(); again[strings.Index(again, "\n"):] != out[strings.Index(out, "\n"):] {
		t.Error("the same seed and start must play the same demo")
	}
}
