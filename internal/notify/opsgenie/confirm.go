package opsgenie

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// accepted is the 202 answer to an alert action (SuccessResponse).
type accepted struct {
	Result    string  `json:"result"`
	Took      float64 `json:"took"`
	RequestID string  `json:"requestId"`
}

// requestStatus is what became of an accepted request (AlertRequestStatus).
type requestStatus struct {
	Action    string `json:"action"`
	IsSuccess *bool  `json:"isSuccess"`
	Success   *bool  `json:"success"`
	Status    string `json:"status"`
	AlertID   string `json:"alertId"`
	Alias     string `json:"alias"`
}

// ok reports whether the request succeeded. The spec names the flag
// isSuccess; the docs' samples also show success.
func (s requestStatus) ok() bool {
	if s.IsSuccess != nil {
		return *s.IsSuccess
	}
	return s.Success != nil && *s.Success
}

// accept makes step s's request and records the request id OpsGenie
// accepted it as. An answer without a request id leaves nothing to confirm:
// the step counts as done, unconfirmed.
func (n *Notifier) accept(ctx context.Context, s *step) error {
	r, err := n.do(ctx, s.method, s.path, s.body)
	if err != nil {
		return err
	}
	if r.code != http.StatusAccepted && r.code != http.StatusOK && r.code != http.StatusCreated {
		return n.httpError(s.what, r)
	}
	s.code = r.code
	var a accepted
	if err := json.Unmarshal(r.body, &a); err != nil || a.RequestID == "" {
		s.done, s.unconfirmed = true, "the answer named no request to confirm"
		return nil
	}
	s.requestID = a.RequestID
	s.status = requestStatus{Status: "not processed yet"}
	return nil
}

// statusChecks bounds the request-status calls one Notifier has in flight.
const statusChecks = 32

// check asks once for the status of s's accepted request and records it:
// done, still open (with the least wait before asking again, from a
// Retry-After), or an error. A request that failed is forgotten, so that
// the next attempt makes it again; "Alert does not exist" on a close leaves
// nothing to do and counts as done.
func (n *Notifier) check(ctx context.Context, s *step) (time.Duration, error) {
	select {
	case n.checks <- struct{}{}:
		defer func() { <-n.checks }()
	case <-ctx.Done():
		return 0, nil // the caller reports the deadline
	}
	r, err := n.do(ctx, http.MethodGet, "/v2/alerts/requests/"+url.PathEscape(s.requestID), nil)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.status.Status = err.Error()
		}
		return 0, nil
	case r.code == http.StatusOK:
		st, err := parseStatus(r.body)
		if err != nil {
			return 0, &notify.Error{Reason: s.what + ": unreadable request status", Code: r.code, Retryable: true, Err: err}
		}
		s.status = st
		switch {
		case st.IsSuccess == nil && st.Success == nil:
			// A shape this client does not know; asking again would not
			// make it clearer.
			s.done, s.unconfirmed = true, "request status without isSuccess"
		case st.ok():
			s.done = true
		case s.closing && strings.Contains(strings.ToLower(st.Status), "does not exist"):
			s.done = true
			s.status.Status = "nothing to close: " + st.Status
		default:
			id := s.requestID
			s.requestID = ""
			status := st.Status
			if status == "" {
				status = "failed without a status"
			}
			return 0, &notify.Error{
				Reason:    n.redact(fmt.Sprintf("%s: request %s was accepted but failed: %s", s.what, id, status)),
				Code:      s.code,
				Retryable: true,
			}
		}
		return 0, nil
	case r.code == http.StatusNotFound && r.header.Get("X-Opsgenie-Errortype") == "RequestNotProcessed":
		s.status.Status = "not processed yet"
		return 0, nil
	case r.code == http.StatusNotFound:
		// The service keeps no status of this request (JSM may not serve
		// this endpoint); the 202 is all there is to know.
		s.done, s.unconfirmed = true, "request status not available (HTTP 404)"
		return 0, nil
	case r.code == http.StatusTooManyRequests || r.code >= 500:
		s.status.Status = fmt.Sprintf("request status answered HTTP %d", r.code)
		return retryAfter(r.header, n.cfg.Now()), nil
	default:
		return 0, n.httpError(s.what+": checking request "+s.requestID, r)
	}
}

// parseStatus reads a request status in OpsGenie's {data:{…}} form or the
// flat form of the JSM operations API.
func parseStatus(b []byte) (requestStatus, error) {
	var w struct {
		Data *requestStatus `json:"data"`
		requestStatus
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return requestStatus{}, fmt.Errorf("decoding request status: %w", err)
	}
	if w.Data != nil {
		return *w.Data, nil
	}
	return w.requestStatus, nil
}

// maxWaits is how many attempts may end with a step's request accepted but
// unconfirmed before the next attempt makes the request again: OpsGenie
// may have lost it.
const maxWaits = 3

// maxProgress is how many unfinished deliveries a Notifier remembers the
// steps of; the oldest are forgotten first.
const maxProgress = 10000

// progress remembers the steps of deliveries whose attempt ended before
// every step was confirmed, by delivery id, so that the next attempt
// resumes them instead of repeating requests OpsGenie already accepted.
type progress struct {
	mu    sync.Mutex
	steps map[int64]remembered
	order []int64 // ids oldest first, for eviction
}

type remembered struct {
	sig   string
	steps []step
}

// resume copies the remembered state of p's steps into p, when an earlier
// attempt of the same delivery left some, and reports whether it did.
func (g *progress) resume(p *pending) bool {
	if p.id == 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.steps[p.id]
	if !ok || r.sig != p.sig || len(r.steps) != len(p.steps) {
		return false
	}
	for i, s := range p.steps {
		old := r.steps[i]
		if old.what != s.what {
			return false
		}
		if old.waits >= maxWaits && !old.done {
			continue
		}
		s.requestID, s.waits, s.code, s.done, s.status, s.unconfirmed = old.requestID, old.waits, old.code, old.done, old.status, old.unconfirmed
	}
	return true
}

// keep remembers the state of p's steps when any was accepted.
func (g *progress) keep(p *pending) {
	if p.id == 0 {
		return
	}
	var steps []step
	useful := false
	for _, s := range p.steps {
		if s.requestID != "" && !s.done {
			s.waits++
		}
		st := *s
		st.body = nil // rebuilt by the next attempt; not kept for thousands of deliveries
		steps = append(steps, st)
		useful = useful || s.done || s.requestID != ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !useful {
		delete(g.steps, p.id)
		return
	}
	if g.steps == nil {
		g.steps = map[int64]remembered{}
	}
	if _, ok := g.steps[p.id]; !ok {
		g.order = append(g.order, p.id)
	}
	g.steps[p.id] = remembered{sig: p.sig, steps: steps}
	for len(g.steps) > maxProgress && len(g.order) > 0 {
		delete(g.steps, g.order[0])
		g.order = g.order[1:]
	}
	if len(g.order) > 2*maxProgress {
		// Drop ids already forgotten, so that order stays bounded.
		live := g.order[:0]
		for _, id := range g.order {
			if _, ok := g.steps[id]; ok {
				live = append(live, id)
			}
		}
		g.order = live
	}
}

// forget drops the memory of a confirmed delivery.
func (g *progress) forget(p *pending) {
	if p.id == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.steps, p.id)
}
