package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func replayFixture(t *testing.T, format string) []byte {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", "replay", "queuewatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(filepath.Join("testdata", "replay", "scenario.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	until := time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC)
	if err := Replay(context.Background(), cfg, in, &out, ReplayOptions{Format: format, Name: "scenario.jsonl", Until: until}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestReplayGolden replays a recorded scenario that exercises pending,
// levels, hysteresis, flapping, a business-hours schedule across the DST
// change, staleness and an out-of-order sample, and compares with the
// reviewed output. Run with -update to rewrite it after a deliberate change.
func TestReplayGolden(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			got := replayFixture(t, format)
			golden := filepath.Join("testdata", "replay", "golden."+format)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("replay output differs from %s (run go test ./internal/app -run TestReplayGolden -update after checking the change)\n--- got ---\n%s", golden, got)
			}
			// Same input, same output, every time.
			if again := replayFixture(t, format); !bytes.Equal(again, got) {
				t.Fatal("a second replay gave different output")
			}
		})
	}
}

func TestReplayJSONIsOneObjectPerLine(t *testing.T) {
	out := replayFixture(t, "json")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	creates := 0
	for i, l := range lines {
		var rec replayRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if rec.Transition.Action == "create" && len(rec.Notifications) > 0 {
			creates++
			if rec.Notifications[0].Key != rec.Transition.Key || rec.Notifications[0].Type == "" {
				t.Fatalf("line %d: notification %+v", i+1, rec.Notifications[0])
			}
		}
	}
	if creates != 5 {
		t.Fatalf("%d notified creates, want 5", creates)
	}
}

func TestReplayRejectsBadLinesWithLineNumbers(t *testing.T) {
	cfg, err := config.Parse("q.yaml", []byte("rules: []\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		`{"at":"2026-01-01T00:00:00Z","queue_id":"q","metric":"nope","value":1}`:              "in.jsonl:2: unknown metric \"nope\"",
		`{"at":"2026-01-01T00:00:00Z","queue_id":"q","metric":"waiting"}`:                     `in.jsonl:2: "value" is missing`,
		`{"queue_id":"q","metric":"waiting","value":1}`:                                       `in.jsonl:2: "at" is missing`,
		`{"at":"2026-01-01T00:00:00Z","metric":"waiting","value":1}`:                          `in.jsonl:2: "queue_id" is missing`,
		`{"at":"2026-01-01T00:00:00Z","queue_id":"q","metric":"waiting","value":1,`:           "in.jsonl:2: not a sample",
		`{"at":"2026-01-01T00:00:00Z","queue_id":"q","metric":"waiting","value":1,"extra":2}`: "in.jsonl:2: not a sample",
	}
	for line, want := range cases {
		in := strings.NewReader("# comment\n" + line + "\n")
		err := Replay(context.Background(), cfg, in, &bytes.Buffer{}, ReplayOptions{Name: "in.jsonl"})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("input %s\n got error %v\nwant prefix %q", line, err, want)
		}
	}
}
