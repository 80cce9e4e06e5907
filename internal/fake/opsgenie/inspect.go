package opsgenie

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// RecordedRequest is one API request the fake received, faulted or not.
type RecordedRequest struct {
	At     time.Time `json:"at"`
	Method string    `json:"method"`
	// Path is the escaped path, as sent.
	Path  string `json:"path"`
	Query string `json:"query,omitempty"`
	// Auth is the Authorization header with all but the last 4 characters
	// of the key masked, e.g. "GenieKey ****5555".
	Auth string `json:"auth,omitempty"`
	Body string `json:"body,omitempty"`
	// Status is the answer's HTTP status, 0 when the connection was
	// dropped or the client gave up.
	Status int `json:"status"`
	// RequestID is the requestId of the answer, empty when there was none.
	RequestID string `json:"request_id,omitempty"`
}

// maxRecorded is how much of a request body is recorded.
const maxRecorded = 64 << 10

// record notes a request and restores its body for the handler.
func (s *Server) record(r *http.Request) *RecordedRequest {
	var body []byte
	if r.Body != nil {
		// Keep the first part for the record and hand the handler the
		// whole body, so that its own size check still works.
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxRecorded))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	}
	rec := &RecordedRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Auth: maskAuth(r.Header.Get("Authorization")), Body: string(body),
	}
	s.mu.Lock()
	rec.At = s.now()
	s.recorded = append(s.recorded, rec)
	s.mu.Unlock()
	return rec
}

func maskAuth(h string) string {
	scheme, key, ok := strings.Cut(h, " ")
	if !ok {
		if len(h) > 4 {
			return "****" + h[len(h)-4:]
		}
		return h
	}
	if len(key) > 4 {
		key = "****" + key[len(key)-4:]
	}
	return scheme + " " + key
}

// Alerts returns copies of all alerts, oldest first, after processing the
// requests that are due.
func (s *Server) Alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	out := make([]Alert, len(s.alerts))
	for i, a := range s.alerts {
		out[i] = a.clone()
	}
	return out
}

// Requests returns the API requests received so far, oldest first.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.recorded))
	for i, r := range s.recorded {
		out[i] = *r
	}
	return out
}

// serveInspect serves the JSON views for tests and the demo dashboard:
// /_fake/alerts, /_fake/requests and /_fake/heartbeats. They need no key
// and see no faults.
func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var v any
	switch r.URL.Path {
	case "/_fake/alerts":
		v = s.Alerts()
	case "/_fake/requests":
		v = s.Requests()
	case "/_fake/heartbeats":
		v = s.Heartbeats()
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
