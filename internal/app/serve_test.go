package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

func TestServeHealthReadyAndGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, restartCfg(t, db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + s.Addr()
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body["status"] != want {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, body)
		}
	}
	// A write accepted before shutdown is durable after it.
	if err := s.Engine().Observe(ctx, sla(10, tRestart)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answering after shutdown")
	}
	st, err := OpenStore(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := deliveries(t, st); got["oncall:create"] != 1 {
		t.Fatalf("deliveries after shutdown: %v", got)
	}
}

func TestListenDefaultsToLoopback(t *testing.T) {
	cfg, err := DemoConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" {
		t.Fatalf("default listen %q", cfg.Listen)
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://qw:s3cret@db:5432/qw": "postgres://qw:xxxxx@db:5432/qw",
		"postgres://qw@db/qw":             "postgres://qw@db/qw",
		"sqlite:queuewatch.db":            "sqlite:queuewatch.db",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
