// Package faults injects failures into the fake vendor servers: error
// statuses with Retry-After, hangs and dropped connections, so tests can
// drive every failure path of a client over a real socket.
package faults

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is one kind of failure, applied to the next Times matching requests.
type Fault struct {
	// Status, when not 0, answers with this HTTP status and Body.
	Status int
	// Body is the answer's body (JSON); default {"message":"injected fault"}.
	Body string
	// RetryAfter, when set, is sent as the Retry-After header verbatim
	// (seconds like "2" or an HTTP date).
	RetryAfter string
	// Header holds extra answer headers.
	Header http.Header
	// Hang holds the request this long (or until the client gives up)
	// before doing whatever else the fault says; with no Status and no Drop,
	// the request is then served normally.
	Hang time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Times is how many matching requests get this fault; 0 means 1, -1 forever.
	Times int
	// Path, when set, limits the fault to requests whose path contains it.
	Path string
	// Method, when set, limits the fault to requests with this method.
	Method string
}

// Injector holds pending faults and applies them in front of a handler.
type Injector struct {
	mu     sync.Mutex
	faults []*Fault
	hits   int
}

// Add queues a fault. Faults are tried in the order added.
func (in *Injector) Add(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	in.mu.Lock()
	in.faults = append(in.faults, &f)
	in.mu.Unlock()
}

// Clear removes every pending fault.
func (in *Injector) Clear() {
	in.mu.Lock()
	in.faults = nil
	in.mu.Unlock()
}

// Hits returns how many requests a fault was applied to.
func (in *Injector) Hits() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hits
}

// take returns the first fault matching r and uses up one of its times.
func (in *Injector) take(r *http.Request) *Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, f := range in.faults {
		if (f.Path != "" && !strings.Contains(r.URL.Path, f.Path)) || (f.Method != "" && f.Method != r.Method) {
			continue
		}
		in.hits++
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				in.faults = append(in.faults[:i], in.faults[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

// Wrap returns a handler that applies pending faults before next.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := in.take(r)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.Hang > 0 {
			select {
			case <-time.After(f.Hang):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f.Drop:
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("faults: connection cannot be hijacked to drop it")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		case f.Status != 0:
			for k, vs := range f.Header {
				w.Header()[k] = vs
			}
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			body := f.Body
			if body == "" {
				body = fmt.Sprintf(`{"message":"injected fault: HTTP %d"}`, f.Status)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(body))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
