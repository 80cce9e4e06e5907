package app

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/fake/inbox"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/simclock"
	"github.com/queuewatch/queuewatch/internal/web"
)

//go:embed demo.yaml
var demoConfig []byte

// DefaultDemoListen is where the demo serves its dashboard unless told
// otherwise; a free port is taken when it is busy.
const DefaultDemoListen = "127.0.0.1:8080"

// demoLead is how far behind the wall clock simulated time starts at
// least: it runs --speed times faster until it catches up. The scripted
// incidents play out within it; a short lead keeps the times the
// dashboard shows close to the real clock.
const demoLead = 20 * time.Minute

// demoStep is how often (in real time) the simulation is moved to the
// simulated clock's time.
const demoStep = 100 * time.Millisecond

// DemoOptions configures Demo.
type DemoOptions struct {
	Queues   int
	Speed    float64       // simulated seconds per real second
	Duration time.Duration // simulated time to run; 0 runs until ctx ends
	Seed     uint64
	Store    string // SQLite file; default a temporary one
	// Listen is the dashboard's address (default DefaultDemoListen). When
	// it is taken, a free port on the same host is used and the banner
	// says so.
	Listen string
	// Start is the simulated start time; default demoLead (or Duration, if
	// longer) before now, so that simulated time never passes the wall
	// clock while the demo runs fast.
	Start time.Time
	// WebhookSecret signs events posted to the demo's webhook; default a
	// random one, printed in the banner.
	WebhookSecret string
	// Logger receives the service's log; nil discards it.
	Logger *slog.Logger
	// Ready, when set, is called once everything serves.
	Ready func(DemoInfo)
}

// DemoInfo says where a running demo's servers are.
type DemoInfo struct {
	URL       string // the dashboard, "http://127.0.0.1:8080"
	Genesys   string // the fake Genesys Cloud (API and login)
	OpsGenie  string
	Slack     string
	PagerDuty string
	Store     string // the SQLite file
	APIToken  string // the bearer token for the API's writes
	// Webhook is the webhook's URL and WebhookSecret the HMAC key its
	// events are signed with (X-Genesys-Cloud-Signature).
	Webhook       string
	WebhookSecret string
}

// DemoConfig returns the configuration the demo runs, with placeholder
// addresses for the fakes.
func DemoConfig() (*config.Config, error) {
	return demoConfigWith(map[string]string{})
}

// demoConfigWith parses demo.yaml with vars for its ${QW_DEMO_*}
// references; missing ones get placeholders that pass validation.
func demoConfigWith(vars map[string]string) (*config.Config, error) {
	defaults := map[string]string{
		"QW_DEMO_PUBLIC_URL":            "http://" + DefaultDemoListen,
		"QW_DEMO_API_TOKEN":             "demo-token",
		"QW_DEMO_GENESYS_URL":           "http://127.0.0.1:9",
		"QW_DEMO_GENESYS_CLIENT_ID":     fakegenesys.DefaultClientID,
		"QW_DEMO_GENESYS_CLIENT_SECRET": fakegenesys.DefaultClientSecret,
		"QW_DEMO_WEBHOOK_SECRET":        "demo-webhook-secret",
		"QW_DEMO_OPSGENIE_URL":          "http://127.0.0.1:9",
		"QW_DEMO_OPSGENIE_KEY":          fakeog.DefaultKey,
		"QW_DEMO_SLACK_URL":             "http://127.0.0.1:9/api",
		"QW_DEMO_SLACK_TOKEN":           fakeslack.DefaultToken,
		"QW_DEMO_SLACK_CHANNEL":         fakeslack.DefaultChannel,
		"QW_DEMO_PAGERDUTY_URL":         "http://127.0.0.1:9",
		"QW_DEMO_PAGERDUTY_KEY":         "demo0000000000000000000000000000",
	}
	return config.Parse("demo.yaml", demoConfig, func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		v, ok := defaults[k]
		return v, ok
	})
}

// fakes are the vendor servers a demo runs in process.
type fakes struct {
	genesys   *fakegenesys.Server
	opsgenie  *fakeog.Server
	slack     *fakeslack.Server
	pagerduty *fakepd.Server
	urls      map[string]string // QW_DEMO_* URL variables
	stops     []func()
}

func (f *fakes) close() {
	for _, stop := range f.stops {
		stop()
	}
}

// startFakes serves the fake Genesys Cloud (backed by model, on clock) and
// the fake OpsGenie, Slack and PagerDuty on loopback ports.
func startFakes(model *sim.Sim, clock fakegenesys.Clock) (*fakes, error) {
	f := &fakes{
		genesys:   fakegenesys.New(fakegenesys.Options{Sim: model, Clock: clock}),
		opsgenie:  fakeog.New(),
		slack:     fakeslack.New(),
		pagerduty: fakepd.New(),
		urls:      map[string]string{},
	}
	fail := func(err error) (*fakes, error) {
		f.close()
		return nil, err
	}
	u, err := f.genesys.Listen("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	f.stops = append(f.stops, func() { _ = f.genesys.Close() })
	f.urls["QW_DEMO_GENESYS_URL"] = u
	u, stopOG, err := f.opsgenie.Listen("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	f.stops = append(f.stops, func() { _ = stopOG(context.Background()) })
	f.urls["QW_DEMO_OPSGENIE_URL"] = u
	if u, err = f.slack.Listen("127.0.0.1:0"); err != nil {
		return fail(err)
	}
	f.stops = append(f.stops, func() { _ = f.slack.Close() })
	f.urls["QW_DEMO_SLACK_URL"] = u
	if u, err = f.pagerduty.Listen("127.0.0.1:0"); err != nil {
		return fail(err)
	}
	f.stops = append(f.stops, func() { _ = f.pagerduty.Close() })
	f.urls["QW_DEMO_PAGERDUTY_URL"] = u
	return f, nil
}

// Demo runs the whole service on one machine with no accounts: a simulated
// contact center behind a fake Genesys Cloud API, the real poller and
// streamer reading it, the real engine and store, the real notifiers
// delivering to fake OpsGenie, Slack and PagerDuty servers, and the
// dashboard with a view of those fake inboxes. It prints where to look and
// every transition as it happens, and runs until ctx ends or Duration of
// simulated time has passed.
func Demo(ctx context.Context, opts DemoOptions, out io.Writer) error {
	if opts.Speed <= 0 || opts.Queues <= 0 {
		return errors.New("demo: speed and queues must be positive")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := opts.Start
	if start.IsZero() {
		start = time.Now().Add(-max(demoLead, opts.Duration)).UTC().Truncate(time.Second)
	}
	scenario := demoScenario(start, opts.Queues, opts.Seed)
	fclock := &demoClock{manual: fakegenesys.NewManualClock(scenario.Start)}
	f, err := startFakes(sim.New(scenario), fclock)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer f.close()
	// Give the fake a service-level window of history before anything
	// polls it, so that the first service levels are not made of a few
	// calls. Then its clock runs with everyone else's.
	for at := scenario.Start; at.Before(start); at = at.Add(10 * time.Second) {
		f.genesys.Advance(10 * time.Second)
	}
	clock := simclock.New(start, opts.Speed)
	fclock.run(clock)

	storePath := opts.Store
	if storePath == "" {
		dir, err := os.MkdirTemp("", "queuewatch-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		storePath = filepath.Join(dir, "queuewatch.db")
	}
	listen, busy, err := demoListenAddr(opts.Listen)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	vars := f.urls
	vars["QW_DEMO_PUBLIC_URL"] = "http://" + listen
	vars["QW_DEMO_API_TOKEN"] = randomToken()
	vars["QW_DEMO_WEBHOOK_SECRET"] = opts.WebhookSecret
	if opts.WebhookSecret == "" {
		vars["QW_DEMO_WEBHOOK_SECRET"] = randomToken()
	}
	cfg, err := demoConfigWith(vars)
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	cfg.Listen, cfg.Store = listen, "sqlite:"+storePath

	views := inbox.New(inbox.Sources{OpsGenie: f.opsgenie, Slack: f.slack, Channel: fakeslack.DefaultChannel, ChannelName: fakeslack.DefaultChannelName, PagerDuty: f.pagerduty})
	svc, err := StartWith(ctx, cfg, log, StartOptions{
		Clock: clock,
		Routes: func(mux *http.ServeMux) {
			mux.Handle(inbox.Prefix, views)
			mux.Handle("GET /demo", views)
		},
		NavLinks: []web.NavLink{{Title: "Fake inboxes", Path: inbox.Prefix}},
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	committed, unsubscribe := svc.Engine().Subscribe(1 << 14)

	info := DemoInfo{
		URL: "http://" + svc.Addr(), Genesys: f.urls["QW_DEMO_GENESYS_URL"], OpsGenie: f.urls["QW_DEMO_OPSGENIE_URL"],
		Slack: f.urls["QW_DEMO_SLACK_URL"], PagerDuty: f.urls["QW_DEMO_PAGERDUTY_URL"], Store: storePath,
		APIToken: cfg.APIToken.Value(), Webhook: "http://" + svc.Addr() + cfg.Webhook.Path, WebhookSecret: cfg.Webhook.Secret.Value(),
	}
	printBanner(out, info, scenario, opts, busy)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		printTransitions(runCtx, cfg, committed, out)
	}()
	go func() {
		defer wg.Done()
		defer stop()
		driveSimulation(runCtx, f.genesys, clock, start, opts.Duration)
	}()
	if opts.Ready != nil {
		opts.Ready(info)
	}
	err = svc.Run(runCtx)
	stop()
	unsubscribe()
	wg.Wait()
	if opts.Duration > 0 && ctx.Err() == nil {
		fmt.Fprintf(out, "\nqueuewatch demo: %s of simulated time played; stopped.\n", opts.Duration)
	}
	return err
}

// demoHistory is how much simulated history the fake Genesys Cloud has
// when the service starts: one service-level window (demo.yaml).
const demoHistory = 5 * time.Minute

// demoScenario is the simulator's demo day plus an outage, so that every
// kind of scripted incident plays within the first quarter hour after
// start. The simulation begins demoHistory earlier.
func demoScenario(start time.Time, queues int, seed uint64) sim.Config {
	sc := sim.DemoScenario(start.Add(-demoHistory), queues)
	if seed != 0 {
		sc.Seed = seed
	}
	if len(sc.Queues) > 3 {
		sc.Incidents = append(sc.Incidents, sim.Incident{Kind: sim.Outage, QueueID: sc.Queues[3].ID, Start: 8 * time.Minute, Duration: 4 * time.Minute})
	}
	for i := range sc.Incidents {
		sc.Incidents[i].Start += demoHistory
	}
	return sc
}

// demoClock is the fake Genesys Cloud's clock: a manual one while the
// demo builds its history, then the simulated clock everyone shares.
type demoClock struct {
	mu     sync.Mutex
	manual *fakegenesys.ManualClock
	sim    *simclock.Clock
}

func (c *demoClock) run(sim *simclock.Clock) {
	c.mu.Lock()
	c.sim = sim
	c.mu.Unlock()
}

func (c *demoClock) current() fakegenesys.Clock {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sim != nil {
		return c.sim
	}
	return c.manual
}

// Now returns the clock's time.
func (c *demoClock) Now() time.Time { return c.current().Now() }

// Sleep waits on the clock in force when it is called.
func (c *demoClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.current().Sleep(ctx, d)
}

// driveSimulation moves the fake Genesys Cloud's simulation to the
// simulated clock's time every demoStep until ctx ends or limit of
// simulated time has passed (0: no limit). The fake pushes the changed
// figures to subscribed websockets as it moves.
func driveSimulation(ctx context.Context, gen *fakegenesys.Server, clock *simclock.Clock, start time.Time, limit time.Duration) {
	t := time.NewTicker(demoStep)
	defer t.Stop()
	at := start
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := clock.Now()
		if d := now.Sub(at); d > 0 {
			gen.Advance(d)
			at = now
		}
		if limit > 0 && at.Sub(start) >= limit {
			return
		}
	}
}

// printTransitions prints each committed transition and the notifications
// it queued, until ctx ends.
func printTransitions(ctx context.Context, cfg *config.Config, committed <-chan alert.Transition, out io.Writer) {
	for {
		select {
		case <-ctx.Done():
			return
		case t, ok := <-committed:
			if !ok {
				return
			}
			_ = writeTransition(out, cfg, t, "text")
		}
	}
}

// demoListenAddr returns want (default DefaultDemoListen) if it is free,
// else a free port on the same host, with the busy address.
func demoListenAddr(want string) (addr, busy string, err error) {
	if want == "" {
		want = DefaultDemoListen
	}
	ln, err := net.Listen("tcp", want)
	if err == nil {
		addr = ln.Addr().String()
		ln.Close()
		return addr, "", nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return "", "", fmt.Errorf("listen on %s: %w", want, err)
	}
	host, _, splitErr := net.SplitHostPort(want)
	if splitErr != nil {
		return "", "", fmt.Errorf("listen on %s: %w", want, err)
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", "", fmt.Errorf("listen on a free port of %s: %w", host, err)
	}
	addr = ln.Addr().String()
	ln.Close()
	return addr, want, nil
}

func randomToken() string {
	return "demo-" + rand.Text()
}

// incidentStory says what each kind of scripted incident shows.
var incidentStory = map[sim.IncidentKind]string{
	sim.LunchSpike:   "calls quadruple: the service level falls below target → an OpsGenie alert, a PagerDuty incident and a Slack message, all closed when it recovers",
	sim.AgentsLogOff: "most agents log off: the longest wait climbs past 2m (P3) and 5m (the alert is raised to P1, the Slack message edited in place)",
	sim.Hover:        "the service level hovers around its target: the clear threshold and clear_for keep it from flapping",
	sim.Outage:       "routing stops: callers wait and nobody answers, until it comes back",
}

func printBanner(out io.Writer, info DemoInfo, sc sim.Config, opts DemoOptions, busy string) {
	w := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	w("queuewatch demo: the whole pipeline in this process, no accounts, nothing leaves the machine.")
	if busy != "" {
		w("  (%s is in use, so the dashboard listens on %s instead; --listen chooses.)", busy, strings.TrimPrefix(info.URL, "http://"))
	}
	w("")
	w("  Dashboard      %s/", info.URL)
	w("  Fake inboxes   %s/demo/   the OpsGenie alerts, Slack channel and PagerDuty incidents as delivered", info.URL)
	w("  Metrics        %s/metrics", info.URL)
	w("  API token      %s   (for silences and retries: Authorization: Bearer …)", info.APIToken)
	w("  Webhook        %s   (signed with HMAC-SHA256 key %s)", info.Webhook, info.WebhookSecret)
	w("  Fake Genesys   %s   %d simulated queues, polled and streamed over its notifications websocket", info.Genesys, len(sc.Queues))
	w("  State          %s", info.Store)
	w("")
	w("Simulated time starts at %s and runs %g× faster until it reaches the real clock.", sc.Start.Add(demoHistory).UTC().Format("15:04 UTC"), opts.Speed)
	if opts.Duration > 0 {
		w("The demo stops after %s of simulated time.", opts.Duration)
	}
	w("What to look at (minutes of simulated time):")
	for _, in := range sc.Incidents {
		from := (in.Start - demoHistory).Minutes()
		w("  %4g–%-4g %-22q %s", from, from+in.Duration.Minutes(), queueName(sc, in.QueueID), incidentStory[in.Kind])
	}
	w("Each transition is printed below with the notifications it queued. Ctrl-C stops.")
	w("")
}

func queueName(cfg sim.Config, id string) string {
	for _, q := range cfg.Queues {
		if q.ID == id {
			return q.Name
		}
	}
	return id
}
