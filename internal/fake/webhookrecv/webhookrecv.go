// Package webhookrecv is a fake receiver of queuewatch's signed webhooks, for
// tests and the demo.
//
// It accepts POSTs on any path. With a secret it answers 401 to requests
// whose X-Queuewatch-Signature does not verify (webhook.Verify). A request
// without X-Queuewatch-Delivery or with a body that is not a webhook.Message
// gets 400. A delivery id seen before is answered 200 {"status":"duplicate"}
// and counted, not recorded again; a new one 200 {"status":"ok"}. Faults come
// from the exported Faults injector; deliveries can be read with Received or
// GET /_fake/received (which faults do not touch).
package webhookrecv

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/httpserve"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Delivery is one delivery the receiver accepted.
type Delivery struct {
	// ID is the X-Queuewatch-Delivery header.
	ID string `json:"id"`
	// Path is the request path it was posted to.
	Path      string          `json:"path"`
	Timestamp string          `json:"timestamp"`
	Signature string          `json:"signature,omitempty"`
	UserAgent string          `json:"user_agent"`
	Message   webhook.Message `json:"message"`
	Body      []byte          `json:"-"`
	// Count is how many times the delivery arrived, duplicates included.
	Count      int       `json:"count"`
	ReceivedAt time.Time `json:"received_at"`
}

// Server is a fake webhook receiver. The zero value is not usable; call New.
type Server struct {
	// Faults applies injected failures in front of every route.
	Faults faults.Injector

	secret []byte

	mu         sync.Mutex
	deliveries []*Delivery
	byID       map[string]*Delivery
	refused    int
	hs         httpserve.Server
}

// New returns a receiver that verifies signatures with secret; an empty
// secret accepts unsigned requests.
func New(secret string) *Server {
	return &Server{secret: []byte(secret), byID: map[string]*Delivery{}}
}

// Handler returns the receiver's routes: POSTs with fault injection in
// front, and GET /_fake/received without.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fake/received", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Received())
	})
	mux.Handle("POST /", s.Faults.Wrap(http.HandlerFunc(s.receive)))
	return mux
}

// Start serves on a free local port until the test ends and returns the
// base URL.
func (s *Server) Start(t testing.TB) string {
	return s.hs.Start(t, "fake webhook receiver", s.Handler())
}

// Listen serves on addr until Close and returns the base URL.
func (s *Server) Listen(addr string) (string, error) {
	return s.hs.Listen("fake webhook receiver", addr, s.Handler())
}

// URL returns the base URL after Start or Listen.
func (s *Server) URL() string { return s.hs.URL() }

// Close stops serving and closes open connections, hung ones included.
func (s *Server) Close() error { return s.hs.Close() }

func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxBody {
		s.refuse(w, http.StatusRequestEntityTooLarge, "body over 1 MiB")
		return
	}
	sig := r.Header.Get(webhook.SignatureHeader)
	if len(s.secret) > 0 && !webhook.Verify(s.secret, body, sig) {
		s.refuse(w, http.StatusUnauthorized, "bad or missing "+webhook.SignatureHeader)
		return
	}
	id := r.Header.Get(webhook.DeliveryHeader)
	if id == "" {
		s.refuse(w, http.StatusBadRequest, "missing "+webhook.DeliveryHeader)
		return
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil || m.Version == "" || m.Key == "" {
		s.refuse(w, http.StatusBadRequest, "body is not a queuewatch webhook message")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.byID[id]; d != nil {
		d.Count++
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	}
	d := &Delivery{
		ID: id, Path: r.URL.Path, Timestamp: r.Header.Get(webhook.TimestampHeader),
		Signature: sig, UserAgent: r.UserAgent(), Message: m, Body: body,
		Count: 1, ReceivedAt: time.Now(),
	}
	s.deliveries = append(s.deliveries, d)
	s.byID[id] = d
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) refuse(w http.ResponseWriter, code int, msg string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	writeJSON(w, code, map[string]string{"error": msg})
}

// Received returns a copy of every accepted delivery, once per delivery id,
// in the order they first arrived.
func (s *Server) Received() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = *d
	}
	return out
}

// Refused returns how many requests were answered 400, 401 or 413.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
