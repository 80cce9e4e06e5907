package pagerduty

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"
)

// Limits of the real API (reference §4.1).
const (
	keyLen      = 32
	maxSummary  = 1024
	maxDedupKey = 255
	maxBody     = 512 << 10
)

// Messages quoted from the reference; see the package comment.
const (
	msgWrongLength = "Service key is the wrong length (should be 32 characters)"
	msgInvalidKey  = "Invalid routing key"
)

// event is what the fake reads from a request body.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload"`
	Links       []Link   `json:"links"`
	Images      []struct {
		Src string `json:"src"`
	} `json:"images"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
}

// errorBody is the 400 answer.
type errorBody struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
}

func invalid(w http.ResponseWriter, errs ...string) {
	writeJSON(w, http.StatusBadRequest, errorBody{Status: "invalid event", Message: "Event object is invalid", Errors: errs})
}

// enqueue handles POST /v2/enqueue.
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxBody {
		invalid(w, "Event object is larger than 512 KB")
		return
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil {
		// The OpenAPI file's example of an unparseable body.
		writeJSON(w, http.StatusBadRequest, errorBody{Status: "Unrecognized object", Message: "Event object format is unrecognized", Errors: []string{"JSON parse error"}})
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allow(ev.RoutingKey, now) {
		if s.limit.retryAfter != "" {
			w.Header().Set("Retry-After", s.limit.retryAfter)
		}
		// The reference confirms the status, not the body's shape.
		writeJSON(w, http.StatusTooManyRequests, errorBody{Status: "throttle event", Message: "Request Limit Exceeded"})
		return
	}
	if errs := s.validate(&ev); len(errs) > 0 {
		invalid(w, errs...)
		return
	}
	if ev.EventAction == "trigger" && ev.DedupKey == "" {
		ev.DedupKey = newKey()
	}
	s.apply(ev, now)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// validate lists what is wrong with an event. It must be called with s.mu held.
func (s *Server) validate(ev *event) []string {
	switch {
	case utf8.RuneCountInString(ev.RoutingKey) != keyLen:
		return []string{msgWrongLength}
	case len(s.keys) > 0 && !s.keys[ev.RoutingKey]:
		return []string{msgInvalidKey}
	}
	var errs []string
	switch ev.EventAction {
	case "trigger":
		errs = validatePayload(ev.Payload)
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing or blank")
		}
	default:
		errs = append(errs, fmt.Sprintf("'event_action' is invalid (must be one of trigger, acknowledge, resolve): %q", ev.EventAction))
	}
	if utf8.RuneCountInString(ev.DedupKey) > maxDedupKey {
		errs = append(errs, fmt.Sprintf("'dedup_key' is longer than %d characters", maxDedupKey))
	}
	for i, l := range ev.Links {
		if l.Href == "" {
			errs = append(errs, fmt.Sprintf("'links[%d].href' is missing or blank", i))
		}
	}
	for i, im := range ev.Images {
		if im.Src == "" {
			errs = append(errs, fmt.Sprintf("'images[%d].src' is missing or blank", i))
		}
	}
	return errs
}

func validatePayload(p *Payload) []string {
	if p == nil {
		return []string{"'payload' is missing or blank"}
	}
	var errs []string
	switch {
	case p.Summary == "":
		errs = append(errs, "'payload.summary' is missing or blank")
	case utf8.RuneCountInString(p.Summary) > maxSummary:
		errs = append(errs, fmt.Sprintf("'payload.summary' is longer than %d characters", maxSummary))
	}
	if p.Source == "" {
		errs = append(errs, "'payload.source' is missing or blank")
	}
	switch p.Severity {
	case "critical", "error", "warning", "info":
	default:
		errs = append(errs, fmt.Sprintf("'payload.severity' is invalid (must be one of critical, error, warning, info): %q", p.Severity))
	}
	if p.Timestamp != "" && !validTimestamp(p.Timestamp) {
		errs = append(errs, fmt.Sprintf("'payload.timestamp' is not an ISO 8601 time: %q", p.Timestamp))
	}
	return errs
}

// validTimestamp accepts RFC 3339 and the "+0000" offset of PagerDuty's examples.
func validTimestamp(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// newKey generates the dedup_key of a trigger that has none.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
