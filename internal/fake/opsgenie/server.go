// Package opsgenie is a fake OpsGenie/JSM alert API for tests and the demo:
// GenieKey authentication, alias deduplication, close/notes/priority by
// alias, id or tiny id, asynchronous processing confirmed through the
// request-status endpoint, the field limits of the real API, heartbeats,
// and fault injection. It serves the same API under "/v2/…" (OpsGenie) and
// "/jsm/ops/integration/v2/…" (JSM integration events).
//
// Behaviour the real service does not document (what it answers for an
// unknown route, the exact texts of errors and request statuses) is modelled
// on the observed answers in shared/reference/notify-apis.md §1.
package opsgenie

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/httpserve"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

// DefaultKey is the integration API key a new Server accepts.
const DefaultKey = "11111111-2222-4333-8444-555555555555"

// JSMPrefix is the path prefix of the JSM integration-events API.
const JSMPrefix = "/jsm/ops/integration"

// KeyKind is the kind of an API key.
type KeyKind int

// Key kinds.
const (
	// IntegrationKey is the key of an API integration: it may do anything.
	IntegrationKey KeyKind = iota + 1
	// ConfigKey is a key from "API Key Management": it may read and manage
	// heartbeats, but alert actions answer 403 with code 40301.
	ConfigKey
)

// Server is the fake API; it is an http.Handler. Its zero value is not
// usable; call New.
type Server struct {
	// Faults are applied to every API request before it is served (not to
	// the /_fake inspection routes).
	Faults faults.Injector

	handler http.Handler
	hs      httpserve.Server

	mu         sync.Mutex
	keys       map[string]KeyKind
	alerts     []*Alert
	byAlias    map[string][]*Alert // the alerts of each alias, oldest first
	pending    []*request
	requests   map[string]*request
	heartbeats map[string]*Heartbeat
	hbOrder    []string
	pings      map[string]int
	recorded   []*RecordedRequest
	polls      int
	delay      time.Duration
	now        func() time.Time
	failNext   []string
	flat       bool
	seq        int
}

// New returns a Server that accepts DefaultKey, processes each request after
// its first status call and uses the real clock.
func New() *Server {
	s := &Server{
		keys:       map[string]KeyKind{DefaultKey: IntegrationKey},
		requests:   map[string]*request{},
		byAlias:    map[string][]*Alert{},
		heartbeats: map[string]*Heartbeat{},
		pings:      map[string]int{},
		polls:      1,
		now:        time.Now,
	}
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serveAPI))
	return s
}

// AddKey makes key valid with the given kind.
func (s *Server) AddKey(key string, kind KeyKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = kind
}

// RemoveKey makes key invalid (like a deleted integration).
func (s *Server) RemoveKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}

// SetNotProcessedPolls sets how many status calls of each request answer
// 404 RequestNotProcessed before the request is processed; default 1, 0
// means the first status call already finds it processed.
func (s *Server) SetNotProcessedPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = max(n, 0)
}

// SetProcessingDelay makes requests wait at least d, on the server's clock,
// before they are processed; default 0. Use it with SetClock for a virtual
// delay without real sleeps.
func (s *Server) SetProcessingDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetClock sets the server's clock; default time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailRequests makes the next n processed alert requests fail with
// isSuccess:false and the given status text, e.g. "Integration is disabled".
func (s *Server) FailRequests(n int, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, status)
	}
}

// SetFlatRequestStatus makes the request-status endpoint answer in the flat
// form of the JSM operations REST API instead of OpsGenie's {data:{…}}.
func (s *Server) SetFlatRequestStatus(flat bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flat = flat
}

// Reset forgets every alert, request, heartbeat and recorded request; keys
// and settings stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts, s.pending, s.recorded, s.hbOrder = nil, nil, nil, nil
	s.byAlias = map[string][]*Alert{}
	s.requests = map[string]*request{}
	s.heartbeats = map[string]*Heartbeat{}
	s.pings = map[string]int{}
	s.failNext = nil
}

// Start serves the fake on a local port until the test ends and returns
// its base URL (the OpsGenie root; add JSMPrefix for JSM).
func (s *Server) Start(t testing.TB) string { return s.hs.Start(t, "fake opsgenie", s) }

// Listen serves the fake on addr (e.g. "127.0.0.1:0") and returns its base
// URL and a function that stops it.
func (s *Server) Listen(addr string) (string, func(context.Context) error, error) {
	u, err := s.hs.Listen("fake opsgenie", addr, s)
	if err != nil {
		return "", nil, err
	}
	return u, func(context.Context) error { return s.hs.Close() }, nil
}

// ServeHTTP serves the API, with faults and recording, and the /_fake
// inspection routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.serveInspect(w, r)
		return
	}
	rec := s.record(r)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		rec.Status = sw.code
		rec.RequestID = sw.Header().Get("X-Request-ID")
		s.mu.Unlock()
	}()
	s.handler.ServeHTTP(sw, r)
}

// serveAPI authenticates and routes one API request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	segs, ok := segments(r)
	if !ok || len(segs) < 2 || segs[0] != "v2" {
		s.notFound(w, r)
		return
	}
	kind, ok := s.auth(r)
	if !ok {
		s.fail(w, http.StatusUnauthorized, "Could not authenticate", nil)
		return
	}
	switch segs[1] {
	case "alerts":
		if kind != IntegrationKey && r.Method != http.MethodGet {
			s.writeJSON(w, http.StatusForbidden, map[string]any{
				"code": 40301, "message": "To perform this action, use an API key from an API integration.",
			})
			return
		}
		s.routeAlerts(w, r, segs[2:])
	case "heartbeats":
		s.routeHeartbeats(w, r, segs[2:])
	default:
		s.notFound(w, r)
	}
}

// segments splits the escaped path, without the JSM prefix, into unescaped
// segments, so that an alias with "/" (sent as %2F) stays one segment.
func segments(r *http.Request) ([]string, bool) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), JSMPrefix)
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, false
	}
	raw := strings.Split(p, "/")
	out := make([]string, len(raw))
	for i, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		out[i] = u
	}
	return out, true
}

// auth checks the GenieKey header and returns the key's kind.
func (s *Server) auth(r *http.Request) (KeyKind, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "GenieKey") {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, ok := s.keys[strings.TrimSpace(key)]
	return kind, ok
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, http.StatusNotFound, fmt.Sprintf("No handler found for %s %s", r.Method, r.URL.EscapedPath()), nil)
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// statusWriter remembers the status of an answer; it still lets the faults
// drop the connection.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection to the fault injector.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("fake opsgenie: connection cannot be hijacked")
	}
	return hj.Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
