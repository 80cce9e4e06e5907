package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// The crash test runs queuewatch as a separate process (this test binary,
// re-executed: TestMain hands it to crashChild) under a steady breach and
// recover workload fed through its signed webhook, SIGKILLs it at random
// moments and restarts it on the same SQLite file. The fake vendors live in
// the test process and outlive every child. At the end each episode the
// workload caused must have reached every destination exactly once, opened
// then closed, and the store must hold exactly those episodes.

// crashChildEnv names the configuration file a re-executed test binary
// serves until it is killed.
const crashChildEnv = "QUEUEWATCH_TEST_CRASH_CONFIG"

// crashKillsEnv and crashSeedEnv override the number of SIGKILLs and the
// random seed of TestE2ECrashUnderLoad.
const (
	crashKillsEnv = "QUEUEWATCH_CRASH_KILLS"
	crashSeedEnv  = "QUEUEWATCH_CRASH_SEED"
)

// crashQueues is the number of queues the workload flaps. It stays below
// Slack's storm threshold so that every episode gets its own message.
const crashQueues = 4

// crashRule opens an alert at once on a breach and closes it at once on
// recovery; flap detection is off so that recovery always closes.
const crashRule = `  - name: sla
    metric: service_level
    below: 80
    clear: 85
    priority: P2
    flap: {window: 0s, transitions: 0}
    notify: [oncall, cc-slack, pd, tooling]
`

// crashChild serves the configuration at path the way serve does, with two
// test-only changes that keep the test fast without touching what it proves:
// claim leases of a dead process run out after about 4 s instead of 27 s,
// and the Slack per-channel pacing (1 message/s, which the fake is told not
// to enforce) is lifted.
func crashChild(path string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	svc, err := Start(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	liftSlackPacing(svc.dests.list)
	svc.dispatcher = notify.NewDispatcher(svc.store, svc.dests.list, notify.Options{
		Logger: log, Observer: svc.metrics, Workers: 2, LeaseMargin: 100 * time.Millisecond, Tick: 100 * time.Millisecond,
	})
	fmt.Printf("listening %s\n", svc.Addr())
	if err := svc.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	return 0
}

// crashProc is the child process currently serving, if any.
type crashProc struct {
	t      *testing.T
	config string
	stderr *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	addr string
}

// start runs a new child and waits until it listens.
func (p *crashProc) start() {
	p.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+p.config)
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.t.Fatalf("child said %q (%v); its stderr:\n%s", line, err, p.stderrTail())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	p.mu.Lock()
	p.cmd, p.addr = cmd, addr
	p.mu.Unlock()
}

// kill SIGKILLs the child: no shutdown code runs.
func (p *crashProc) kill() {
	p.t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.cmd, p.addr = nil, ""
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	_ = cmd.Wait()
}

// stop asks the child to shut down gracefully and returns how it exited.
func (p *crashProc) stop() error {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd, p.addr = nil, ""
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return cmd.Wait()
}

// currentAddr is the address of the serving child, "" between children.
func (p *crashProc) currentAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

func (p *crashProc) stderrTail() string {
	b, _ := os.ReadFile(p.stderr.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// crashEnvInt reads a positive integer from the environment.
func crashEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// TestE2ECrashUnderLoad SIGKILLs the service at random moments (20 times,
// QUEUEWATCH_CRASH_KILLS to change) while four queues breach and recover,
// and checks that no episode is lost, doubled or reordered at OpsGenie,
// PagerDuty, Slack and the webhook receiver, and that the store's history
// matches what was fed. QUEUEWATCH_CRASH_SEED replays a run's kill moments.
func TestE2ECrashUnderLoad(t *testing.T) {
	kills := crashEnvInt(t, crashKillsEnv, 20)
	seed := uint64(crashEnvInt(t, crashSeedEnv, int(time.Now().UnixNano()%1e9)+1))
	t.Logf("%d kills, seed %d (%s=%d reproduces the kill moments)", kills, seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	h := newHarness(t)
	h.slack.SetRateLimits(fakeslack.Rate{}, fakeslack.Rate{})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "queuewatch.yaml")
	// The destinations' own rate limits (OpsGenie 5/s, Slack 1/s) would set
	// the pace of a long run; the fakes do not need them.
	text := h.configYAML(crashRule, e2eOpts{extra: map[string]string{"*": fastRetry + "\ntimeout: 1s\nrate: 200\nburst: 200"}})
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "children.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	p := &crashProc{t: t, config: cfgPath, stderr: stderr}
	t.Cleanup(func() {
		if cmd := p.cmd; cmd != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("the children's warnings and errors (last 4 kB):\n%s", p.stderrTail())
		}
	})

	w := newCrashWorkload(h, p)
	p.start()
	w.run()

	// Kill at random moments: after a random delay, or right after a
	// random number of further vendor requests (the moment between a
	// vendor's answer and the outbox update).
	for k := range kills {
		if rng.IntN(2) == 0 {
			time.Sleep(time.Duration(20+rng.IntN(600)) * time.Millisecond) // a random kill moment, not a wait for a condition
		} else {
			target := w.vendorRequests() + 1 + rng.IntN(12)
			deadline := time.Now().Add(3 * time.Second)
			for w.vendorRequests() < target && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond) // polling the request count, with a deadline
			}
		}
		p.kill()
		if err := w.failure(); err != nil {
			t.Fatalf("after kill %d: %v", k+1, err)
		}
		p.start()
	}
	w.finish()
	if err := w.failure(); err != nil {
		t.Fatal(err)
	}
	fed := w.episodes()
	total := 0
	for _, n := range fed {
		total += n
	}
	t.Logf("%d episodes fed across %d kills", total, kills)
	if total < kills/2 {
		t.Fatalf("only %d episodes were fed across %d kills: the workload did not make progress", total, kills)
	}

	// Every destination catches up with what was fed.
	waitEvery(t, 45*time.Second, 50*time.Millisecond, "every destination to show every episode closed", func() bool {
		return w.settled(fed)
	}, func() string { return w.describe(fed) })
	if err := p.stop(); err != nil {
		t.Fatalf("the last process did not shut down cleanly: %v", err)
	}
	w.check(t, fed)
}

// crashWorkload feeds the queues and keeps the model of what was fed.
type crashWorkload struct {
	h      *harness
	p      *crashProc
	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	mu  sync.Mutex
	fed [crashQueues]int // episodes opened (and, once the workload ends, closed) per queue
	err error
	seq atomic.Int64
}

func newCrashWorkload(h *harness, p *crashProc) *crashWorkload {
	return &crashWorkload{h: h, p: p, client: &http.Client{Timeout: 5 * time.Second}, stop: make(chan struct{})}
}

func crashKey(q int) string { return queueID(q) + "_sla" }

// run starts one feeder per queue: breach, wait until the webhook
// receiver has the episode's create, recover, wait for its resolve, again.
// The waits pace the workload by delivery, so it stays steady whatever the
// kills do; each feeder stops only after a recovery.
func (w *crashWorkload) run() {
	for q := range crashQueues {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.stop:
					return
				default:
				}
				if !w.feed(q, 50) {
					return
				}
				w.mu.Lock()
				w.fed[q]++
				n := w.fed[q]
				w.mu.Unlock()
				if !w.await(q, alert.ActionCreate, n) || !w.feed(q, 95) || !w.await(q, alert.ActionResolve, n) {
					return
				}
			}
		}()
	}
}

// feed posts a service level for queue q until a service accepts it (202
// means evaluated and durable). It reports false after a failure.
func (w *crashWorkload) feed(q int, value float64) bool {
	deadline := time.Now().Add(30 * time.Second)
	for {
		addr := w.p.currentAddr()
		if addr != "" {
			err := postEvents(w.client, addr, event{queue: queueID(q), metric: "service_level", value: value, at: time.Now()})
			if err == nil {
				return true
			}
			if strings.Contains(err.Error(), "webhook answered") {
				w.fail(fmt.Errorf("queue %d: %w", q, err))
				return false
			}
		}
		if time.Now().After(deadline) {
			w.fail(fmt.Errorf("queue %d: no process accepted a sample for 30 s", q))
			return false
		}
		time.Sleep(5 * time.Millisecond) // polling for a live process, with a deadline
	}
}

// await waits until the webhook receiver has n deliveries of action for
// queue q's alert.
func (w *crashWorkload) await(q int, action alert.Action, n int) bool {
	deadline := time.Now().Add(30 * time.Second)
	for w.received(crashKey(q), action) < n {
		if time.Now().After(deadline) {
			w.fail(fmt.Errorf("queue %d: the webhook receiver has %d %ss after 30 s, want %d", q, w.received(crashKey(q), action), action, n))
			return false
		}
		time.Sleep(5 * time.Millisecond) // polling the receiver, with a deadline
	}
	return true
}

func (w *crashWorkload) received(key string, action alert.Action) int {
	n := 0
	for _, d := range w.h.recv.Received() {
		if d.Message.Key == key && d.Message.Action == string(action) {
			n++
		}
	}
	return n
}

func (w *crashWorkload) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *crashWorkload) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// finish stops the feeders after their current episode closed.
func (w *crashWorkload) finish() {
	close(w.stop)
	w.wg.Wait()
}

func (w *crashWorkload) episodes() [crashQueues]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fed
}

// vendorRequests counts the requests the fake vendors received.
func (w *crashWorkload) vendorRequests() int {
	return len(w.h.og.Requests()) + len(w.h.slack.Calls()) + len(w.h.recv.Received())
}

// crashView is what the fakes show for one queue.
type crashView struct {
	ogAlerts, ogClosed   int
	pdIncidents, pdDone  int
	slackMsgs, slackDone int
	hookCreates, hookRes int
}

func (w *crashWorkload) view(q int) crashView {
	var v crashView
	key := crashKey(q)
	for _, a := range w.h.og.Alerts() {
		if a.Alias == key {
			v.ogAlerts++
			if !a.Open() {
				v.ogClosed++
			}
		}
	}
	for _, in := range w.h.pd.Incidents() {
		if in.DedupKey == key {
			v.pdIncidents++
			if in.Status == "resolved" {
				v.pdDone++
			}
		}
	}
	for _, m := range w.slackMessages(q) {
		v.slackMsgs++
		if len(m.Replies) > 0 {
			v.slackDone++
		}
	}
	v.hookCreates, v.hookRes = w.received(key, alert.ActionCreate), w.received(key, alert.ActionResolve)
	return v
}

// slackMessages are the channel's messages about queue q.
func (w *crashWorkload) slackMessages(q int) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range w.h.slack.Messages(fakeslack.DefaultChannel) {
		if strings.Contains(m.Text+string(m.Blocks), queueID(q)) {
			out = append(out, m)
		}
	}
	return out
}

// settled reports whether every destination shows every fed episode
// closed.
func (w *crashWorkload) settled(fed [crashQueues]int) bool {
	for q, n := range fed {
		v := w.view(q)
		if v.ogClosed < n || v.pdDone < n || v.slackDone < n || v.hookRes < n {
			return false
		}
	}
	return true
}

func (w *crashWorkload) describe(fed [crashQueues]int) string {
	var b strings.Builder
	for q, n := range fed {
		fmt.Fprintf(&b, "queue %d: fed %d episodes, fakes show %+v\n", q, n, w.view(q))
	}
	// What the outbox still owes, read as a third party.
	st, err := OpenStore(context.Background(), "sqlite:"+w.h.db)
	if err != nil {
		return b.String() + "store: " + err.Error()
	}
	defer st.Close()
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{Limit: 1 << 20})
	if err != nil {
		return b.String() + "store: " + err.Error()
	}
	for _, d := range ds {
		if d.Status != store.StatusSent {
			fmt.Fprintf(&b, "owed: %d %s %s %s %s attempts=%d claimed_by=%q lease_until=%s next=%s err=%q\n", d.ID, d.Destination, d.Key, d.Action,
				d.Status, d.Attempts, d.ClaimedBy, d.LeaseUntil.Format(time.RFC3339Nano), d.NextAttemptAt.Format(time.RFC3339Nano), d.LastError)
		}
	}
	fmt.Fprintf(&b, "now %s\n", time.Now().Format(time.RFC3339Nano))
	return b.String()
}

// check compares what the fakes and the store hold with what was fed.
func (w *crashWorkload) check(t *testing.T, fed [crashQueues]int) {
	t.Helper()
	ctx := context.Background()
	st, err := OpenStore(ctx, "sqlite:"+w.h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ops := byAlias(ogOps(w.h.og.Requests()))
	logRepeats(t, w, ops, len(fed))
	for q, n := range fed {
		key := crashKey(q)
		v := w.view(q)
		if v.ogAlerts != n || v.ogClosed != n {
			t.Errorf("%s: OpsGenie has %d alerts (%d closed), want %d closed", key, v.ogAlerts, v.ogClosed, n)
		}
		// Accepted creates and closes alternate; a repeat (a request resent
		// after a kill) is deduplicated by alias and changes nothing.
		var seq []string
		for _, o := range accepted(ops[key]) {
			if (o.Op == "create" || o.Op == "close") && (len(seq) == 0 || seq[len(seq)-1] != o.Op) {
				seq = append(seq, o.Op)
			}
		}
		if want := strings.TrimSuffix(strings.Repeat("create,close,", n), ","); strings.Join(seq, ",") != want {
			t.Errorf("%s: OpsGenie creates and closes %s, want %d pairs in order", key, strings.Join(seq, ","), n)
		}
		if v.pdIncidents != n || v.pdDone != n {
			t.Errorf("%s: PagerDuty has %d incidents (%d resolved), want %d resolved", key, v.pdIncidents, v.pdDone, n)
		}
		w.checkSlack(t, q, n)

		// The webhook receiver deduplicates by delivery id: per episode one
		// create, then one resolve, episodes in order.
		var hook []string
		for _, d := range w.h.recv.Received() {
			if d.Message.Key == key {
				hook = append(hook, d.Message.Action+":"+d.Message.Episode.ID)
			}
		}
		episodes, err := st.Episodes(ctx, key, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(episodes, func(a, b alert.Episode) int { return a.Start.Compare(b.Start) })
		var want []string
		for _, e := range episodes {
			if e.Open() || !e.Notified {
				t.Errorf("%s: stored episode %s is open=%v notified=%v", key, e.ID, e.Open(), e.Notified)
			}
			want = append(want, "create:"+e.ID, "resolve:"+e.ID)
		}
		if len(episodes) != n {
			t.Errorf("%s: the store has %d episodes, want %d", key, len(episodes), n)
		}
		if !slices.Equal(hook, want) {
			t.Errorf("%s: the webhook receiver got\n  %v\nwant (from the store's episodes)\n  %v", key, hook, want)
		}
		// The store's history: per episode a create then a resolve.
		hist, err := st.History(ctx, key, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(hist, func(a, b alert.Transition) int { return a.At.Compare(b.At) })
		var actions []string
		for _, tr := range hist {
			if tr.Action != alert.ActionNone {
				actions = append(actions, string(tr.Action))
			}
		}
		if want := strings.TrimSuffix(strings.Repeat("create,resolve,", n), ","); strings.Join(actions, ",") != want {
			t.Errorf("%s: stored transitions %s, want %d create/resolve pairs", key, strings.Join(actions, ","), n)
		}
	}
	checkOutboxDrained(t, st)
}

// checkOutboxDrained fails t for every dead letter and every delivery still
// owed in st.
func checkOutboxDrained(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	dead, err := st.ListDeliveries(ctx, store.DeliveryFilter{Status: store.StatusDead, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		t.Errorf("dead letter %d %s %s: %s", d.ID, d.Destination, d.Action, d.LastError)
	}
	counts, err := st.PendingCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for dest, n := range counts {
		if n != 0 {
			t.Errorf("%s still owes %d deliveries", dest, n)
		}
	}
}

// checkSlack checks queue q's Slack messages: one per episode, resolved
// with exactly one thread reply. A kill between Slack's answer to
// chat.postMessage and the store recording the message's ts must not post
// the message (or the reply) again: the next attempt finds it by its
// metadata.
func (w *crashWorkload) checkSlack(t *testing.T, q, n int) {
	t.Helper()
	resolved, orphans, extraReplies := 0, 0, 0
	for _, m := range w.slackMessages(q) {
		switch {
		case len(m.Replies) > 0:
			resolved++
			extraReplies += len(m.Replies) - 1
		case m.Edits == 0:
			orphans++ // posted, never heard of again
		default:
			t.Errorf("%s: Slack message %s was updated but never resolved: %q", crashKey(q), m.TS, m.Text)
		}
	}
	if resolved != n {
		t.Errorf("%s: Slack has %d resolved messages, want %d", crashKey(q), resolved, n)
	}
	if orphans > 0 || extraReplies > 0 {
		t.Errorf("%s: %d episodes; Slack also has %d repeated messages and %d repeated thread replies",
			crashKey(q), n, orphans, extraReplies)
	}
}

// logRepeats logs, for the record, how often a kill left an accepted
// OpsGenie create or close to be made again (allowed: the residual window
// between the 202 and the store), and how often the service looked Slack's
// history up to find a message an interrupted attempt had posted.
func logRepeats(t *testing.T, w *crashWorkload, ops map[string][]ogOp, queues int) {
	t.Helper()
	repeats := 0
	for q := range queues {
		prev := ""
		for _, o := range accepted(ops[crashKey(q)]) {
			if o.Op != "create" && o.Op != "close" {
				continue
			}
			if o.Op == prev {
				repeats++
			}
			prev = o.Op
		}
	}
	lookups := 0
	for _, c := range w.h.slack.Calls() {
		if strings.HasPrefix(c.Method, "conversations.") {
			lookups++
		}
	}
	t.Logf("OpsGenie requests made again after a kill: %d; Slack history lookups: %d", repeats, lookups)
}
