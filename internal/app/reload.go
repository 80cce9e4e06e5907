package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/web"
)

// A reload applies a changed configuration without a restart of the
// process: the new file is loaded and validated first, and only when it is
// valid does the running service shut down gracefully (in-flight writes and
// sends finish) and a new one start from the same store. Open alerts carry
// over through the store exactly as across a restart; series of rules that
// were removed are resolved. One HTTP server, with its socket and its
// keep-alive connections, serves every service in turn: requests that
// arrive while one service hands over to the next wait for the next, so
// webhook senders and dashboards never see a refused or dropped
// connection. Dashboards' event streams end and resume after the last
// event they saw; their charts' recent values carry over.
//
// An invalid file changes nothing: the running service goes on with the
// configuration it has, and the failure is logged with the file, line and
// key of every problem, counted in queuewatch_config_reloads_total and shown
// by queuewatch_config_last_reload_successful.

// ReloadOptions configure ServeReloading.
type ReloadOptions struct {
	// Config is the configuration to start with.
	Config *config.Config
	// Load reads the configuration file again for a reload.
	Load func() (*config.Config, error)
	// Log receives the services' logs.
	Log *slog.Logger
	// Reload asks for a reload each time it receives (SIGHUP).
	Reload <-chan struct{}
	// Listener, when set, is served instead of a new listener on the
	// configuration's listen address.
	Listener net.Listener
}

// ServeReloading runs the service of o.Config until ctx ends, reloading
// its configuration with o.Load whenever o.Reload receives or an
// authorized POST /-/reload arrives.
func ServeReloading(ctx context.Context, o ReloadOptions) error {
	cfg, log := o.Config, o.Log
	slog.SetDefault(log)
	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	r := &reloader{load: o.Load, log: log, next: make(chan *config.Config, 1), listen: cfg.Listen}
	r.succeeded(cfg)
	sw := newSwitch()
	var (
		srv     *http.Server // built like the first service's, serving sw
		serving = make(chan error, 1)
		prev    *config.Config // the configuration to go back to when cfg fails to start
		err     error
	)
	// The dashboard's charts and event numbering are kept across reloads.
	var (
		history *recent.Recorder
		hub     *web.Hub
	)
	for {
		var s *Service
		s, err = StartWith(ctx, cfg, log, StartOptions{Listener: ln, External: true, Routes: r.routes, History: history, Hub: hub})
		if err != nil {
			if prev == nil {
				break
			}
			log.Error("the reloaded configuration failed to start; going back to the previous one", "err", err)
			r.failed(err)
			cfg, prev = prev, nil
			continue
		}
		if prev != nil {
			log.Info("configuration reloaded", "rules", len(cfg.Rules), "destinations", len(cfg.Destinations))
			r.succeeded(cfg)
		}
		r.register(s)
		history, hub = s.history, s.web.Hub()
		gen := sw.attach(s)
		if srv == nil {
			srv = &http.Server{Handler: sw, ReadHeaderTimeout: s.srv.ReadHeaderTimeout, ReadTimeout: s.srv.ReadTimeout,
				WriteTimeout: s.srv.WriteTimeout, IdleTimeout: s.srv.IdleTimeout, MaxHeaderBytes: s.srv.MaxHeaderBytes,
				ErrorLog: s.srv.ErrorLog}
			srv.RegisterOnShutdown(sw.closeStreams)
			go func() { serving <- srv.Serve(ln) }()
		}
		var next *config.Config
		next, err = r.run(ctx, s, gen, sw, srv, serving, o.Reload)
		if next == nil {
			return err
		}
		if err != nil {
			log.Warn("the service did not stop cleanly before the reload", "err", err)
		}
		prev, cfg = cfg, next
	}
	if srv == nil {
		ln.Close()
		return err
	}
	sw.stop() // the requests waiting for a service get 503
	shutCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	return errors.Join(err, srv.Shutdown(shutCtx))
}

// drainTimeout bounds how long a reload waits for the requests the old
// service is serving; requests still running then are cut off.
const drainTimeout = 30 * time.Second

// run runs s, which sw serves as gen, until ctx ends or s stops (nil next),
// or until a valid configuration is to be applied: s's requests are then
// drained, s is shut down and next returned.
func (r *reloader) run(ctx context.Context, s *Service, gen *generation, sw *handlerSwitch, srv *http.Server,
	serving <-chan error, reload <-chan struct{}) (next *config.Config, err error) {
	// The service runs until told to stop here: on ctx's end the HTTP
	// server must drain first, while the service still answers.
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	shutdown := func(cause error) error {
		shutCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		errs := []error{cause}
		if err := srv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		stop()
		errs = append(errs, <-done)
		return errors.Join(errs...)
	}
	for next == nil {
		select {
		case <-ctx.Done():
			s.log.Info("shutting down")
			return nil, shutdown(nil)
		case err := <-done: // lost the leadership, or failed
			done <- err
			return nil, shutdown(nil)
		case err := <-serving:
			return nil, shutdown(fmt.Errorf("http: %w", err))
		case <-reload:
			var lerr error
			if next, lerr = r.validate(); lerr != nil {
				r.log.Error("configuration reload failed; keeping the running configuration", "source", "SIGHUP", "err", lerr)
			}
		case next = <-r.next:
		}
	}
	r.log.Info("reloading the configuration: stopping the running service")
	sw.detach()
	s.web.CloseStreams()
	drained := make(chan struct{})
	go func() { gen.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		r.log.Warn("reload: requests of the old service still running after the drain timeout; stopping it anyway", "timeout", drainTimeout)
	}
	stop()
	return next, <-done
}

// reloader holds what survives from one service to the next during
// reloads: the reload requests and the outcome of the last one.
type reloader struct {
	load   func() (*config.Config, error)
	log    *slog.Logger
	next   chan *config.Config // validated configurations waiting to be applied
	listen string              // the listen address, which a reload cannot change

	token atomic.Pointer[string] // the running configuration's API token

	mu          sync.Mutex
	lastOK      bool
	lastSuccess time.Time
	successes   float64
	failures    float64
}

// validate loads the configuration file and checks that a reload can apply
// it. A failure is recorded as a failed reload.
func (r *reloader) validate() (*config.Config, error) {
	cfg, err := r.load()
	if err == nil && cfg.Listen != r.listen {
		err = fmt.Errorf("listen: %q cannot change on a reload (it is %q); restart the service to move it", cfg.Listen, r.listen)
	}
	if err != nil {
		r.failed(err)
		return nil, err
	}
	return cfg, nil
}

func (r *reloader) succeeded(cfg *config.Config) {
	tok := cfg.APIToken.Value()
	r.token.Store(&tok)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastOK, r.lastSuccess = true, time.Now()
	r.successes++
}

func (r *reloader) failed(error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastOK = false
	r.failures++
}

// register adds the reload metrics to s's registry. Their values live in
// r, so they carry over from one service to the next.
func (r *reloader) register(s *Service) {
	read := func(f func() float64) func() float64 {
		return func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return f()
		}
	}
	s.metrics.Registry().MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "queuewatch_config_last_reload_successful",
			Help: "1 when the last configuration (re)load succeeded, 0 when it failed and the previous configuration is still running.",
		}, read(func() float64 {
			if r.lastOK {
				return 1
			}
			return 0
		})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "queuewatch_config_last_reload_success_timestamp_seconds",
			Help: "When the running configuration was loaded, in Unix seconds.",
		}, read(func() float64 { return float64(r.lastSuccess.UnixNano()) / 1e9 })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "queuewatch_config_reloads_total", ConstLabels: prometheus.Labels{"result": "success"},
			Help: "Configuration reloads by result (the first load counts as a success).",
		}, read(func() float64 { return r.successes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "queuewatch_config_reloads_total", ConstLabels: prometheus.Labels{"result": "failure"},
			Help: "Configuration reloads by result (the first load counts as a success).",
		}, read(func() float64 { return r.failures })),
	)
}

// routes adds POST /-/reload. It needs the API token: reloading is a write
// that anyone able to reach the port could otherwise use to take the
// service down for a moment. The file is validated before the answer, so
// a 400 lists its problems and a 202 means the reload is under way.
func (r *reloader) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, req *http.Request) {
		want := *r.token.Load()
		if want == "" {
			writeJSON(w, http.StatusForbidden, map[string]string{
				"error": "reloading through the API needs api_token in the configuration; send SIGHUP to the process instead"})
			return
		}
		scheme, tok, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || !tokenEqual(strings.TrimSpace(tok), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="queuewatch"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		cfg, err := r.validate()
		if err != nil {
			r.log.Error("configuration reload failed; keeping the running configuration", "source", "api", "err", err)
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"error":   "the configuration was not reloaded; the running one is kept",
				"reasons": strings.Split(err.Error(), "\n"),
			})
			return
		}
		select {
		case r.next <- cfg:
		default: // a reload is already waiting: this newer file replaces it
			select {
			case <-r.next:
			default:
			}
			r.next <- cfg
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "reloading"})
	})
}

// handlerSwitch serves the requests of one HTTP server with the handler
// of the current service. While services change, requests wait (until
// their client gives up) for the next one.
type handlerSwitch struct {
	mu      sync.Mutex
	cur     *generation   // nil while services change
	changed chan struct{} // closed when cur is set, or on stop
	stopped bool          // no service will come
}

// generation is one service as served by the switch.
type generation struct {
	s        *Service
	inflight sync.WaitGroup // its requests in progress
}

func newSwitch() *handlerSwitch { return &handlerSwitch{changed: make(chan struct{})} }

// attach makes s the service requests go to.
func (sw *handlerSwitch) attach(s *Service) *generation {
	g := &generation{s: s}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.cur = g
	close(sw.changed)
	return g
}

// detach stops sending requests to the current service; they wait for the
// next attach.
func (sw *handlerSwitch) detach() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.cur = nil
	sw.changed = make(chan struct{})
}

// stop answers the requests waiting for a service, and later ones, with
// 503: no service is coming.
func (sw *handlerSwitch) stop() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.stopped {
		sw.stopped = true
		if sw.cur == nil {
			close(sw.changed)
		}
	}
}

// closeStreams ends the current service's event streams (the HTTP server's
// shutdown waits for every request, and streams never end on their own).
func (sw *handlerSwitch) closeStreams() {
	sw.mu.Lock()
	g := sw.cur
	sw.mu.Unlock()
	if g != nil {
		g.s.web.CloseStreams()
	}
}

func (sw *handlerSwitch) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw.mu.Lock()
	for sw.cur == nil {
		if sw.stopped {
			sw.mu.Unlock()
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "queuewatch is stopping: the reloaded configuration failed to start"})
			return
		}
		changed := sw.changed
		sw.mu.Unlock()
		select {
		case <-changed:
		case <-req.Context().Done():
			return
		}
		sw.mu.Lock()
	}
	g := sw.cur
	g.inflight.Add(1)
	sw.mu.Unlock()
	defer g.inflight.Done()
	g.s.Handler().ServeHTTP(w, req)
}

// tokenEqual compares a presented token with the configured one in
// constant time (hashing both first, so their lengths do not leak either).
func tokenEqual(presented, want string) bool {
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
