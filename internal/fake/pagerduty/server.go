// Package pagerduty is a fake PagerDuty Events API v2 for tests and the demo.
//
// It serves POST /v2/enqueue the way the reference (notify-apis.md §4, §7)
// describes the real service: 202 {status, message, dedup_key} for accepted
// events; 400 {status:"invalid event", message:"Event object is invalid",
// errors:[…]} for a missing or wrong-length routing key, an unknown routing
// key (when keys are registered), a bad event_action, a trigger without
// summary, source or a valid severity, a summary over 1024 characters or a
// dedup_key over 255; and 429 when a rate limit is set and exceeded. Triggers
// with the dedup_key of an open incident are appended to it; after a resolve
// a trigger opens a new incident; acknowledge and resolve events for unknown
// (or resolved) dedup keys are accepted and dropped. Dedup is per routing
// key, so follow-ups with another routing key are dropped too.
//
// Only the two messages "Service key is the wrong length (should be 32
// characters)" and "Invalid routing key" are quoted from the reference; the
// other error texts are this fake's own. Faults (error statuses, hangs,
// dropped connections) come from the exported Faults injector, and the state
// can be read with Incidents or GET /_fake/incidents.
package pagerduty

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/httpserve"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

// Server is a fake Events API v2. The zero value is not usable; call New.
type Server struct {
	// Faults applies injected failures in front of every route.
	Faults faults.Injector

	mu        sync.Mutex
	keys      map[string]bool // registered routing keys; empty accepts any of 32 characters
	incidents []*Incident
	open      map[string]*Incident // routing key + "\x00" + dedup key → open incident
	dropped   int
	limit     rateLimit
	seq       int

	hs httpserve.Server
}

// rateLimit is a sliding window per routing key.
type rateLimit struct {
	events     int
	window     time.Duration
	retryAfter string
	seen       map[string][]time.Time
}

// New returns a fake that accepts any routing key of 32 characters.
func New() *Server {
	return &Server{keys: map[string]bool{}, open: map[string]*Incident{}}
}

// AddRoutingKey registers a routing key. Once any key is registered, events
// with other keys are refused with 400 "Invalid routing key".
func (s *Server) AddRoutingKey(key string) {
	s.mu.Lock()
	s.keys[key] = true
	s.mu.Unlock()
}

// SetRateLimit answers 429 to events beyond n per window and routing key,
// with retryAfter (may be empty: the reference does not confirm that
// PagerDuty sends Retry-After) as the Retry-After header. n ≤ 0 removes the
// limit.
func (s *Server) SetRateLimit(n int, window time.Duration, retryAfter string) {
	s.mu.Lock()
	s.limit = rateLimit{events: n, window: window, retryAfter: retryAfter, seen: map[string][]time.Time{}}
	s.mu.Unlock()
}

// Handler returns the fake's routes: the API with fault injection in
// front, and the inspection routes under /_fake/ without.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST /v2/enqueue", s.enqueue)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "not found", "message": "Not Found"})
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fake/incidents", s.serveIncidents)
	mux.Handle("/", s.Faults.Wrap(api))
	return mux
}

// Start serves on a free local port until the test ends and returns the
// base URL.
func (s *Server) Start(t testing.TB) string { return s.hs.Start(t, "fake pagerduty", s.Handler()) }

// Listen serves on addr until Close and returns the base URL.
func (s *Server) Listen(addr string) (string, error) {
	return s.hs.Listen("fake pagerduty", addr, s.Handler())
}

// URL returns the base URL after Start or Listen.
func (s *Server) URL() string { return s.hs.URL() }

// Close stops serving and closes open connections, hung ones included.
func (s *Server) Close() error { return s.hs.Close() }

// allow records an event for the rate limit and reports whether it fits.
// It must be called with s.mu held.
func (s *Server) allow(key string, now time.Time) bool {
	l := &s.limit
	if l.events <= 0 {
		return true
	}
	cut := now.Add(-l.window)
	kept := l.seen[key][:0]
	for _, t := range l.seen[key] {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.events {
		l.seen[key] = kept
		return false
	}
	l.seen[key] = append(kept, now)
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// serveIncidents answers GET /_fake/incidents with Incidents as JSON.
func (s *Server) serveIncidents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Incidents())
}
