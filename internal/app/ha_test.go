package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
)

// haQueues is the number of queues the storm breaches at once.
const haQueues = 12

// haRule pages when fewer than 15 agents are on a queue (the storm leaves
// at most 13 on each; every queue has at least 17 otherwise) and closes
// from 16. Observations are the simulation's current figures, with no
// window to fill. Flap detection is off.
const haRule = `  - name: sla
    metric: on_queue_agents
    below: 15
    clear: 16
    priority: P2
    flap: {window: 0s, transitions: 0}
    notify: [oncall, cc-slack]
`

// roleAt asks the /readyz of the service at addr for its role; "" when
// it does not answer or is not ready.
func roleAt(addr string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Role   string `json:"role"`
		Status string `json:"status"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || body.Status != "ready" {
		return ""
	}
	return body.Role
}

// leaderOf returns the index of the replica that says it leads, or -1.
func leaderOf(rs []*crashProc, among []int) int {
	for _, i := range among {
		if roleAt(rs[i].currentAddr()) == "leader" {
			return i
		}
	}
	return -1
}

// TestHAFailoverUnderStorm runs three replicas on one PostgreSQL database,
// polling the fake Genesys Cloud while every one of twelve queues breaches
// at once. The leader is SIGKILLed while the storm's pages are being
// delivered; another replica must lead within 20 s with the default
// leader_lease, and once the queues recover every breach must have exactly
// one OpsGenie alert, created and closed, and one Slack message with its
// resolve, with nothing owed or dead in the outbox. A create sent twice is allowed only when the
// killed leader sent the first copy and died before recording it (delivery
// is at least once; OpsGenie folds the repeat into the alert by alias).
func TestHAFailoverUnderStorm(t *testing.T) {
	dsn := pgtest.DSN(t)
	h := newHarness(t)
	h.slack.SetRateLimits(fakeslack.Rate{}, fakeslack.Rate{})

	// The storm: from 2 min of simulated time, 95 % of every queue's
	// agents log off for 30 min.
	scenario := sim.DemoScenario(time.Now().UTC(), haQueues)
	scenario.Incidents = []sim.Incident{{Kind: sim.AgentsLogOff, Start: 2 * time.Minute, Duration: 30 * time.Minute, Factor: 0.95}}
	gen := fakegenesys.New(fakegenesys.Options{Sim: sim.New(scenario), ClientID: "qw-client", ClientSecret: "qw-secret",
		HeartbeatInterval: time.Second})
	genURL := gen.Start(t)
	var keys []string
	for _, q := range scenario.Queues {
		keys = append(keys, alert.Key(q.ID, "sla", ""))
	}

	// leader_lease is left at its default, 15 s: failover must fit in 20 s
	// as configured in production.
	top := fmt.Sprintf(`genesys:
  api_url: %s
  login_url: %s
  client_id: qw-client
  client_secret: qw-secret
  poll_interval: 1s
  stream: false
`, genURL, genURL)
	text := h.configYAML(haRule, e2eOpts{dests: []string{"oncall", "cc-slack"},
		extra: map[string]string{"*": fastRetry + "\ntimeout: 2s"}, top: top})
	text = strings.Replace(text, "store: sqlite:"+h.db, "store: "+dsn, 1)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "queuewatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "replicas.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the replicas' warnings and errors (last 4 kB):\n%s", (&crashProc{stderr: stderr}).stderrTail())
		}
	})
	// The replicas are re-executions of this test binary serving the
	// configuration as the crash test's child does (short claim leases).
	var rs []*crashProc
	for range 3 {
		p := &crashProc{t: t, config: cfgPath, stderr: stderr}
		t.Cleanup(func() {
			p.mu.Lock()
			cmd := p.cmd
			p.mu.Unlock()
			if cmd != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		p.start()
		rs = append(rs, p)
	}
	lead := -1
	waitEvery(t, 20*time.Second, 50*time.Millisecond, "a leader", func() bool { lead = leaderOf(rs, []int{0, 1, 2}); return lead >= 0 }, nil)
	for i, r := range rs {
		want := 0.0
		if i == lead {
			want = 1
		} else if role := roleAt(r.currentAddr()); role != "follower" {
			t.Fatalf("replica %d is %q while %d leads", i, role, lead)
		}
		if got := scrape(t, r.currentAddr(), "queuewatch_leader"); got != want {
			t.Errorf("replica %d: queuewatch_leader %v, want %v", i, got, want)
		}
	}

	// Into the storm: the simulation jumps 10 min ahead (8 min into the
	// incident) and holds there while the leader pages.
	gen.Advance(10 * time.Minute)
	opened := func() int {
		n := 0
		for _, a := range h.og.Alerts() {
			if slices.Contains(keys, a.Alias) {
				n++
			}
		}
		return n
	}
	waitFor(t, 30*time.Second, "the first pages of the storm", func() bool { return opened() >= haQueues/4 }, nil)

	// Kill the leader mid-storm.
	killedAt := time.Now()
	rs[lead].kill()
	t.Logf("killed leader %d with %d of %d queues paged", lead, opened(), haQueues)
	noted := notedRequests(t, dsn)
	var survivors []int
	for i := range rs {
		if i != lead {
			survivors = append(survivors, i)
		}
	}
	next := -1
	waitEvery(t, 25*time.Second, 20*time.Millisecond, "a new leader", func() bool { next = leaderOf(rs, survivors); return next >= 0 }, nil)
	failover := time.Since(killedAt)
	t.Logf("replica %d leads %v after the kill", next, failover.Round(time.Millisecond))
	if failover > 20*time.Second {
		t.Errorf("failover took %v, want at most 20s", failover)
	}
	if got := scrape(t, rs[next].currentAddr(), "queuewatch_leader"); got != 1 {
		t.Errorf("new leader %d: queuewatch_leader %v, want 1", next, got)
	}

	// Every queue pages, then the storm ends and every queue recovers.
	waitFor(t, 60*time.Second, "every queue to page", func() bool { return opened() == haQueues },
		func() string { return fmt.Sprintf("%d of %d paged", opened(), haQueues) })
	gen.Advance(40 * time.Minute)
	watch, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	settled := func() bool {
		for _, a := range h.og.Alerts() {
			if slices.Contains(keys, a.Alias) && a.Open() {
				return false
			}
		}
		counts, err := watch.PendingCounts(context.Background())
		if err != nil {
			return false
		}
		for _, n := range counts {
			if n > 0 {
				return false
			}
		}
		ds, err := watch.ListDeliveries(context.Background(), store.DeliveryFilter{Status: store.StatusSent, Limit: 1000})
		return err == nil && len(ds) == 4*haQueues
	}
	waitEvery(t, 90*time.Second, 100*time.Millisecond, "every page to close", settled, func() string {
		counts, _ := watch.PendingCounts(context.Background())
		return fmt.Sprintf("owed: %v; OpsGenie: %d alerts", counts, len(h.og.Alerts()))
	})
	for _, i := range survivors {
		if err := rs[i].stop(); err != nil {
			t.Errorf("replica %d did not stop cleanly: %v", i, err)
		}
	}
	// Requests the killed leader wrote before it died may still be read by
	// the fakes a little after the SIGKILL; no survivor can lead (and send)
	// until the 15 s lease runs out, so a second after the kill separates
	// the two leaders' requests.
	checkHA(t, h, dsn, keys, killedAt.Add(time.Second), noted)
}

// checkHA compares the fakes and the store after the HA test.
// Requests the fakes saw before cutoff are the killed leader's; those after,
// the new leader's.
func checkHA(t *testing.T, h *harness, dsn string, keys []string, cutoff time.Time, noted map[string]bool) {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	ops := byAlias(ogOps(h.og.Requests()))
	alerts := map[string]int{}
	for _, a := range h.og.Alerts() {
		alerts[a.Alias]++
		if a.Open() {
			t.Errorf("OpsGenie alert %s is still open", a.Alias)
		}
	}
	for _, key := range keys {
		eps, err := st.Episodes(ctx, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 1 || eps[0].Open() {
			t.Errorf("%s: the store has %d episodes (%+v), want one, closed", key, len(eps), eps)
		}
		if alerts[key] != 1 {
			t.Errorf("%s: OpsGenie has %d alerts, want 1", key, alerts[key])
		}
		var creates, closes []ogOp
		for _, o := range accepted(ops[key]) {
			switch o.Op {
			case "create":
				creates = append(creates, o)
			case "close":
				closes = append(closes, o)
			}
		}
		if len(closes) != 1 {
			t.Errorf("%s: OpsGenie accepted %d closes, want 1", key, len(closes))
		}
		switch {
		case len(creates) == 1:
		case len(creates) == 2 && noted[creates[0].RequestID]:
			t.Errorf("%s: the killed leader's create (request %s) was sent again although its 202 was recorded",
				key, creates[0].RequestID)
		case len(creates) == 2 && creates[0].At.Before(cutoff) && !creates[1].At.Before(cutoff):
			// The residual window: the kill fell between OpsGenie's 202 and
			// the store recording its requestId.
			t.Logf("%s: the killed leader's create (answered 202 at kill%+v) was not recorded and was sent again by the new leader",
				key, creates[0].At.Sub(cutoff.Add(-time.Second)).Round(time.Microsecond))
		default:
			t.Errorf("%s: OpsGenie accepted %d creates, want 1 (or a repeat of the killed leader's)", key, len(creates))
			for _, o := range ops[key] {
				t.Logf("  %s at kill%+v, request %s (recorded by the killed leader: %v)",
					o, o.At.Sub(cutoff.Add(-time.Second)).Round(time.Millisecond), o.RequestID, noted[o.RequestID])
			}
			ds, _ := st.ListDeliveries(ctx, store.DeliveryFilter{Destination: "oncall", Limit: 1000})
			for _, d := range ds {
				if d.Key != key {
					continue
				}
				atts, _ := st.Attempts(ctx, d.ID)
				t.Logf("  delivery %d %s: %s after %d attempts %+v", d.ID, d.Action, d.Status, d.Attempts, atts)
			}
		}
	}
	checkHASlack(t, st, keys, h.slack.Messages(fakeslack.DefaultChannel), cutoff)
	checkOutboxDrained(t, st)
	sent, err := st.ListDeliveries(ctx, store.DeliveryFilter{Status: store.StatusSent, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * 2 * len(keys); len(sent) != want {
		t.Errorf("%d deliveries sent, want %d (a create and a resolve per breach and destination)", len(sent), want)
	}
}

// checkHASlack checks that every breach is in exactly one Slack message:
// its own, resolved with one thread reply, or a storm summary shared with
// other breaches of the same batch (edited as they resolve). Every message
// must be one the store refers to: a message (or storm summary) the killed
// leader posted just before it died, whose ts it never stored, must be found
// by the new leader, not posted again.
func checkHASlack(t *testing.T, st *postgres.Store, keys []string, msgs []fakeslack.Message, cutoff time.Time) {
	t.Helper()
	ctx := context.Background()
	byTS := map[string]fakeslack.Message{}
	for _, m := range msgs {
		byTS[m.TS] = m
	}
	referenced := map[string]int{}
	for _, key := range keys {
		eps, err := st.Episodes(ctx, key, 0)
		if err != nil || len(eps) == 0 {
			continue // reported by the caller
		}
		ref, err := st.GetRef(ctx, "cc-slack", eps[0].ID)
		if err != nil {
			t.Errorf("%s: no stored Slack message: %v", key, err)
			continue
		}
		var r struct {
			Channel, TS string
			Storm       bool
		}
		if v := ref.Value; strings.HasPrefix(v, "{") {
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				t.Fatalf("%s: Slack ref %q: %v", key, v, err)
			}
		} else {
			r.Channel, r.TS, _ = strings.Cut(v, "/")
		}
		m, ok := byTS[r.TS]
		switch {
		case !ok:
			t.Errorf("%s: the stored Slack message %s is not in the channel", key, r.TS)
		case r.Storm && m.Edits == 0:
			t.Errorf("%s: storm summary %s was never updated", key, r.TS)
		case !r.Storm && len(m.Replies) != 1:
			t.Errorf("%s: Slack message %s has %d thread replies, want 1 (the resolve)", key, r.TS, len(m.Replies))
		}
		referenced[r.TS]++
		if !r.Storm && referenced[r.TS] > 1 {
			t.Errorf("%s: shares Slack message %s without a storm", key, r.TS)
		}
	}
	orphans := 0
	for _, m := range msgs {
		if referenced[m.TS] > 0 {
			continue
		}
		if m.Posted.Before(cutoff) {
			orphans++
			continue
		}
		t.Errorf("Slack message %s is about no stored breach (sent twice?): %q", m.TS, m.Text)
	}
	t.Logf("Slack: %d messages for %d breaches", len(msgs)-orphans, len(keys))
	if orphans > 0 {
		t.Errorf("%d Slack messages posted by the killed leader were posted again", orphans)
	}
}

// notedRequests returns the OpsGenie requestIds recorded in the store's
// journal (the destination "oncall") when it is called: those requests the
// killed leader saw accepted, which no other replica may make again.
func notedRequests(t *testing.T, dsn string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.ListDeliveries(ctx, store.DeliveryFilter{Destination: "oncall", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	noted := map[string]bool{}
	for _, d := range ds {
		r, err := st.GetRef(ctx, "oncall", fmt.Sprintf("journal:opsgenie/%d/0", d.ID))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if id, _, _ := strings.Cut(r.Value, "\n"); id != "failed" {
			noted[id] = true
		}
	}
	t.Logf("the killed leader had recorded %d accepted OpsGenie requests", len(noted))
	return noted
}

// startOnPostgres starts a service of h's configuration on the PostgreSQL
// database dsn, with top-level YAML top, and runs it until the returned
// stop is called (or the test ends).
func startOnPostgres(t *testing.T, h *harness, dsn, name, top string) (*Service, func() error) {
	t.Helper()
	text := h.configYAML(haWebhookRule, e2eOpts{dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry}, top: top})
	text = strings.Replace(text, "store: sqlite:"+h.db, "store: "+dsn, 1)
	cfg, err := config.Parse("ha.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := Start(ctx, cfg, h.logger(t.Name()+"/"+name))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return svc, runStarted(ctx, t, svc, cancel, name)
}

// runStarted runs a started service until ctx ends (cancel ends it) and
// returns a function that stops it gracefully and returns Run's error; the
// service is stopped, at the latest, when the test ends.
func runStarted(ctx context.Context, t *testing.T, svc *Service, cancel context.CancelFunc, name string) func() error {
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("%s: shutdown: %v", name, err)
		}
	})
	return r.stop
}

const haWebhookRule = `  - name: sla
    metric: service_level
    below: 80
    clear: 85
    notify: [oncall]
`

// TestHAWebhookThroughFollowerAndHandOver: a webhook accepted by a follower
// is evaluated by the leader and pages once; a leader stopped gracefully
// hands over at once, and the next leader resumes the open alert and
// closes it when a recovery reaches it.
func TestHAWebhookThroughFollowerAndHandOver(t *testing.T) {
	dsn := pgtest.DSN(t)
	h := newHarness(t)
	const top = "leader_lease: 30s"
	a, stopA := startOnPostgres(t, h, dsn, "a", top)
	waitFor(t, 20*time.Second, "a to lead", func() bool { return a.ha.role() == "leader" }, nil)
	b, _ := startOnPostgres(t, h, dsn, "b", top)
	if role := roleAt(b.Addr()); role != "follower" {
		t.Fatalf("b's /readyz role %q, want follower", role)
	}
	alertOf := func(q int) (open, closed int) {
		for _, al := range h.og.Alerts() {
			if al.Alias == queueID(q)+"_sla" {
				if al.Open() {
					open++
				} else {
					closed++
				}
			}
		}
		return open, closed
	}
	t0 := time.Now().UTC()
	for q := 1; q <= 2; q++ {
		if err := postEvents(http.DefaultClient, b.Addr(), event{queue: queueID(q), metric: "service_level", value: 50, at: t0}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the breaches sent to the follower to page", func() bool {
		o1, _ := alertOf(1)
		o2, _ := alertOf(2)
		return o1 == 1 && o2 == 1
	}, nil)
	if err := postEvents(http.DefaultClient, b.Addr(), event{queue: queueID(1), metric: "service_level", value: 95, at: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "queue 1 to close", func() bool { _, c := alertOf(1); return c == 1 }, nil)

	// a stops: it releases the lease, so b leads long before the 30 s lease
	// could have run out, with queue 2 still breaching.
	stopped := time.Now()
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b to lead after a's hand-over", func() bool { return b.ha.role() == "leader" }, nil)
	t.Logf("b leads %v after a began to stop", time.Since(stopped).Round(time.Millisecond))
	if err := postEvents(http.DefaultClient, b.Addr(), event{queue: queueID(2), metric: "service_level", value: 95, at: t0.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "queue 2 to close", func() bool { _, c := alertOf(2); return c == 1 }, nil)
	ops := byAlias(ogOps(h.og.Requests()))
	for q := 1; q <= 2; q++ {
		if got := opNames(accepted(ops[queueID(q)+"_sla"])); got != "create,close" {
			t.Errorf("queue %d: OpsGenie accepted %s, want create,close", q, got)
		}
	}
	pg := b.store.(*postgres.Store)
	if es, err := pg.ReadInbox(t.Context(), 10); err != nil || len(es) != 0 {
		t.Errorf("inbox after the test: %d entries, %v; want none", len(es), err)
	}
}

// cuttableProxy forwards TCP connections to target until cut, after which
// it closes them and refuses new ones, as a network partition from the
// database does.
type cuttableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func startProxy(t *testing.T, target string) *cuttableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{ln: ln, target: target}
	t.Cleanup(func() { p.Cut(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// Cut closes every forwarded connection and refuses new ones.
func (p *cuttableProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestHALeaderCutOffFromDatabase: a leader that can no longer reach the
// database reports itself not ready, gives up the leadership before its
// lease could expire for the others and stops with ErrLeadershipLost, so
// that its supervisor restarts it as a follower.
func TestHALeaderCutOffFromDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	h := newHarness(t)
	text := h.configYAML(haWebhookRule, e2eOpts{dests: []string{"oncall"}, top: "leader_lease: 6s"})
	text = strings.Replace(text, "store: sqlite:"+h.db, "store: "+u.String(), 1)
	cfg, err := config.Parse("ha.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Start(context.Background(), cfg, h.logger(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	waitFor(t, 20*time.Second, "the only replica to lead", func() bool { return roleAt(svc.Addr()) == "leader" }, nil)

	cutAt := time.Now()
	proxy.Cut()
	var status int
	waitFor(t, 20*time.Second, "/readyz to report the store unreachable", func() bool {
		resp, err := http.Get("http://" + svc.Addr() + "/readyz")
		if err != nil {
			return true // already shutting down: checked below
		}
		resp.Body.Close()
		status = resp.StatusCode
		return status == http.StatusServiceUnavailable
	}, nil)
	waitFor(t, 30*time.Second, "the cut-off leader to step down", func() bool { return svc.ha.elector.Epoch() == 0 }, nil)
	stopped := time.Now()
	t.Logf("stepped down %v after the cut (lease 6 s)", stopped.Sub(cutAt).Round(time.Millisecond))
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Fatalf("Run = %v, want ErrLeadershipLost", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the cut-off leader is still running 60 s after stepping down")
	}
	// It stopped leading before its lease expired for the other replicas
	// (the database runs on this machine's clock).
	direct, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	_, _, expires, err := direct.Holder(context.Background(), "leader")
	if err != nil {
		t.Fatal(err)
	}
	if !stopped.Before(expires) {
		t.Errorf("the leader stopped at %v, after its lease expired at %v", stopped, expires)
	}
}
