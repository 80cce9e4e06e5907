package opsgenie

import (
	"encoding/json"
	"net/http"
	"time"
)

// result is what became of a processed request (AlertRequestStatus).
type result struct {
	ok      bool
	status  string
	alertID string
	alias   string
}

// request is one accepted alert request, processed asynchronously.
type request struct {
	id          string
	action      string
	acceptedAt  time.Time
	polls       int
	apply       func() result
	done        bool
	res         result
	processedAt time.Time
}

// accept queues an alert request and answers 202 like OpsGenie. apply runs
// with mu held when the request is processed.
func (s *Server) accept(w http.ResponseWriter, action string, apply func() result) {
	s.mu.Lock()
	rq := &request{id: newID(), action: action, acceptedAt: s.now(), apply: apply}
	s.pending = append(s.pending, rq)
	s.requests[rq.id] = rq
	s.mu.Unlock()
	s.writeJSON(w, http.StatusAccepted, map[string]any{"result": "Request will be processed", "requestId": rq.id})
}

// processUpTo processes pending requests in the order they were accepted,
// up to and including until; with until nil it processes those whose
// processing delay has passed. Callers hold mu.
func (s *Server) processUpTo(until *request) {
	now := s.now()
	for len(s.pending) > 0 {
		p := s.pending[0]
		if until == nil && now.Before(p.acceptedAt.Add(s.delay)) {
			return
		}
		s.pending = s.pending[1:]
		s.run(p, now)
		if p == until {
			return
		}
	}
}

// flushLocked processes the requests that are due; reads call it so that
// they see what OpsGenie would have done by now. Callers hold mu.
func (s *Server) flushLocked() { s.processUpTo(nil) }

// Flush processes every pending request at once, ignoring status polls and
// the processing delay.
func (s *Server) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, p := range s.pending {
		s.run(p, now)
	}
	s.pending = nil
}

// Pending returns how many accepted requests are not processed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

func (s *Server) run(p *request, now time.Time) {
	if len(s.failNext) > 0 {
		p.res = result{status: s.failNext[0]}
		s.failNext = s.failNext[1:]
	} else {
		p.res = p.apply()
	}
	p.done, p.processedAt = true, now
}

// serveStatus answers GET /v2/alerts/requests/{id}: 404 with
// X-Opsgenie-Errortype: RequestNotProcessed until the request is processed
// (also for ids it never issued, which OpsGenie cannot tell apart), then
// the request's status.
func (s *Server) serveStatus(w http.ResponseWriter, id string) {
	s.mu.Lock()
	rq := s.requests[id]
	if rq != nil && !rq.done {
		rq.polls++
		if rq.polls > s.polls && !s.now().Before(rq.acceptedAt.Add(s.delay)) {
			s.processUpTo(rq)
		}
	}
	var data map[string]any
	if rq != nil && rq.done {
		data = map[string]any{
			"success": rq.res.ok, "isSuccess": rq.res.ok, "action": rq.action,
			"processedAt": rq.processedAt.UTC().Format(time.RFC3339Nano), "integrationId": integrationID,
			"status": rq.res.status, "alertId": rq.res.alertID, "alias": rq.res.alias,
		}
	}
	flat := s.flat
	s.mu.Unlock()
	switch {
	case data == nil:
		w.Header().Set("X-Opsgenie-Errortype", "RequestNotProcessed")
		s.fail(w, http.StatusNotFound, "Request not processed yet", nil)
	case flat:
		// The JSM operations API's form: no wrapper, no took or requestId.
		delete(data, "success")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(data)
	default:
		s.writeJSON(w, http.StatusOK, map[string]any{"data": data})
	}
}
