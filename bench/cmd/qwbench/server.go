package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// moduleRoot finds the directory of the queuewatch go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run qwbench from inside the queuewatch module (go run ./bench/cmd/qwbench)")
	}
	return filepath.Dir(gomod), nil
}

// build compiles pkg (a path relative to the module root) into dir.
func build(root, dir, pkg, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server listens; the server would then fail to start
// and qwbench says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// writeConfig writes the benchmark configuration: SQLite in dir, the
// webhook secret and two rules without destinations.
func writeConfig(dir string, port int, secret, logLevel string) (string, error) {
	cfg := fmt.Sprintf(`# written by qwbench
listen: 127.0.0.1:%d
store: sqlite:%s
log_level: %s
webhook:
  secret: %q
rules:
  - name: sla_breach
    metric: service_level
    below: 80
  - name: long_wait
    metric: longest_wait
    above: 300
`, port, filepath.Join(dir, "queuewatch.db"), logLevel, secret)
	path := filepath.Join(dir, "queuewatch.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// server is the queuewatch process under test.
type server struct {
	cmd     *exec.Cmd
	pid     int
	addr    string // host:port
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	stopped bool          // set before qwbench itself ends the process
}

func startServer(bin string, args []string, addr, logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// If qwbench dies, the server gets SIGTERM rather than living on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, addr: addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s, nil
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("queuewatch exited during start: %v", s.waitErr)
		}
		code, _, err := s.get("/readyz")
		if err == nil && code == http.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("/readyz answered %d", code)
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, bounded by the deadline
	}
	return fmt.Errorf("queuewatch not ready after %s: %v", timeout, last)
}

var adminClient = &http.Client{Timeout: 10 * time.Second}

func (s *server) get(path string) (int, []byte, error) {
	resp, err := adminClient.Get("http://" + s.addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// readyz returns the decoded /readyz answer and its status.
func (s *server) readyz() (int, map[string]any, error) {
	code, b, err := s.get("/readyz")
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return code, nil, fmt.Errorf("/readyz: %w", err)
	}
	return code, m, nil
}

// scrape returns the samples of /metrics, keyed by name{labels}.
func (s *server) scrape() (map[string]float64, error) {
	code, b, err := s.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics answered %d", code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// stop sends SIGTERM and waits for a clean exit; after timeout it kills
// the process and reports that.
func (s *server) stop(timeout time.Duration) error {
	if !s.alive() {
		return fmt.Errorf("queuewatch had already exited: %v", s.waitErr)
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("queuewatch exited with %v after SIGTERM", s.waitErr)
		}
		return nil
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("queuewatch did not stop within %s of SIGTERM; killed", timeout)
	}
}

// kill ends the process at once (used on the way out after a failure).
func (s *server) kill() {
	if s.alive() {
		s.stopped = true
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail returns the last n lines of the server's log.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
