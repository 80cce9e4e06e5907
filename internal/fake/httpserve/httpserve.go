// Package httpserve runs a fake vendor server's handler on a local listener,
// so every fake starts, reports its URL and stops the same way.
package httpserve

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Server serves one handler. The zero value is ready to use; embed it in a fake.
type Server struct {
	mu  sync.Mutex
	srv *http.Server
	url string
}

// Listen serves h on addr until Close and returns the base URL
// ("http://host:port"). name prefixes errors, e.g. "fake slack".
func (s *Server) Listen(name, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: listen: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.srv, s.url = srv, "http://"+ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return s.url, nil
}

// Start serves h on a free loopback port until the test ends and returns the base URL.
func (s *Server) Start(t testing.TB, name string, h http.Handler) string {
	t.Helper()
	u, err := s.Listen(name, "127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return u
}

// URL returns the base URL after Start or Listen, or "".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops serving and closes open connections, hung ones included.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("closing fake server: %w", err)
	}
	return nil
}
