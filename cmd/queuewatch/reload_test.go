package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveChildEnv makes the test binary run "queuewatch serve" with the
// arguments in it (separated by newlines) instead of the tests.
const serveChildEnv = "QUEUEWATCH_TEST_SERVE_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveChildEnv); args != "" {
		os.Exit(run(append([]string{"serve"}, strings.Split(args, "\n")...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeReloadsOnSIGHUP runs serve as its own process and sends it
// SIGHUP: a valid file is applied (the reload counter moves and the new
// rule count is logged), an invalid one is reported with its file and line
// and the service keeps running; SIGTERM then stops it cleanly.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "queuewatch.yaml")
	base := fmt.Sprintf("listen: 127.0.0.1:0\nstore: sqlite:%s\nwebhook:\n  secret: s3cret-s3cret\nrules:\n", filepath.Join(dir, "q.db"))
	rule := func(name string) string { return "  - name: " + name + "\n    metric: waiting\n    above: 5\n" }
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base + rule("a"))

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveChildEnv+"=--config\n"+path)
	var stderr lockedBuffer
	cmd.Stderr, cmd.Stdout = &stderr, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once the child has exited, with exitErr set
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails harmlessly when it has exited
		<-exited
	})
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; the service logged:\n%s", what, stderr.String())
			}
			select {
			case <-exited:
				t.Fatalf("serve exited (%v) while waiting for %s; it logged:\n%s", exitErr, what, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	listen := regexp.MustCompile(`msg="queuewatch started".* listen=(127\.0\.0\.1:\d+)`)
	var addr string
	wait("the service to start", func() bool {
		m := listen.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	reloads := func(result string) float64 {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?m)^queuewatch_config_reloads_total\{result="` + result + `"\} (\S+)$`).FindSubmatch(body)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	wait("the first load to be counted", func() bool { return reloads("success") == 1 })

	write(base + rule("a") + rule("b"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wait("the reload to apply", func() bool { return reloads("success") == 2 })
	if !regexp.MustCompile(`msg="configuration reloaded" rules=2`).MatchString(stderr.String()) {
		t.Errorf("no log of the reloaded configuration with 2 rules:\n%s", stderr.String())
	}

	write(base + rule("a") + "    below: 3\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wait("the failed reload to be counted", func() bool { return reloads("failure") == 1 })
	wait("the failed reload's log naming the file, line and key", func() bool {
		return strings.Contains(stderr.String(), path+":9: rules[0].below")
	})
	if reloads("success") != 2 {
		t.Error("an invalid file was counted as a successful reload")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("serve exited with %v after SIGTERM; it logged:\n%s", exitErr, stderr.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM; it logged:\n%s", stderr.String())
	}
}
