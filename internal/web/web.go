// Package web serves queuewatch's dashboard (embedded assets, no build
// step), its JSON API under /api/v1 and the server-sent event stream that
// keeps the dashboard live. It reads the engine's in-memory view and the
// store; the only writes it makes are silences and dead-letter retries.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/store"
)

//go:embed assets
var assets embed.FS

// Engine is the part of the rule engine the web layer reads.
// *alert.Engine satisfies it.
type Engine interface {
	Snapshot(ctx context.Context) ([]alert.SeriesView, []alert.QueueView, error)
	Subscribe(buf int) (<-chan alert.Transition, func())
}

// Store is the part of the store the web layer reads and writes.
// store.Store satisfies it.
type Store interface {
	Episodes(ctx context.Context, key string, limit int) ([]alert.Episode, error)
	History(ctx context.Context, key string, limit int) ([]alert.Transition, error)
	ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error)
	Attempts(ctx context.Context, id int64) ([]store.Attempt, error)
	GetRef(ctx context.Context, destination, episodeID string) (store.Ref, error)
	CreateSilence(ctx context.Context, s store.Silence) error
	Silences(ctx context.Context) ([]store.Silence, error)
	ExpireSilence(ctx context.Context, id string, at time.Time) error
}

// Retrier resends a dead delivery. *notify.Dispatcher satisfies it.
type Retrier interface {
	RetryDead(ctx context.Context, id int64) error
}

// Silencer matches alerts against the active silences and reloads them
// after a change. *silence.Matcher satisfies it.
type Silencer interface {
	Active(ruleName, queueID, queueName string, t time.Time) []store.Silence
	Refresh(ctx context.Context) error
}

// NavLink is an extra link in the dashboard's header, such as the demo's
// fake inboxes.
type NavLink struct {
	Title string `json:"title"`
	Path  string `json:"path"`
}

// Destination describes a configured destination for the dashboard.
type Destination struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Options configures a Server. Engine, Store, Retrier and Silences are
// required.
type Options struct {
	Engine   Engine
	Store    Store
	Retrier  Retrier
	Silences Silencer
	// Health returns the health of the sources and the outbox; optional.
	Health func(ctx context.Context) Health
	// Hub carries the live events; a new one when nil. Create it first with
	// NewHub to feed it delivery outcomes (see Hub.Deliveries).
	Hub *Hub
	// APIToken is the bearer token writes need. When empty, writes are
	// refused: the API is secure by default.
	APIToken string
	// ReadAuth makes reads need the token too.
	ReadAuth bool
	// Rules are the configured rule names, offered when silencing.
	Rules []string
	// Destinations are the configured destinations, to label deliveries.
	Destinations []Destination
	// NavLinks are extra links rendered in the header.
	NavLinks []NavLink
	// Version is shown in the footer.
	Version string
	// History holds the recent values the charts draw; feed it every
	// sample (see NewHistory). Charts stay empty when nil.
	History *recent.Recorder
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// HealthEvery is how often Run sends a health event; default 10s.
	HealthEvery time.Duration
	// Heartbeat is how often an idle event stream gets a comment line so
	// proxies keep it open; default 15s.
	Heartbeat time.Duration
	// LiveReads, when set, wraps the reads that come from this process's
	// memory rather than the store: the queue board and a queue's charts,
	// the open alerts and an alert's history (which the engine refines),
	// the health and the event stream. A follower replica passes them on
	// to the leader; when it serves them itself after all, it marks the
	// request's context with WithFollowerNotice.
	LiveReads func(http.Handler) http.Handler
	Logger    *slog.Logger
}

// Server is the dashboard, API and event stream.
type Server struct {
	opts   Options
	hub    *Hub
	hist   *recent.Recorder
	log    *slog.Logger
	now    func() time.Time
	index  *template.Template
	static http.Handler
	routes []string
	// closing ends every event stream; see CloseStreams.
	closing   chan struct{}
	closeOnce sync.Once
}

// ChartWindow is how much history the charts show; ChartStep their resolution.
const (
	ChartWindow = time.Hour
	ChartStep   = 30 * time.Second
)

// New returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil || opts.Store == nil || opts.Retrier == nil || opts.Silences == nil {
		return nil, errors.New("web: Options.Engine, Store, Retrier and Silences are required")
	}
	for _, l := range opts.NavLinks {
		if l.Title == "" || len(l.Path) == 0 || l.Path[0] != '/' {
			return nil, fmt.Errorf("web: nav link %q: needs a title and a path starting with /", l.Title)
		}
	}
	s := &Server{opts: opts, hub: opts.Hub, log: opts.Logger, now: opts.Now, closing: make(chan struct{})}
	if s.hub == nil {
		s.hub = NewHub()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.HealthEvery <= 0 {
		s.opts.HealthEvery = 10 * time.Second
	}
	if s.opts.Heartbeat <= 0 {
		s.opts.Heartbeat = 15 * time.Second
	}
	s.hist = opts.History
	if s.hist == nil {
		s.hist = NewHistory()
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	if s.index, err = template.ParseFS(sub, "index.html"); err != nil {
		return nil, fmt.Errorf("web: index template: %w", err)
	}
	s.static = http.StripPrefix("/assets/", http.FileServerFS(sub))
	return s, nil
}

// CloseStreams ends every open event stream, now and later, so that an
// HTTP server's graceful shutdown does not wait for them: register it with
// http.Server.RegisterOnShutdown. Browsers reconnect to another replica or
// after the restart.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// Closing returns a channel closed once CloseStreams was called, for
// streams served on the server's behalf (such as a follower's passed on to
// the leader) to end with its own.
func (s *Server) Closing() <-chan struct{} { return s.closing }

// Hub returns the server's event hub.
func (s *Server) Hub() *Hub { return s.hub }

// Register adds the dashboard and API routes to mux. Other handlers (the
// webhook, metrics, a demo's pages) may share the mux.
func (s *Server) Register(mux *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) {
		s.routes = append(s.routes, pattern)
		mux.HandleFunc(pattern, h)
	}
	handle("GET /{$}", s.serveIndex)
	handle("GET /assets/", s.serveAsset)
	handle("GET /api/v1/meta", s.read(s.serveMeta))
	handle("GET /api/v1/health", s.live(s.read(s.serveHealth)))
	handle("GET /api/v1/queues", s.live(s.read(s.serveQueues)))
	handle("GET /api/v1/queues/{id}", s.live(s.read(s.serveQueue)))
	handle("GET /api/v1/alerts", s.live(s.read(s.serveAlerts)))
	handle("GET /api/v1/alerts/{key}/history", s.live(s.read(s.serveAlertHistory)))
	handle("GET /api/v1/deliveries", s.read(s.serveDeliveries))
	handle("GET /api/v1/deliveries/{id}", s.read(s.serveDelivery))
	handle("POST /api/v1/deliveries/{id}/retry", s.write(s.serveRetry))
	handle("GET /api/v1/silences", s.read(s.serveSilences))
	handle("POST /api/v1/silences", s.write(s.serveCreateSilence))
	handle("DELETE /api/v1/silences/{id}", s.write(s.serveExpireSilence))
	handle("GET /api/v1/events", s.live(s.readEvents(s.serveEvents)))
	handle("/api/", s.serveNoRoute)
}

// Routes returns the patterns Register added, for documentation checks.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// NewHistory returns a recorder of the metrics the dashboard charts, over
// ChartWindow at ChartStep resolution.
func NewHistory() *recent.Recorder {
	return recent.New(ChartWindow, ChartStep, boardMetrics...)
}

// Run feeds the event stream until ctx ends: committed transitions become
// events, and health is sent every HealthEvery.
func (s *Server) Run(ctx context.Context) {
	ts, stop := s.opts.Engine.Subscribe(1024)
	defer stop()
	health := time.NewTicker(s.opts.HealthEvery)
	defer health.Stop()
	prune := time.NewTicker(historyPruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			s.pruneHistory()
		case t, ok := <-ts:
			if !ok {
				return
			}
			s.hub.Publish(EventTransition, t) // its JSON form leaves the series state out
		case <-health.C:
			if s.opts.Health != nil {
				s.hub.Publish(EventHealth, s.opts.Health(ctx))
			}
		}
	}
}

// historyPruneEvery is how often Run drops the chart history of queues
// that stopped reporting.
const historyPruneEvery = 5 * time.Minute

// pruneHistory forgets the chart series with no point in the last
// ChartWindow: queues removed, renamed or made up by a sender, which would
// otherwise be kept for the life of the process.
func (s *Server) pruneHistory() {
	s.hist.Forget(s.now().Add(-ChartWindow))
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	setPageHeaders(w)
	data := struct {
		NavLinks []NavLink
		Version  string
	}{s.opts.NavLinks, s.opts.Version}
	if err := s.index.Execute(w, data); err != nil {
		s.log.Warn("rendering the dashboard", "err", err)
	}
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	setPageHeaders(w)
	s.static.ServeHTTP(w, r)
}

// setPageHeaders forbids framing and anything not served by queuewatch.
func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
}

func (s *Server) serveNoRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("no API route %s %s; see docs/api.md", r.Method, r.URL.Path))
}

func (s *Server) serveMeta(w http.ResponseWriter, r *http.Request) {
	rules := s.opts.Rules
	if rules == nil {
		rules = []string{}
	}
	dests := s.opts.Destinations
	if dests == nil {
		dests = []Destination{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": s.opts.Version, "rules": rules, "destinations": dests,
		"writes_enabled": s.opts.APIToken != "", "read_auth": s.opts.ReadAuth,
		"chart_window_seconds": ChartWindow.Seconds(), "chart_step_seconds": ChartStep.Seconds(),
	})
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	var h Health
	if s.opts.Health != nil {
		h = s.opts.Health(r.Context())
	}
	h.FollowerNotice = followerNotice(r)
	writeJSON(w, http.StatusOK, h)
}
