package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
)

// The proof phases each run their own queuewatch process with their own
// configuration and fakes (in this process), and check an invariant that
// fails the run when broken:
//
//   - e2e: breaching samples → OpsGenie create at the fake, with for: 0;
//     every breach gets exactly one create;
//   - scale: 10,000 queues × 4 rules firing, restarted from the store, then
//     all recovered; every series fires, survives the restart and resolves;
//   - budget: Genesys requests per minute for 1,000 / 5,000 / 10,000 queues,
//     stream and poll, against the fake Genesys; never over the budget;
//   - storm: 1,000 queues flapping; alert-changing OpsGenie requests equal
//     the deliveries the transitions owed, exactly.

// proofPhases are the proof phase names, in running order.
var proofPhases = []string{"e2e", "scale", "budget", "storm"}

// proofRow is one line of the proof table.
type proofRow struct {
	phase, setup, figures, check string
}

// proofEnv is one server of a proof phase.
type proofEnv struct {
	b      *bench
	dir    string
	srv    *server
	secret []byte
	client *http.Client
}

// proofServer writes cfg (a configuration without listen and webhook,
// which it adds) into its own directory and starts queuewatch on it.
func (b *bench) proofServer(name, cfg string) (*proofEnv, error) {
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	secret := "qwbench-" + name
	text := fmt.Sprintf("# written by qwbench\nlisten: 127.0.0.1:%d\nlog_level: warn\nwebhook:\n  secret: %q\n%s",
		port, secret, strings.ReplaceAll(cfg, "DIR", dir))
	path := filepath.Join(dir, "queuewatch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, err
	}
	e := &proofEnv{b: b, dir: dir, secret: []byte(secret), client: &http.Client{Timeout: 30 * time.Second}}
	return e, e.start(path, "127.0.0.1:"+strconv.Itoa(port))
}

// start starts (or restarts) the server and waits for /readyz.
func (e *proofEnv) start(cfgPath, addr string) error {
	srv, err := startServer(e.b.bin, []string{"serve", "--config", cfgPath}, addr, filepath.Join(e.dir, fmt.Sprintf("server-%d.log", time.Now().UnixNano())))
	if err != nil {
		return err
	}
	e.srv = srv
	return srv.waitReady(2 * time.Minute)
}

// restart stops the server gracefully and starts it again on the same
// configuration, returning how long the new process took to be ready.
func (e *proofEnv) restart() (time.Duration, error) {
	if err := e.srv.stop(time.Minute); err != nil {
		return 0, err
	}
	t0 := time.Now()
	err := e.start(filepath.Join(e.dir, "queuewatch.yaml"), e.srv.addr)
	return time.Since(t0), err
}

// sample is one metric of one queue.
type sample struct {
	queue, metric string
	value         float64
}

// post signs and posts samples as one tutorial event each, in one request.
func (e *proofEnv) post(ss ...sample) error {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var b bytes.Buffer
	if len(ss) > 1 {
		b.WriteByte('[')
	}
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_id":"%s-%d-%d","event_type":"com.genesiscloud.queue.metric","timestamp":%q,"data":{"queue_id":%q,"queue_name":"Queue %s","metric":%q,"value":%g}}`,
			s.queue, time.Now().UnixNano(), i, now, s.queue, s.queue, s.metric, s.value)
	}
	if len(ss) > 1 {
		b.WriteByte(']')
	}
	mac := hmac.New(sha256.New, e.secret)
	mac.Write(b.Bytes())
	req, err := http.NewRequest(http.MethodPost, "http://"+e.srv.addr+webhookPath, &b)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Genesys-Cloud-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("webhook answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// metric returns one series of the server's /metrics (0 when absent).
func (e *proofEnv) metric(series string) float64 {
	m, err := e.srv.scrape()
	if err != nil {
		return -1
	}
	return m[series]
}

// waitUntil polls cond every interval until it holds or d passes.
func waitUntil(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval) // polling a condition, bounded by the deadline
	}
	return true
}

// rssMiB returns the server's current and peak resident memory.
func (e *proofEnv) rssMiB() (cur, peak float64) {
	c, _ := statusKB(e.srv.pid, "VmRSS")
	p, _ := statusKB(e.srv.pid, "VmHWM")
	return float64(c) / 1024, float64(p) / 1024
}

func (e *proofEnv) close() {
	if e.srv != nil && e.srv.alive() {
		if err := e.srv.stop(time.Minute); err != nil {
			e.b.failf("%v", err)
		}
	}
}

// proof runs the requested proof phases.
func (b *bench) proof() {
	if b.o.cpuprofile != "" {
		b.logf("the proof phases run queuewatch itself; leaving them out with --cpuprofile")
		return
	}
	for _, name := range proofPhases {
		if !b.phases[name] {
			continue
		}
		b.logf("proof phase %s", name)
		var err error
		switch name {
		case "e2e":
			err = b.proofE2E()
		case "scale":
			err = b.proofScale()
		case "budget":
			err = b.proofBudget()
		case "storm":
			err = b.proofStorm()
		}
		if err != nil {
			b.failf("proof phase %s: %v", name, err)
		}
	}
}

// ogDestination is an OpsGenie destination at url whose own rate limit
// does not bind, so the phase measures queuewatch, not the limiter.
func ogDestination(url string) string {
	return fmt.Sprintf(`destinations:
  - name: oncall
    type: opsgenie
    url: %s
    api_key: %s
    rate: 1000
    burst: 1000
    retry: {initial: 100ms, max: 2s}
`, url, fakeog.DefaultKey)
}

// proofE2E measures sample → OpsGenie create at the fake.
func (b *bench) proofE2E() error {
	og := fakeog.New()
	url, stop, err := og.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stop(context.Background())
	e, err := b.proofServer("e2e", `store: sqlite:DIR/queuewatch.db
rules:
  - name: long_wait
    metric: longest_wait
    above: 300
    for: 0s
    priority: P2
    notify: [oncall]
`+ogDestination(url))
	if err != nil {
		return err
	}
	defer e.close()
	n, pace := 400, 20.0
	if b.o.short {
		n = 60
	}
	sent := make(map[string]time.Time, n)
	tick := time.NewTicker(time.Duration(float64(time.Second) / pace))
	defer tick.Stop()
	for i := range n {
		<-tick.C
		q := fmt.Sprintf("e2e-%05d", i)
		sent[q+"_long_wait"] = time.Now()
		if err := e.post(sample{q, "longest_wait", 600}); err != nil {
			return err
		}
	}
	creates := func() map[string][]time.Time {
		out := map[string][]time.Time{}
		for _, r := range og.Requests() {
			if r.Method == http.MethodPost && r.Path == "/v2/alerts" {
				var body struct{ Alias string }
				_ = json.Unmarshal([]byte(r.Body), &body)
				out[body.Alias] = append(out[body.Alias], r.At)
			}
		}
		return out
	}
	if !waitUntil(time.Minute, 20*time.Millisecond, func() bool { return len(creates()) >= n }) {
		return fmt.Errorf("only %d of %d creates reached OpsGenie within a minute", len(creates()), n)
	}
	var lat []time.Duration
	for alias, at := range creates() {
		if len(at) != 1 {
			b.failf("e2e: %s was created %d times", alias, len(at))
		}
		lat = append(lat, at[0].Sub(sent[alias]))
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	b.proofRows = append(b.proofRows, proofRow{"end to end (sample → OpsGenie create)",
		fmt.Sprintf("%d breaches at %.0f/s, for: 0", n, pace),
		fmt.Sprintf("p50 **%s**, p99 **%s**, max %s", ms(p(0.5)), ms(p(0.99)), ms(lat[len(lat)-1])),
		fmt.Sprintf("%d alerts, one create each", len(creates()))})
	return nil
}

// scaleMetrics are the four rules of the scale phase, with a breaching and
// a healthy value.
var scaleMetrics = []struct {
	rule, yaml       string
	metric           string
	breach, recovery float64
}{
	{"sla", "metric: service_level\n    below: 80", "service_level", 50, 95},
	{"wait", "metric: longest_wait\n    above: 300", "longest_wait", 900, 10},
	{"queue", "metric: waiting\n    above: 50", "waiting", 200, 1},
	{"abandon", "metric: abandon_rate\n    above: 20", "abandon_rate", 60, 2},
}

// proofScale tracks 10,000 queues × 4 rules.
func (b *bench) proofScale() error {
	queues := 10000
	var rules strings.Builder
	for _, m := range scaleMetrics {
		fmt.Fprintf(&rules, "  - name: %s\n    %s\n", m.rule, m.yaml)
	}
	e, err := b.proofServer("scale", "store: sqlite:DIR/queuewatch.db\nrules:\n"+rules.String())
	if err != nil {
		return err
	}
	defer e.close()
	series := queues * len(scaleMetrics)
	send := func(breach bool) error {
		const batch = 500 // events per request: 125 queues × 4 metrics
		var ss []sample
		for q := range queues {
			for _, m := range scaleMetrics {
				v := m.recovery
				if breach {
					v = m.breach
				}
				ss = append(ss, sample{fmt.Sprintf("scale-%05d", q), m.metric, v})
			}
			if len(ss) >= batch || q == queues-1 {
				if err := e.post(ss...); err != nil {
					return err
				}
				ss = ss[:0]
			}
		}
		return nil
	}
	firing := func() float64 { return e.metric(`queuewatch_alerts{state="firing"}`) }
	t0 := time.Now()
	if err := send(true); err != nil {
		return err
	}
	if !waitUntil(5*time.Minute, 100*time.Millisecond, func() bool { return firing() == float64(series) }) {
		return fmt.Errorf("%v of %d series firing after the breach", firing(), series)
	}
	fireTime := time.Since(t0)
	rssFiring, peakFiring := e.rssMiB()
	startup, err := e.restart()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if got := firing(); got != float64(series) {
		b.failf("scale: %v series firing after the restart, want %d", got, series)
	}
	rssRestored, _ := e.rssMiB()
	t1 := time.Now()
	if err := send(false); err != nil {
		return err
	}
	if !waitUntil(5*time.Minute, 100*time.Millisecond, func() bool { return firing() == 0 }) {
		return fmt.Errorf("%v series still firing after the recovery", firing())
	}
	resolveTime := time.Since(t1)
	_, peak := e.rssMiB()
	b.proofRows = append(b.proofRows, proofRow{"scale",
		fmt.Sprintf("%s queues × %d rules = %s series", thousands(float64(queues)), len(scaleMetrics), thousands(float64(series))),
		fmt.Sprintf("all firing in %s, RSS **%.0f MiB** (peak %.0f MiB); restart to ready **%s**, RSS %.0f MiB; all resolved in **%s**; peak RSS after restart %.0f MiB",
			fireTime.Round(10*time.Millisecond), rssFiring, peakFiring, startup.Round(time.Millisecond), rssRestored, resolveTime.Round(10*time.Millisecond), peak),
		"every series fired, survived the restart and resolved"})
	return nil
}

// proofBudget counts the Genesys requests of queuewatch watching N queues.
func (b *bench) proofBudget() error {
	sizes, settle, window := []int{1000, 5000, 10000}, 20*time.Second, time.Minute
	if b.o.short {
		sizes, settle, window = []int{5000}, 10*time.Second, 15*time.Second
	}
	for _, n := range sizes {
		for _, stream := range []bool{true, false} {
			if err := b.budgetRun(n, stream, settle, window); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) budgetRun(n int, stream bool, settle, window time.Duration) error {
	gen := fakegenesys.New(fakegenesys.Options{Sim: sim.New(sim.DemoScenario(time.Now().UTC(), n)),
		ClientID: "qwbench", ClientSecret: "qwbench-secret", MaxChannels: 20})
	url, err := gen.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer gen.Close()
	mode := "poll"
	if stream {
		mode = "stream"
	}
	e, err := b.proofServer(fmt.Sprintf("budget-%d-%s", n, mode), fmt.Sprintf(`store: sqlite:DIR/queuewatch.db
genesys:
  api_url: %s
  login_url: %s
  client_id: qwbench
  client_secret: qwbench-secret
  poll_interval: 15s
  stream: %t
  request_budget: 150
rules:
  - name: sla
    metric: service_level
    below: target
`, url, url, stream))
	if err != nil {
		return err
	}
	defer e.close()
	// Startup (discovery, channels, subscriptions, first polls) settles,
	// then the steady state is counted over the window.
	time.Sleep(settle) // a measuring interval, not a wait for a condition
	before := gen.Requests("")
	byEndpoint := map[string]int{}
	for _, c := range gen.Calls() {
		byEndpoint[c.Endpoint]--
	}
	time.Sleep(window) // the measuring window
	after := gen.Requests("")
	for _, c := range gen.Calls() {
		byEndpoint[c.Endpoint]++
	}
	perMin := float64(after-before) * float64(time.Minute) / float64(window)
	// The client counts a request against its budget when it sends it, the
	// fake when it arrives: a request queued a little on the way can make a
	// full budget look one over in the fake's minute. The check allows
	// half a second for that; the table shows the strict minute too.
	peak, strict := busiestWindow(gen.Calls(), time.Minute-500*time.Millisecond), busiestWindow(gen.Calls(), time.Minute)
	var parts []string
	for ep, c := range byEndpoint {
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ep, c))
		}
	}
	slices.Sort(parts)
	_, rz, _ := e.srv.readyz()
	interval := ""
	if g, ok := rz["genesys"].(map[string]any); ok {
		interval = fmt.Sprint(g["poll_interval"])
	}
	check := fmt.Sprintf("busiest 59.5 s of the run: %d REST requests ≤ 150 (busiest 60 s at the fake: %d)", peak, strict)
	if peak > 150 {
		b.failf("budget: %d queues (%s) sent %d requests within 59.5 s, over the budget of 150", n, mode, peak)
		check = fmt.Sprintf("OVER BUDGET: %d within 59.5 s", peak)
	}
	b.proofRows = append(b.proofRows, proofRow{"Genesys budget",
		fmt.Sprintf("%s queues, %s, poll_interval 15s, budget 150/min", thousands(float64(n)), mode),
		fmt.Sprintf("steady state **%.0f requests/min** (%s in %s; effective poll interval %s)", perMin, strings.Join(parts, ", "), window, interval),
		check})
	return nil
}

// busiestWindow returns the most REST requests (token requests included,
// websocket connections to the streaming host left out: they are not API
// requests and Genesys does not count them) the fake received within any
// window of the given length.
func busiestWindow(calls []fakegenesys.Call, window time.Duration) int {
	var times []time.Time
	for _, c := range calls {
		if c.Endpoint != fakegenesys.EndpointSocket {
			times = append(times, c.At)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most, first := 0, 0
	for i, t := range times {
		for !times[first].After(t.Add(-window)) {
			first++
		}
		most = max(most, i-first+1)
	}
	return most
}

// proofStorm flaps 1,000 queues and compares vendor requests with
// transitions and with a naive relay.
func (b *bench) proofStorm() error {
	og := fakeog.New()
	url, stop, err := og.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stop(context.Background())
	e, err := b.proofServer("storm", `store: sqlite:DIR/queuewatch.db
rules:
  - name: sla
    metric: service_level
    below: 80
    clear: 85
    priority: P1
    notify: [oncall]
`+ogDestination(url))
	if err != nil {
		return err
	}
	defer e.close()
	const queues = 1000
	speed := b.o.speed
	if b.o.short {
		speed = 60
	}
	length := time.Duration(float64(10*time.Minute) / speed)
	flip := 3 * time.Second // each queue breaches or recovers every 3 s
	var naive, events int
	var mu sync.Mutex
	start := time.Now()
	for round := 0; time.Since(start) < length; round++ {
		roundStart := time.Now()
		var ss []sample
		for q := range queues {
			// Every queue changes state every round, half of them
			// breaching while the other half recover.
			breach := (round+q)%2 == 0
			v := 95.0
			if breach {
				v = 50
			}
			ss = append(ss, sample{fmt.Sprintf("storm-%04d", q), "service_level", v})
		}
		for i := 0; i < len(ss); i += 250 {
			if err := e.post(ss[i:min(i+250, len(ss))]...); err != nil {
				return err
			}
		}
		mu.Lock()
		events += len(ss)
		naive += len(ss) // the tutorials' relay: one OpsGenie request per event
		mu.Unlock()
		time.Sleep(max(0, flip-time.Since(roundStart))) // the storm's pace
	}
	if !waitUntil(10*time.Minute, 200*time.Millisecond, func() bool {
		return e.metric(`queuewatch_outbox_pending{destination="oncall"}`) == 0
	}) {
		return fmt.Errorf("the outbox did not drain within 10 minutes")
	}
	og.Flush()
	var changing int
	for _, r := range og.Requests() {
		if r.Method != http.MethodGet {
			changing++
		}
	}
	_, rz, _ := e.srv.readyz()
	transitions, _ := rz["transitions"].(float64)
	if err := e.srv.stop(time.Minute); err != nil {
		return err
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(e.dir, "queuewatch.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{Limit: 1 << 24})
	if err != nil {
		return err
	}
	sent := 0
	for _, d := range ds {
		if d.Status == store.StatusSent {
			sent++
		}
	}
	check := fmt.Sprintf("alert-changing requests %d = deliveries owed %d", changing, len(ds))
	if changing != len(ds) || sent != len(ds) {
		b.failf("storm: %d alert-changing OpsGenie requests for %d deliveries owed (%d sent)", changing, len(ds), sent)
		check = "MISMATCH: " + check
	}
	b.proofRows = append(b.proofRows, proofRow{"storm",
		fmt.Sprintf("%s queues, each breaching and recovering every %s, for %s (10 min at --speed %g)", thousands(queues), flip*2, length.Round(time.Second), speed),
		fmt.Sprintf("%s events; naive relay **%s** requests; %s state transitions, owing OpsGenie %s deliveries (create, note, close); queuewatch sent **%s** alert-changing requests (+%s request-status checks)",
			thousands(float64(events)), thousands(float64(naive)), thousands(transitions), thousands(float64(len(ds))),
			thousands(float64(changing)), thousands(float64(len(og.Requests())-changing))),
		check})
	return nil
}

// reportProof prints the proof table.
func (b *bench) reportProof() {
	if len(b.proofRows) == 0 {
		return
	}
	w := b.stdout
	fmt.Fprintln(w, "\n| proof phase | setup | figures | invariant checked |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range b.proofRows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.phase, r.setup, r.figures, r.check)
	}
}
