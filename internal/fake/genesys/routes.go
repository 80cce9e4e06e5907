package genesys

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Endpoint names of Call.Endpoint; the same as the client's.
const (
	EndpointToken         = "token"
	EndpointQueues        = "queues"
	EndpointQueue         = "queue"
	EndpointObservations  = "observations"
	EndpointAggregates    = "aggregates"
	EndpointChannels      = "channels"
	EndpointSubscriptions = "subscriptions"
	EndpointSocket        = "socket"
	EndpointOther         = "other"
)

// maxCalls bounds the request log.
const maxCalls = 100000

// Call is one request the fake received.
type Call struct {
	At       time.Time // the fake's clock
	Method   string
	Path     string
	Query    string
	Endpoint string
	Status   int
	Body     []byte // request body of POST/PUT, up to 64 KiB
}

// routes builds the handler: request log, faults, then the routes.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("/oauth/token", s.method(s.serveToken, "POST"))
	api.HandleFunc("/api/v2/routing/queues", s.api(s.method(s.serveQueues, "GET")))
	api.HandleFunc("/api/v2/routing/queues/{id}", s.api(s.method(s.serveQueue, "GET")))
	api.HandleFunc("/api/v2/analytics/queues/observations/query", s.api(s.method(s.serveObservations, "POST")))
	api.HandleFunc("/api/v2/analytics/conversations/aggregates/query", s.api(s.method(s.serveAggregates, "POST")))
	api.HandleFunc("/api/v2/notifications/channels", s.api(s.method(s.serveChannels, "GET", "POST")))
	api.HandleFunc("/api/v2/notifications/channels/{id}", s.api(s.method(s.serveChannel, "HEAD")))
	api.HandleFunc("/api/v2/notifications/channels/{id}/subscriptions", s.api(s.method(s.serveSubscriptions, "GET", "PUT", "POST", "DELETE")))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "not.found", "The requested resource was not found.")
	})
	rest := s.Faults.Wrap(api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/channels/") {
			s.serveSocket(w, r)
			return
		}
		cid := newUUID()
		w.Header().Set("ININ-Correlation-Id", cid)
		r.Header.Set("X-Fake-Correlation-Id", cid)
		var body []byte
		if r.Body != nil && (r.Method == "POST" || r.Method == "PUT") {
			r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
			var err error
			body, err = readAll(r)
			if err != nil {
				c := s.record(r, nil)
				s.callsMu.Lock()
				c.Status = http.StatusRequestEntityTooLarge
				s.callsMu.Unlock()
				writeError(w, r, http.StatusRequestEntityTooLarge, "request.entity.too.large", "The request is over the 512000 byte limit.")
				return
			}
		}
		// The call is logged when it arrives and its status set before the
		// answer leaves, so that a client never sees an answer the log
		// does not show.
		c := s.record(r, body)
		sw := &statusWriter{ResponseWriter: w, onHeader: func(code int) {
			s.callsMu.Lock()
			c.Status = code
			s.callsMu.Unlock()
		}}
		rest.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.WriteHeader(http.StatusOK)
		}
	})
}

// record appends a call to the log and returns it; its Status is set
// under s.callsMu.
func (s *Server) record(r *http.Request, body []byte) *Call {
	c := &Call{At: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Endpoint: endpointOf(r.Method, r.URL.Path)}
	if len(body) > 0 {
		c.Body = body[:min(len(body), 64<<10)]
	}
	s.callsMu.Lock()
	if len(s.calls) >= maxCalls {
		s.calls = append(s.calls[:0], s.calls[maxCalls/2:]...)
	}
	s.calls = append(s.calls, c)
	s.callsMu.Unlock()
	return c
}

// endpointOf names the endpoint of a request path.
func endpointOf(method, path string) string {
	switch {
	case path == "/oauth/token":
		return EndpointToken
	case path == "/api/v2/routing/queues":
		return EndpointQueues
	case strings.HasPrefix(path, "/api/v2/routing/queues/"):
		return EndpointQueue
	case path == "/api/v2/analytics/queues/observations/query":
		return EndpointObservations
	case path == "/api/v2/analytics/conversations/aggregates/query":
		return EndpointAggregates
	case strings.HasPrefix(path, "/api/v2/notifications/channels") && strings.HasSuffix(path, "/subscriptions"):
		return EndpointSubscriptions
	case strings.HasPrefix(path, "/api/v2/notifications/channels"):
		return EndpointChannels
	}
	return EndpointOther
}

// method allows only the given methods; others get 405 with the standard
// body.
func (s *Server) method(h http.HandlerFunc, methods ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m {
				h(w, r)
				return
			}
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, r, http.StatusMethodNotAllowed, "method.not.allowed", fmt.Sprintf("HTTP method %s is not supported by this resource.", r.Method))
	}
}

// errorBody is the standard Genesys error body.
type errorBody struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	Status    int    `json:"status"`
	ContextID string `json:"contextId,omitempty"`
	Details   []any  `json:"details"`
	Errors    []any  `json:"errors"`
}

// writeError answers with the standard error body.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeJSON(w, status, errorBody{Message: message, Code: code, Status: status,
		ContextID: r.Header.Get("X-Fake-Correlation-Id"), Details: []any{}, Errors: []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readAll(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	code     int
	onHeader func(code int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
		if w.onHeader != nil {
			w.onHeader(code)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Hijack lets faults drop the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("fake genesys: cannot hijack")
	}
	return hj.Hijack()
}

// Unwrap exposes the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newUUID returns a random version-4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// decodeJSON reads a JSON request body into v, answering 400 when it is
// not valid JSON of that shape.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		writeError(w, r, http.StatusBadRequest, "bad.request", "The request could not be understood by the server due to malformed syntax: "+err.Error())
		return false
	}
	return true
}
