// Command qwbench is a load harness for queuewatch's webhook. It builds
// queuewatch, writes a throw-away configuration (SQLite in a temporary
// directory, a webhook secret, two rules without destinations), starts
// `queuewatch serve` as a separate process on 127.0.0.1, waits for
// /readyz and drives POST /webhook/genesys from this process with signed
// events:
//
//   - throughput: one event per request, N keep-alive connections, closed
//     loop, for a fixed time;
//   - latency: an open-loop schedule of R events per second, latencies
//     measured from each event's due time;
//   - batch: JSON arrays of events, closed loop.
//
// It prints a Markdown table with the accepted events per second, errors,
// latency percentiles, the server's CPU (from /proc/PID/stat) and peak RSS
// (VmHWM). It exits non-zero only when a correctness check fails (an
// answer other than the expected one, a mismatch with the server's own
// counters, or the server dying or not stopping cleanly), never because
// of speed. Traffic goes to 127.0.0.1 only; every loop is bounded in time
// and in count. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	exitOK      = 0
	exitFailed  = 1 // a correctness check failed
	exitSetup   = 2 // bad flags, or the server could not be built or started
	webhookPath = "/webhook/genesys"
)

type options struct {
	conns        int
	duration     time.Duration
	rate         float64
	latDuration  time.Duration
	latConns     int
	drain        time.Duration
	batch        int
	batchConns   int
	queues       int
	phases       string
	short        bool
	cpuprofile   string
	keep         bool
	timeout      time.Duration
	logLevel     string
	serverBinary string
	selfprofile  string
	speed        float64
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("qwbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections in the throughput phase")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the throughput and batch phases")
	fs.Float64Var(&o.rate, "rate", 5000, "events per second offered in the latency phase")
	fs.DurationVar(&o.latDuration, "latency-duration", 10*time.Second, "length of the latency phase's schedule")
	fs.IntVar(&o.latConns, "latency-conns", 64, "connections the latency phase sends on")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "latency phase: how long after its schedule ends queued events may still be sent")
	fs.IntVar(&o.batch, "batch", 100, "events per request in the batch phase")
	fs.IntVar(&o.batchConns, "batch-conns", 16, "concurrent connections in the batch phase")
	fs.IntVar(&o.queues, "queues", 3000, "distinct queues the events are about (the server takes at most 10,000)")
	fs.StringVar(&o.phases, "phases", "throughput,latency,batch,e2e,scale,budget,storm", "comma-separated phases to run")
	fs.BoolVar(&o.short, "short", false, "2 s phases (for CI): overrides -duration and -latency-duration, -drain 5s")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "run a profiling build of serve (bench/cmd/qwprofserve) and write its CPU profile of the whole run to this `file`")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binary, configuration, database, server log)")
	fs.DurationVar(&o.timeout, "request-timeout", 30*time.Second, "deadline of one request")
	fs.StringVar(&o.logLevel, "log-level", "info", "the server's log_level")
	fs.StringVar(&o.serverBinary, "server", "", "use this queuewatch `binary` instead of building ./cmd/queuewatch")
	fs.Float64Var(&o.speed, "speed", 10, "storm phase: how much faster than its 10 minutes it runs (10: one minute)")
	fs.StringVar(&o.selfprofile, "selfprofile", "", "write a CPU profile of qwbench itself (the load generator) to this `file`")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitSetup
	}
	if o.short {
		o.duration, o.latDuration, o.drain = 2*time.Second, 2*time.Second, 5*time.Second
	}
	phases := map[string]bool{}
	for _, p := range strings.Split(o.phases, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "throughput", "latency", "batch", "e2e", "scale", "budget", "storm":
			phases[p] = true
		case "":
		default:
			fmt.Fprintf(stderr, "qwbench: unknown phase %q (throughput, latency, batch, e2e, scale, budget, storm)\n", p)
			return exitSetup
		}
	}
	switch {
	case o.conns < 1 || o.latConns < 1 || o.batchConns < 1:
		fmt.Fprintln(stderr, "qwbench: connection counts must be at least 1")
		return exitSetup
	case o.duration <= 0 || o.latDuration <= 0 || o.duration > 10*time.Minute || o.latDuration > 10*time.Minute:
		fmt.Fprintln(stderr, "qwbench: durations must be between 0 and 10m")
		return exitSetup
	case o.speed < 1 || o.speed > 600:
		fmt.Fprintln(stderr, "qwbench: -speed must be between 1 and 600")
		return exitSetup
	case o.rate <= 0 || o.rate > 1e6:
		fmt.Fprintln(stderr, "qwbench: -rate must be between 0 and 1,000,000")
		return exitSetup
	case o.queues < 1 || o.queues > 10000:
		fmt.Fprintln(stderr, "qwbench: -queues must be between 1 and 10,000")
		return exitSetup
	case phases["batch"] && (o.batch < 2 || o.batch > 1000):
		fmt.Fprintln(stderr, "qwbench: -batch must be between 2 and 1000")
		return exitSetup
	}
	if o.selfprofile != "" {
		f, err := os.Create(o.selfprofile)
		if err != nil {
			fmt.Fprintln(stderr, "qwbench:", err)
			return exitSetup
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "qwbench:", err)
			return exitSetup
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	b := &bench{o: o, phases: phases, stdout: stdout, stderr: stderr}
	return b.run(args)
}

type bench struct {
	o       options
	phases  map[string]bool
	stdout  io.Writer
	stderr  io.Writer
	dir     string
	srv     *server
	env     *env
	results []*result
	// What the server must have counted, from this side.
	acceptedRequests int64
	acceptedSamples  int64
	transitions      int64
	died             bool // the server's death was reported
	failures         []string
	// bin is the queuewatch binary the proof phases run.
	bin       string
	proofRows []proofRow
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.stderr, "qwbench: "+format+"\n", a...)
}

func (b *bench) failf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	b.failures = append(b.failures, msg)
	b.logf("FAIL: %s", msg)
}

func (b *bench) run(args []string) int {
	dir, err := os.MkdirTemp("", "qwbench-")
	if err != nil {
		b.logf("%v", err)
		return exitSetup
	}
	b.dir = dir
	defer func() {
		if b.srv != nil {
			b.srv.kill()
		}
		if b.o.keep {
			b.logf("kept %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	// Ctrl-C: stop the server too, then leave.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			if b.srv != nil {
				b.srv.kill()
			}
			if !b.o.keep {
				os.RemoveAll(dir)
			}
			os.Exit(130)
		}
	}()

	if code := b.start(); code != exitOK {
		return code
	}
	b.checks()
	if len(b.failures) == 0 {
		b.load()
	}
	b.after()
	if len(b.failures) == 0 {
		b.proof()
	}
	b.report(args)
	b.reportProof()
	if len(b.failures) > 0 {
		fmt.Fprintf(b.stdout, "\n**FAILED** correctness checks:\n")
		for _, f := range b.failures {
			fmt.Fprintf(b.stdout, "- %s\n", f)
		}
		if b.srv != nil {
			fmt.Fprintf(b.stderr, "--- last lines of the server log ---\n%s\n", b.srv.logTail(20))
		}
		return exitFailed
	}
	return exitOK
}

// start builds and starts the server and waits until it is ready.
func (b *bench) start() int {
	bin := b.o.serverBinary
	args := []string{"serve"}
	if b.o.cpuprofile != "" || bin == "" {
		root, err := moduleRoot()
		if err != nil {
			b.logf("%v", err)
			return exitSetup
		}
		pkg, name := "./cmd/queuewatch", "queuewatch"
		if b.o.cpuprofile != "" {
			pkg, name, args = "./bench/cmd/qwprofserve", "qwprofserve", nil
			if p, err := filepath.Abs(b.o.cpuprofile); err == nil {
				b.o.cpuprofile = p
			}
		}
		b.logf("building %s", pkg)
		if bin, err = build(root, b.dir, pkg, name); err != nil {
			b.logf("%v", err)
			return exitSetup
		}
	}
	b.bin = bin
	port, err := freePort()
	if err != nil {
		b.logf("%v", err)
		return exitSetup
	}
	secret := "qwbench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cfg, err := writeConfig(b.dir, port, secret, b.o.logLevel)
	if err != nil {
		b.logf("%v", err)
		return exitSetup
	}
	args = append(args, "--config", cfg)
	if b.o.cpuprofile != "" {
		args = append(args, "--cpuprofile", b.o.cpuprofile)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	b.srv, err = startServer(bin, args, addr, filepath.Join(b.dir, "server.log"))
	if err != nil {
		b.logf("starting the server: %v", err)
		return exitSetup
	}
	if err := b.srv.waitReady(30 * time.Second); err != nil {
		b.logf("%v\n--- server log ---\n%s", err, b.srv.logTail(20))
		return exitSetup
	}
	b.logf("queuewatch serve is ready on %s (pid %d)", addr, b.srv.pid)
	b.env = &env{srv: b.srv, fleet: newFleet(b.o.queues, strconv.FormatInt(time.Now().UnixNano(), 36)),
		secret: []byte(secret), path: webhookPath, timeout: b.o.timeout}
	return exitOK
}

// checks sends a few requests whose answers are known before any load.
func (b *bench) checks() {
	e := b.env
	c := newConn(b.srv.addr, e.timeout)
	defer c.close()
	s := newSender(e.fleet, e.secret, "check", 0)
	body := append([]byte(nil), s.single(time.Now())...)
	sig := s.sign(body)
	expect := func(what string, code int, resp []byte, err error, want int, contains string) bool {
		switch {
		case err != nil:
			b.failf("check %s: %v", what, err)
		case code != want || !strings.Contains(string(resp), contains):
			b.failf("check %s: answered %d %s, want %d with %s", what, code, strings.TrimSpace(string(resp)), want, contains)
		default:
			return true
		}
		return false
	}
	code, resp, err := c.do("GET", e.path, "", nil)
	expect("GET", code, resp, err, http.StatusMethodNotAllowed, `"error"`)
	code, resp, err = c.post(e.path, "", body)
	expect("unsigned event", code, resp, err, http.StatusUnauthorized, `"error"`)
	bad := sig[:len(sig)-1] + "0"
	if sig[len(sig)-1] == '0' {
		bad = sig[:len(sig)-1] + "1"
	}
	code, resp, err = c.post(e.path, bad, body)
	expect("wrongly signed event", code, resp, err, http.StatusUnauthorized, `"error"`)
	code, resp, err = c.post(e.path, sig, body)
	if expect("signed event", code, resp, err, http.StatusAccepted, `"status":"accepted"`) {
		b.acceptedRequests++
		b.acceptedSamples += int64(max(0, answerSamples(resp)))
	}
	code, resp, err = c.post(e.path, sig, body)
	expect("the same event again", code, resp, err, http.StatusOK, `"status":"duplicate"`)
}

// load runs the phases in order, stopping early if the server dies.
func (b *bench) load() {
	type phase struct {
		name string
		run  func() (*result, error)
	}
	o := b.o
	all := []phase{
		{"throughput", func() (*result, error) {
			return b.env.closedLoop("throughput", "tp", o.conns, 1, o.duration)
		}},
		{"latency", func() (*result, error) {
			return b.env.openLoop(fmt.Sprintf("latency @ %s/s", thousands(o.rate)), "lat", o.rate, o.latDuration, o.latConns, o.drain)
		}},
		{"batch", func() (*result, error) {
			return b.env.closedLoop(fmt.Sprintf("batch of %d", o.batch), "batch", o.batchConns, o.batch, o.duration)
		}},
	}
	for _, p := range all {
		if !b.phases[p.name] {
			continue
		}
		if !b.srv.alive() {
			b.failf("the server died before the %s phase: %v", p.name, b.srv.waitErr)
			b.died = true
			return
		}
		b.logf("phase %s", p.name)
		r, err := p.run()
		if err != nil {
			b.failf("phase %s: %v", p.name, err)
			continue
		}
		b.results = append(b.results, r)
		b.acceptedSamples += r.samples
		b.acceptedRequests += r.acceptedReqs
		if r.errors > 0 {
			b.failf("phase %s: %d of %d requests failed: %s; e.g. %s", p.name, r.errors, r.requests,
				errSummary(r.errs), strings.Join(r.examples, " | "))
		}
		if !b.srv.alive() {
			b.failf("the server died during the %s phase: %v", p.name, b.srv.waitErr)
			b.died = true
			return
		}
		time.Sleep(time.Second) // let the last commits and GC settle between phases
	}
}

// after compares the server's own counters with what was sent and stops
// the server, which must exit cleanly.
func (b *bench) after() {
	if b.srv == nil || !b.srv.alive() {
		if b.srv != nil && !b.srv.stopped && !b.died {
			b.failf("the server died: %v", b.srv.waitErr)
		}
		return
	}
	code, rz, err := b.srv.readyz()
	switch {
	case err != nil:
		b.failf("/readyz after the load: %v", err)
	case code != http.StatusOK:
		b.failf("/readyz after the load answered %d: %v", code, rz)
	default:
		if v, ok := rz["transitions"].(float64); ok {
			b.transitions = int64(v)
		}
		if v, ok := rz["commit_failures"].(float64); ok && v > 0 {
			b.failf("the engine reports %v failed commits", v)
		}
	}
	m, err := b.srv.scrape()
	if err != nil {
		b.failf("/metrics: %v", err)
	} else {
		gotReq := int64(m[`queuewatch_webhook_requests_total{result="accepted"}`])
		gotSamples := int64(m[`queuewatch_samples_received_total{source="webhook"}`])
		if gotReq != b.acceptedRequests {
			b.failf("the server counted %d accepted webhook requests, qwbench saw %d answered 202", gotReq, b.acceptedRequests)
		}
		if gotSamples != b.acceptedSamples {
			b.failf("the server counted %d webhook samples, its 202 answers reported %d", gotSamples, b.acceptedSamples)
		}
	}
	if err := b.srv.stop(30 * time.Second); err != nil {
		b.failf("%v", err)
	}
	if b.o.cpuprofile != "" {
		b.logf("CPU profile of the server: %s (go tool pprof -top %s)", b.o.cpuprofile, b.o.cpuprofile)
	}
}

func errSummary(m map[string]int64) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
	}
	return strings.Join(parts, ", ")
}

// report prints the Markdown table.
func (b *bench) report(args []string) {
	w := b.stdout
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s, Go %s; server and qwbench share it.\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS+"/"+runtime.GOARCH, strings.TrimPrefix(runtime.Version(), "go"))
	command := strings.Join(append([]string{"go run ./bench/cmd/qwbench"}, args...), " ")
	fmt.Fprintf(w, "Command: `%s`; %d queues, HMAC-SHA256 on every request.\n\n", command, b.o.queues)
	fmt.Fprintln(w, "| phase | load | accepted events/s | requests/s | errors | p50 | p99 | p99.9 | max | server CPU | server CPU per event | server peak RSS | qwbench CPU | other processes' CPU |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range b.results {
		secs := r.wall.Seconds()
		evps := float64(r.accepted) / secs
		reqps := float64(r.requests) / secs
		if r.offered > 0 {
			// Open loop: the rate is the schedule's, over its own length.
			evps = float64(r.accepted) / b.o.latDuration.Seconds()
			reqps = float64(r.requests) / b.o.latDuration.Seconds()
		}
		cpu, perEvent, rss := "–", "–", "–"
		if r.serverKnown {
			cpu = fmt.Sprintf("%.2f cores", r.serverCPU/secs)
			rss = fmt.Sprintf("%.0f MiB", float64(r.peakRSSKB)/1024)
			if !r.rssIsPhase {
				rss += " (since start)"
			}
			if r.accepted > 0 {
				perEvent = fmt.Sprintf("%.1f µs", r.serverCPU/float64(r.accepted)*1e6)
			}
		}
		errs := strconv.FormatInt(r.errors, 10)
		if r.notSent > 0 {
			errs += fmt.Sprintf(" (+%d not sent in time)", r.notSent)
		}
		fmt.Fprintf(w, "| %s | %s | **%s** | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f cores | %.2f cores |\n",
			r.name, r.setup, thousands(evps), thousands(reqps), errs, ms(r.pct(0.50)), ms(r.pct(0.99)), ms(r.pct(0.999)),
			ms(r.pct(1)), cpu, perEvent, rss, r.clientCPU/secs, r.otherCPU/secs)
	}
	for _, r := range b.results {
		if r.otherCPU/r.wall.Seconds() > 0.25 {
			who := ""
			if len(r.others) > 0 {
				who = " (" + strings.Join(r.others, ", ") + ")"
			}
			fmt.Fprintf(w, "\n**Warning**: other processes used %.2f cores during %q%s: the figures are disturbed; rerun on a quiet machine.\n",
				r.otherCPU/r.wall.Seconds(), r.name, who)
		}
	}
	for _, r := range b.results {
		if r.offered == 0 || len(r.slow) == 0 {
			continue
		}
		eps := episodes(r.slow)
		fmt.Fprintf(w, "\n%s: %d events (%.2f %%) took over %s, in %d episodes; the largest:",
			r.name, len(r.slow), 100*float64(len(r.slow))/float64(max(1, r.requests)), slowThreshold, len(eps))
		for i, ep := range eps[:min(3, len(eps))] {
			sep := ";"
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(w, "%s %d events due %.2f–%.2f s into the schedule, up to %s (up to %s of it before the send)",
				sep, ep.events, ep.from.Seconds(), ep.to.Seconds(), ms(ep.maxLat), ms(ep.maxWait))
		}
		fmt.Fprintln(w, ".")
	}
	fmt.Fprintf(w, "\nLatency is from the intended send time (open loop) or the send (closed loop) to the end of the answer. "+
		"Alert transitions committed during the run: %d.\n", b.transitions)
}

func thousands(v float64) string {
	n := int64(math.Round(v))
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
