package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/store"
)

const restartConfig = `
listen: 127.0.0.1:0
store: sqlite:%s
rules:
  - name: sla_breach
    metric: service_level
    below: 80
    clear: 85
    clear_for: 1m
    priority: P1
    notify: [oncall, cc-slack]
webhook:
  secret: test-secret
destinations:
  - name: oncall
    type: opsgenie
    url: http://127.0.0.1:1  # nothing listens: sends fail fast and stay owed
    api_key: k
  - name: cc-slack
    type: slack
    url: http://127.0.0.1:1
    token: xoxb-t
    channel: C1
`

func restartCfg(t *testing.T, db string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("restart.yaml", fmt.Appendf(nil, restartConfig, db), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var tRestart = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func sla(v float64, at time.Time) metric.Sample {
	return metric.Sample{QueueID: "q-1", QueueName: "Support", Metric: metric.ServiceLevel, Value: v, At: at}
}

// TestMain lets the test binary act as a queuewatch process that is killed
// mid-breach by TestRestartAfterKillResolvesExactlyOnce.
func TestMain(m *testing.M) {
	if db := os.Getenv("QUEUEWATCH_TEST_CHILD_DB"); db != "" {
		os.Exit(childBreach(db))
	}
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// childBreach starts a service, makes an alert fire, reports that it is
// durable and then waits to be killed.
func childBreach(db string) int {
	cfg, err := config.Parse("restart.yaml", fmt.Appendf(nil, restartConfig, db), func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ctx := context.Background()
	s, err := Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := s.Engine().Observe(ctx, sla(70, tRestart)); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("firing")
	select {} // wait for SIGKILL
}

func deliveries(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range ds {
		out[d.Destination+":"+string(d.Action)]++
	}
	return out
}

// TestRestartAfterKillResolvesExactlyOnce: a process is SIGKILLed while an
// alert fires; a new process opens the same file, the queue recovers, and
// exactly one resolve is owed to each destination.
func TestRestartAfterKillResolvesExactlyOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "queuewatch.db")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "QUEUEWATCH_TEST_CHILD_DB="+db)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "firing" {
		_ = child.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	_ = child.Wait()

	ctx := context.Background()
	s, err := Start(ctx, restartCfg(t, db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	series, _, err := s.Engine().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || series[0].State != alert.Firing {
		t.Fatalf("after restart the alert must still fire: %+v", series)
	}
	eng := s.Engine()
	for i, v := range []float64{90, 91, 92} { // clear held for 1m at the third sample
		if err := eng.Observe(ctx, sla(v, tRestart.Add(time.Duration(i+1)*30*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// A third process finds nothing open and owes nothing more.
	s3, err := Start(ctx, restartCfg(t, db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Shutdown(ctx)
	if err := s3.Engine().Observe(ctx, sla(95, tRestart.Add(5*time.Minute))); err != nil {
		t.Fatal(err)
	}
	got := deliveries(t, s3.store)
	want := map[string]int{"oncall:create": 1, "oncall:resolve": 1, "cc-slack:create": 1, "cc-slack:resolve": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("owed deliveries %v, want %v", got, want)
	}
	series, _, _ = s3.Engine().Snapshot(ctx)
	if len(series) != 1 || series[0].State != alert.OK {
		t.Fatalf("series after recovery: %+v", series)
	}
}
