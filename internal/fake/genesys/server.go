// Package genesys is a faithful fake of the parts of Genesys Cloud CX that
// queuewatch uses, backed by a simulated contact center (internal/sim):
// OAuth client credentials on the login routes, routing queues, the
// analytics observation and conversation aggregate queries, notification
// channels and subscriptions, and the notification WebSocket, with the
// limits, error bodies and quirks recorded in
// shared/reference/genesys.md (§10 is the checklist). Login and API routes
// are served by the same server, so a client takes its URL for both.
//
// Behaviour the reference could not confirm is modelled conservatively and
// can be changed through Options: at most 100 queue ids per observation
// query, pageSize at most 500, 401 for bad client credentials.
package genesys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// Credentials a new Server accepts unless Options say otherwise.
const (
	DefaultClientID     = "00000000-1111-4222-8333-444444444444"
	DefaultClientSecret = "fake-client-secret-do-not-use"
)

// Defaults of Options.
const (
	DefaultTokenTTL          = 86399 * time.Second
	DefaultRateLimit         = 300
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultMaxQueuesPerQuery = 100
	DefaultMaxObservations   = 100
	DefaultMaxChannels       = 20
	DefaultMaxTopics         = 1000
	DefaultChannelTTL        = 24 * time.Hour
	DefaultSnapshotEvery     = 10 * time.Second
	DefaultHistory           = 2 * time.Hour
	DefaultMaxPageSize       = 500
	// maxRequestBytes is Genesys' request.bytes.max.
	maxRequestBytes = 512000
)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	// Sim is the contact center served; the server owns it from then on
	// (use WithSim to read it). When nil, a simulation of Queues starting
	// at the clock's time is created. It moves only with Advance: call
	// Advance from a ticker to run it in real time, or step it first
	// (Advance with a small step) to build history for aggregate queries.
	Sim    *sim.Sim
	Queues []sim.QueueSpec

	ClientID     string
	ClientSecret string
	// TokenTTL is the expires_in of issued tokens (default 86399s).
	TokenTTL time.Duration
	// TokenErrorStatus answers bad client credentials (default 401).
	TokenErrorStatus int
	// RateLimit is the requests allowed per token per sliding minute
	// (default 300; negative: unlimited). Beyond it the server answers 429
	// with Retry-After and the normalized body.
	RateLimit int
	// Clock drives tokens, rate limits, heartbeats and channel expiry
	// (default RealClock).
	Clock Clock
	// HeartbeatInterval is the WebSocket heartbeat period (default 30s;
	// negative: none).
	HeartbeatInterval time.Duration
	// MaxQueuesPerQuery bounds queue ids per observation query (default
	// 100; negative: no limit). Genesys documents none; real clients send
	// at most 100.
	MaxQueuesPerQuery int
	// MaxObservations caps detail observations per metric row (default 100).
	MaxObservations int
	MaxChannels     int           // channels per OAuth client (default 20)
	MaxTopics       int           // topics per channel (default 1000)
	ChannelTTL      time.Duration // channel lifetime without resubscribing (default 24h)
	MaxPageSize     int           // largest pageSize accepted (default 500)
	// SnapshotEvery and History set how finely and how far back totals
	// are kept for aggregate queries (defaults 10s and 2h).
	SnapshotEvery time.Duration
	History       time.Duration
	// RefuseLongestWaiting makes the observation query refuse the
	// oLongestWaiting metric, as deployments before mid-2025 did.
	RefuseLongestWaiting bool
	Logger               *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	defD(&o.TokenTTL, DefaultTokenTTL)
	def(&o.TokenErrorStatus, http.StatusUnauthorized)
	def(&o.RateLimit, DefaultRateLimit)
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	defD(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&o.MaxQueuesPerQuery, DefaultMaxQueuesPerQuery)
	def(&o.MaxObservations, DefaultMaxObservations)
	def(&o.MaxChannels, DefaultMaxChannels)
	def(&o.MaxTopics, DefaultMaxTopics)
	defD(&o.ChannelTTL, DefaultChannelTTL)
	def(&o.MaxPageSize, DefaultMaxPageSize)
	defD(&o.SnapshotEvery, DefaultSnapshotEvery)
	defD(&o.History, DefaultHistory)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is the fake Genesys Cloud. It is an http.Handler.
type Server struct {
	// Faults are applied to REST requests (token and API routes) before
	// they are served; see also FailToken and RateLimitAnalytics.
	Faults faults.Injector

	opts    Options
	clock   Clock
	log     *slog.Logger
	handler http.Handler
	queues  []queueInfo // static queue settings, in sim order
	// queueIndex maps a queue id to its position in queues.
	queueIndex map[string]int

	ctx    context.Context // ends on Close; stops socket goroutines
	cancel context.CancelFunc

	mu         sync.Mutex
	sim        *sim.Sim
	tokens     map[string]*tokenInfo
	issued     int
	rate       map[string][]time.Time // per token: request times in the window
	channels   map[string]*channel
	history    []snapshot
	heartbeats bool // false stops heartbeats
	seq        uint64

	callsMu sync.Mutex // guards calls; never held with mu
	calls   []*Call

	ts   *httptest.Server
	http *http.Server
}

// New returns a fake serving opts.Sim (or a simulation of opts.Queues).
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:       opts,
		clock:      opts.Clock,
		log:        opts.Logger,
		sim:        opts.Sim,
		tokens:     map[string]*tokenInfo{},
		rate:       map[string][]time.Time{},
		channels:   map[string]*channel{},
		heartbeats: true,
	}
	if s.sim == nil {
		s.sim = sim.New(sim.Config{Start: s.clock.Now(), Queues: opts.Queues})
	}
	s.queueIndex = map[string]int{}
	for i, st := range s.sim.Snapshot() {
		s.queues = append(s.queues, newQueueInfo(st))
		s.queueIndex[st.ID] = i
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.snapshotLocked(true)
	s.handler = s.routes()
	return s
}

// ServeHTTP serves the fake.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Start serves the fake on a loopback port until the test ends and returns
// its base URL, both the API and the login URL.
func (s *Server) Start(t testing.TB) string {
	t.Helper()
	s.ts = httptest.NewServer(s)
	t.Cleanup(func() { _ = s.Close() })
	return s.ts.URL
}

// Listen serves the fake on addr (such as "127.0.0.1:0") in the background
// and returns its base URL. Close stops it.
func (s *Server) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("fake genesys: listen on %s: %w", addr, err)
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("fake genesys: serve", "error", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close closes every socket and stops the server.
func (s *Server) Close() error {
	s.cancel()
	s.DropSockets()
	if s.ts != nil {
		s.ts.CloseClientConnections()
		s.ts.Close()
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.http.Shutdown(ctx)
	}
	return nil
}

// WithSim runs f with the simulation locked, for tests that read figures
// to compare with what the client got.
func (s *Server) WithSim(f func(*sim.Sim)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.sim)
}

// Advance steps the simulation by d (and the clock, when it is a
// ManualClock), records totals for aggregate queries and pushes
// observation and activity events of subscribed queues whose figures
// changed (at most one per topic per second of the clock) to the connected
// sockets. With another clock, the clock should have moved by d when
// Advance is called, so that figures are stamped with the right time.
func (s *Server) Advance(d time.Duration) {
	if mc, ok := s.clock.(*ManualClock); ok {
		mc.Advance(d)
	}
	s.mu.Lock()
	s.sim.Run(d)
	s.snapshotLocked(false)
	s.expireLocked()
	out := s.eventsLocked()
	s.mu.Unlock()
	s.deliver(out)
}

// Now returns the fake's clock time.
func (s *Server) Now() time.Time { return s.clock.Now() }

// QueueIDs returns the ids of the queues served, in simulation order.
func (s *Server) QueueIDs() []string {
	out := make([]string, len(s.queues))
	for i, q := range s.queues {
		out[i] = q.ID
	}
	return out
}
