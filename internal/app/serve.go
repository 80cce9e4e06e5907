package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/metrics"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/silence"
	"github.com/queuewatch/queuewatch/internal/source/webhook"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres"
	"github.com/queuewatch/queuewatch/internal/store/sqlite"
	"github.com/queuewatch/queuewatch/internal/web"
)

// OpenStore opens the store named by a configuration's store DSN.
func OpenStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlite.PathFromDSN(dsn)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case postgres.IsDSN(dsn):
		return postgres.Open(ctx, dsn)
	}
	return nil, fmt.Errorf("store %q: use sqlite:FILE or postgres://", dsn)
}

// Service is a running queuewatch: store, engine, dispatcher, webhook and
// HTTP server.
type Service struct {
	cfg        *config.Config
	log        *slog.Logger
	store      store.Store
	engine     *alert.Engine
	dispatcher *notify.Dispatcher
	dests      destinations
	hook       *webhook.Handler
	metrics    *metrics.Metrics
	genesys    *genesysSources // nil without a Genesys OAuth client
	srv        *http.Server
	ln         net.Listener
	external   bool // the caller serves Handler on ln (see StartOptions.External)
	ready      atomic.Bool
	clock      alert.Clock
	// sourceClock is the Genesys sources' clock; nil is the wall clock.
	sourceClock genesys.Clock
	extraRoutes func(*http.ServeMux)
	silences    *silence.Matcher
	history     *recent.Recorder // recent values for the dashboard's charts
	delivery    *deliveryHealth  // failing destinations, for /readyz
	web         *web.Server

	// bgMu orders startBackground (which a new leader term may call at any
	// time) against Shutdown: once bgStopped is set no background work starts.
	bgMu           sync.Mutex
	bgStopped      bool
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	// ha elects the leader among replicas; nil unless the store is PostgreSQL.
	ha *ha
	// stopHA ends the election, handing the leadership over; nil without ha.
	stopHA func()
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// StartOptions adjust a service for running inside another program, such
// as the demo. The zero value is what serve runs.
type StartOptions struct {
	// Clock, when set, is the time of the engine's ticker and the Genesys
	// client, poller and streamer instead of the wall clock (the demo's
	// simulated time). Delivery always runs on the wall clock.
	Clock genesys.Clock
	// Routes, when set, adds handlers to the HTTP server's mux.
	Routes func(mux *http.ServeMux)
	// NavLinks are extra links in the dashboard's header, e.g. to pages
	// that Routes adds.
	NavLinks []web.NavLink
	// Listener, when set, is used instead of a new listener on the
	// configuration's listen address.
	Listener net.Listener
	// History, when set, keeps the dashboard's recent values instead of a
	// new, empty record (a reload hands the old service's on).
	History *recent.Recorder
	// Hub, when set, is the event stream's hub instead of a new one (a
	// reload hands the old service's on, so that dashboards resume after
	// the last event they saw).
	Hub *web.Hub
	// External leaves serving HTTP on Listener to the caller, which serves
	// the service's Handler (so that one HTTP server, and its connections,
	// outlive the services a reload replaces). Run then serves nothing.
	External bool
}

// Start opens the store, resumes stored alerts into a new engine and starts
// listening. Stop it with Shutdown.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Service, error) {
	return StartWith(ctx, cfg, log, StartOptions{})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, cfg *config.Config, log *slog.Logger, opts StartOptions) (*Service, error) {
	rules, err := rule.Compile(cfg)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock.Now
	}
	sil := silence.New(st, now, log.With("component", "silences"))
	if err := sil.Refresh(ctx); err != nil {
		st.Close()
		return nil, err
	}
	h, err := newHA(st, cfg.LeaderLease.D(), log)
	if err != nil {
		st.Close()
		return nil, err
	}
	var committer alert.Committer = st
	if h != nil {
		committer = h // fenced; the series are resumed when elected
	}
	eng, err := alert.New(alert.Options{Rules: rules, Committer: committer, Shards: cfg.Engine.Shards, Logger: log, Muter: sil})
	if err != nil {
		st.Close()
		return nil, err
	}
	var states []alert.SeriesState
	if h == nil {
		states, err = st.LoadSeries(ctx)
		if err == nil {
			err = eng.Restore(ctx, states)
		}
	}
	if err != nil {
		_ = eng.Close(ctx)
		st.Close()
		return nil, fmt.Errorf("resuming stored alerts: %w", err)
	}
	fail := func(err error) (*Service, error) {
		_ = eng.Close(ctx)
		st.Close()
		return nil, err
	}
	dests, err := buildDestinations(cfg, deliveryClient())
	if err != nil {
		return fail(err)
	}
	m := metrics.New(alertCounter(eng), st.PendingCounts)
	hub, hist := opts.Hub, opts.History
	if hub == nil {
		hub = web.NewHub()
	}
	if hist == nil {
		hist = web.NewHistory()
	}
	health := newDeliveryHealth()
	disp := notify.NewDispatcher(st, dests.list, notify.Options{Logger: log, Observer: hub.Deliveries(observers{m, health})})
	wcfg := webhookConfig(cfg, log)
	wcfg.OnResult = func(result string) { m.WebhookRequests.WithLabelValues(result).Inc() }
	var observer webhook.Observer = countingObserver{eng, m, metric.SourceWebhook, hist}
	if h != nil {
		observer = inboxObserver{h.st, m} // the leader evaluates
		h.registerMetrics(m)
	}
	hook, err := webhook.New(wcfg, observer)
	if err != nil {
		return fail(err)
	}
	m.ObserveWebhookQueues(func() (int, uint64) { st := hook.Stats(); return st.Queues, st.DroppedSamples })
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fail(fmt.Errorf("listen: %w", err))
		}
	}
	s := &Service{cfg: cfg, log: log, store: st, engine: eng, dispatcher: disp, dests: dests, hook: hook, metrics: m, ln: ln, clock: wallClock{}, extraRoutes: opts.Routes, silences: sil, history: hist, delivery: health, ha: h, external: opts.External}
	if opts.Clock != nil {
		s.clock, s.sourceClock = opts.Clock, opts.Clock
	}
	if s.genesys, err = s.buildGenesys(); err != nil {
		ln.Close()
		return fail(err)
	}
	if s.web, err = s.buildWeb(hub, opts.NavLinks); err != nil {
		ln.Close()
		return fail(err)
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	s.srv.RegisterOnShutdown(s.web.CloseStreams) // event streams never go idle on their own
	s.ready.Store(true)
	log.Info("queuewatch started", "version", Version(), "listen", ln.Addr().String(), "store", redactDSN(cfg.Store),
		"rules", len(rules), "destinations", len(cfg.Destinations), "resumed_series", len(states))
	return s, nil
}

// maxHeaderBytes bounds a request's header; the webhook and the API need a
// few kilobytes at most.
const maxHeaderBytes = 64 << 10

// Addr is the address the HTTP server listens on.
func (s *Service) Addr() string { return s.ln.Addr().String() }

// Handler returns the service's HTTP handler: health, metrics, webhook,
// dashboard and API.
func (s *Service) Handler() http.Handler { return s.srv.Handler }

// Engine returns the service's engine.
func (s *Service) Engine() *alert.Engine { return s.engine }

// Run serves HTTP and advances series clocks until ctx ends, then shuts down.
func (s *Service) Run(ctx context.Context) error {
	tick := s.cfg.Engine.Tick.D()
	if tick <= 0 {
		tick = time.Second
	}
	tickCtx, cancelTick := context.WithCancel(ctx)
	defer cancelTick()
	lost := make(chan error, 1)
	if s.ha != nil {
		// Only the leader ticks and runs the background work. The
		// election outlives ctx until Shutdown stopped the engine and the
		// dispatcher, so their last writes are still the leader's.
		electCtx, stopElection := context.WithCancel(context.Background())
		elected := make(chan struct{})
		go func() {
			defer close(elected)
			lost <- s.ha.run(electCtx, s.term)
		}()
		s.stopHA = func() { stopElection(); <-elected }
	} else {
		go s.engine.RunTicker(tickCtx, s.clock, tick)
		s.startBackground()
	}
	errc := make(chan error, 1)
	if !s.external {
		go func() { errc <- s.srv.Serve(s.ln) }()
	}
	select {
	case err := <-lost:
		s.log.Error("stopping: this replica lost the leadership; restart it to rejoin as a follower", "err", err)
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(shutCtx)
		return err
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			_ = s.Shutdown(context.Background())
			return fmt.Errorf("http: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Shutdown(shutCtx)
}

// Shutdown stops accepting requests, lets in-flight requests finish, writes
// every transition already made and closes the store.
func (s *Service) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := s.engine.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	// The dispatcher finishes in-flight sends and records their outcomes.
	s.bgMu.Lock()
	s.bgStopped = true
	stop := s.stopBackground
	s.bgMu.Unlock()
	if stop != nil {
		stop()
		s.background.Wait()
	}
	if s.stopHA != nil {
		s.stopHA() // releases the lease: another replica takes over at once
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing store: %w", err))
	}
	if len(errs) == 0 {
		s.log.Info("stopped cleanly")
	}
	return errors.Join(errs...)
}

// Serve runs the service until ctx ends.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	slog.SetDefault(log) // libraries that log without a logger of their own use the same format and level
	s, err := Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle(s.cfg.Webhook.Path, s.hook)
	mux.Handle("GET /metrics", s.metrics.Handler())
	s.web.Register(mux)
	if s.extraRoutes != nil {
		s.extraRoutes(mux)
	}
	return mux
}

// readyz answers 200 when the service can take work: it is not shutting down
// and the store answers.
func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]string{}
	ok := s.ready.Load()
	if !ok {
		checks["service"] = "shutting down"
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	pending, err := s.store.PendingCounts(ctx)
	if err != nil {
		ok = false
		checks["store"] = "unreachable: " + err.Error()
	} else {
		checks["store"] = "ok"
	}
	stats := s.engine.Stats()
	body := map[string]any{"checks": checks, "samples": stats.Samples, "transitions": stats.Transitions}
	// Destinations in trouble are reported, not fatal: what they are owed
	// waits in the outbox and goes out when they recover.
	if s.delivery != nil {
		checks["destinations"] = "ok"
		if failing, summary := s.delivery.report(time.Now()); failing != nil {
			checks["destinations"] = summary
			body["failing_destinations"] = failing
		}
		body["outbox_pending"] = pending
	}
	if s.ha != nil {
		body["role"] = s.ha.role()
	}
	if g := s.genesys; g != nil {
		ps := g.poller.Status()
		gs := map[string]any{"queues": ps.Queues, "last_poll": ps.LastPoll, "poll_interval": ps.EffectiveInterval.String(),
			"budget_in_use": g.client.Budget().InUse(), "budget_limit": g.client.Budget().Limit()}
		if ps.Stretched {
			gs["poll_plan"] = ps.Plan
		}
		if ps.LastError != "" {
			gs["last_poll_error"] = ps.LastError
		}
		if g.streamer != nil {
			ss := g.streamer.Status()
			gs["stream_connected"], gs["stream_reconnects"] = ss.Connected, ss.Reconnects
			if ss.LastError != "" {
				gs["last_stream_error"] = ss.LastError
			}
		}
		// Sources in trouble are reported, not fatal: the webhook and the
		// other source may still deliver, and the state is in the store.
		checks["genesys"] = "ok"
		if ps.ConsecutiveFailures > 0 {
			checks["genesys"] = fmt.Sprintf("degraded: %d failed polls in a row", ps.ConsecutiveFailures)
		}
		body["genesys"] = gs
	}
	if stats.CommitFails > 0 {
		body["commit_failures"] = stats.CommitFails
	}
	if ok {
		body["status"] = "ready"
		writeJSON(w, http.StatusOK, body)
		return
	}
	body["status"] = "not ready"
	writeJSON(w, http.StatusServiceUnavailable, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// redactDSN hides a password in a store DSN.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon+1] + "xxxxx" + dsn[at:]
			}
		}
	}
	return dsn
}
