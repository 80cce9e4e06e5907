package genesys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
)

// Permissions of the OAuth client's role that the fake can withhold (see
// shared/reference/genesys.md §1.4).
const (
	// PermQueueView is needed by GET /api/v2/routing/queues[/{id}].
	PermQueueView = "routing:queue:view"
	// PermQueueObservation is needed by the queue observation query and,
	// as the fake assumes, by the v2.analytics.queues.{id}.* topics.
	PermQueueObservation = "analytics:queueObservation:view"
	// PermConversationAggregate is needed by the conversation aggregate
	// query.
	PermConversationAggregate = "analytics:conversationAggregate:view"
)

// missingPermissionsMessage is the 403 message Genesys gives for a
// missing permission (§6.3); %s lists the permissions.
const missingPermissionsMessage = "Unable to perform the requested action. You are missing the following permission(s): %s"

// DenyPermissions makes the fake answer as Genesys does for an OAuth client
// whose role lacks the given permissions (PermQueueView,
// PermQueueObservation, PermConversationAggregate): requests that need one
// answer 403 with code missing.permissions and the standard error body,
// after the bearer token is checked (requests without a valid token still
// get 401). A subscription request naming a v2.analytics.queues.{id}.*
// topic while PermQueueObservation is denied answers the same 403 when
// ignoreErrors is false (the default) and, with ignoreErrors=true, lists
// the topic as Rejected with its missingPermissions. Which permission the
// analytics queue topics need is not confirmed; the fake assumes
// PermQueueObservation.
//
// Refused requests are logged in Calls but not counted against the rate
// limit, and faults are not applied to them. Call DenyPermissions before
// the server serves any request; calling it again adds to the denied set.
func (s *Server) DenyPermissions(perms ...string) {
	denied := map[string]bool{}
	for _, p := range perms {
		denied[p] = true
	}
	s.handler = s.permissionGate(denied, s.handler)
}

// permissionGate answers the requests that need a denied permission and
// passes the others to next.
func (s *Server) permissionGate(denied map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSubscriptionWrite(r) && denied[PermQueueObservation] {
			s.gateSubscriptions(w, r, next)
			return
		}
		perm := permissionOf(r)
		if perm == "" || !denied[perm] || !s.validBearer(r) {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			body, _ = io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
		}
		s.refuse(w, r, body, []string{perm})
	})
}

// permissionOf returns the permission a request needs, or "".
func permissionOf(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && (p == "/api/v2/routing/queues" || strings.HasPrefix(p, "/api/v2/routing/queues/")):
		return PermQueueView
	case r.Method == http.MethodPost && p == "/api/v2/analytics/queues/observations/query":
		return PermQueueObservation
	case r.Method == http.MethodPost && p == "/api/v2/analytics/conversations/aggregates/query":
		return PermConversationAggregate
	}
	return ""
}

// isSubscriptionWrite reports whether r adds or replaces a channel's topics.
func isSubscriptionWrite(r *http.Request) bool {
	return (r.Method == http.MethodPost || r.Method == http.MethodPut) &&
		strings.HasPrefix(r.URL.Path, "/api/v2/notifications/channels/") && strings.HasSuffix(r.URL.Path, "/subscriptions")
}

// topicPermission returns the permission a topic needs in the fake, or "".
func topicPermission(topic string) string {
	if strings.HasPrefix(topic, "v2.analytics.queues.") {
		return PermQueueObservation
	}
	return ""
}

// gateSubscriptions serves a subscription request while
// PermQueueObservation is denied.
func (s *Server) gateSubscriptions(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes || !s.validBearer(r) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
		return
	}
	var topics []map[string]any
	if json.Unmarshal(body, &topics) != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
		return
	}
	var kept []map[string]any
	rejected := map[string]string{}
	for _, t := range topics {
		id, _ := t["id"].(string)
		if perm := topicPermission(id); perm != "" {
			rejected[id] = perm
			continue
		}
		kept = append(kept, t)
	}
	if len(rejected) == 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
		return
	}
	if !strings.EqualFold(r.URL.Query().Get("ignoreErrors"), "true") {
		s.refuse(w, r, body, []string{PermQueueObservation})
		return
	}
	// ignoreErrors=true: subscribe the permitted topics and list the others
	// as rejected.
	if kept == nil {
		kept = []map[string]any{}
	}
	rest, _ := json.Marshal(kept)
	r.Body = io.NopCloser(bytes.NewReader(rest))
	r.ContentLength = int64(len(rest))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	res := rec.Result()
	defer res.Body.Close()
	for k, vs := range res.Header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	var answer struct {
		Entities []map[string]any `json:"entities"`
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &answer) != nil {
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(raw)
		return
	}
	ids := make([]string, 0, len(rejected))
	for id := range rejected {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		answer.Entities = append(answer.Entities, map[string]any{"id": id, "state": "Rejected",
			"rejectionReason": "Missing permissions", "missingPermissions": []string{rejected[id]}})
	}
	writeJSON(w, http.StatusOK, answer)
}

// validBearer reports whether r carries a live token of this fake.
func (s *Server) validBearer(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.tokens[strings.TrimSpace(tok)]
	return ok && s.clock.Now().Before(info.expires)
}

// refuse answers 403 missing.permissions and logs the call.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, body []byte, perms []string) {
	cid := newUUID()
	w.Header().Set("ININ-Correlation-Id", cid)
	r.Header.Set("X-Fake-Correlation-Id", cid)
	c := s.record(r, body)
	s.callsMu.Lock()
	c.Status = http.StatusForbidden
	s.callsMu.Unlock()
	writeError(w, r, http.StatusForbidden, "missing.permissions",
		fmt.Sprintf(missingPermissionsMessage, "["+strings.Join(perms, ", ")+"]"))
}
