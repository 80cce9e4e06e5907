package opsgenie

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routeAlerts serves /v2/alerts/…; rest is the path after "alerts".
func (s *Server) routeAlerts(w http.ResponseWriter, r *http.Request, rest []string) {
	m := r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		s.serveList(w, r)
	case len(rest) == 0 && m == http.MethodPost:
		s.serveCreate(w, r)
	case len(rest) == 1 && rest[0] == "count" && m == http.MethodGet:
		s.serveCount(w, r)
	case len(rest) == 2 && rest[0] == "requests" && m == http.MethodGet:
		s.serveStatus(w, rest[1])
	case len(rest) == 1 && m == http.MethodGet:
		if idType, ok := s.identifierType(w, r); ok {
			s.serveGet(w, rest[0], idType)
		}
	case len(rest) == 2 && m == http.MethodPost && slices.Contains([]string{"close", "acknowledge", "unacknowledge", "notes"}, rest[1]):
		s.serveAction(w, r, rest[0], rest[1])
	case len(rest) == 2 && m == http.MethodPut && rest[1] == "priority":
		s.servePriority(w, r, rest[0])
	default:
		// Includes POST /v2/alerts/close, the retired v1-style close.
		s.notFound(w, r)
	}
}

// identifierType reads ?identifierType=id|alias|tiny (default id).
func (s *Server) identifierType(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.URL.Query().Get("identifierType")
	switch t {
	case "":
		return "id", true
	case "id", "alias", "tiny":
		return t, true
	}
	s.unprocessable(w, map[string]string{"identifierType": "Invalid identifierType [" + t + "]. Valid values are id, alias, tiny"})
	return "", false
}

func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request) {
	var p createBody
	if !s.decode(w, r, &p, false) {
		return
	}
	if f := validateCreate(p); len(f) > 0 {
		s.unprocessable(w, f)
		return
	}
	integration := "opsgenie"
	if strings.HasPrefix(r.URL.Path, JSMPrefix+"/") {
		integration = "jsm"
	}
	s.accept(w, "Create", func() result { return s.openAlert(p, integration) })
}

// serveAction serves close, acknowledge, unacknowledge and notes.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request, identifier, action string) {
	idType, ok := s.identifierType(w, r)
	if !ok {
		return
	}
	var p actionBody
	if !s.decode(w, r, &p, action != "notes") {
		return
	}
	if f := validateAction(p, action == "notes"); len(f) > 0 {
		s.unprocessable(w, f)
		return
	}
	addNote := func(a *Alert, now time.Time) {
		if p.Note != "" {
			a.Notes = append(a.Notes, Note{Note: p.Note, User: p.User, Source: p.Source, CreatedAt: now})
		}
	}
	var name string
	var do func(a *Alert, now time.Time) string
	switch action {
	case "close":
		name = "Close"
		do = func(a *Alert, now time.Time) string {
			addNote(a, now)
			if !a.Open() {
				return "Alert is already closed" // an assumption: the real text is undocumented
			}
			a.Status, a.ClosedAt, a.ClosedBy = "closed", now, p.User
			return "Closed alert"
		}
	case "acknowledge":
		name = "Acknowledge"
		do = func(a *Alert, now time.Time) string {
			addNote(a, now)
			a.Acknowledged = true
			return "Acknowledged alert"
		}
	case "unacknowledge":
		name = "UnAcknowledge"
		do = func(a *Alert, now time.Time) string {
			addNote(a, now)
			a.Acknowledged = false
			return "Unacknowledged alert"
		}
	default:
		name = "AddNote"
		do = func(a *Alert, now time.Time) string { addNote(a, now); return "Added note" }
	}
	s.accept(w, name, s.alertAction(identifier, idType, do))
}

func (s *Server) servePriority(w http.ResponseWriter, r *http.Request, identifier string) {
	idType, ok := s.identifierType(w, r)
	if !ok {
		return
	}
	var p struct {
		Priority string `json:"priority"`
	}
	if !s.decode(w, r, &p, false) {
		return
	}
	f := fieldErrors{}
	f.priority("priority", p.Priority, true)
	if len(f) > 0 {
		s.unprocessable(w, f)
		return
	}
	s.accept(w, "UpdatePriority", s.alertAction(identifier, idType, func(a *Alert, _ time.Time) string {
		a.Priority = p.Priority
		return "Updated priority"
	}))
}

// match returns the alerts a list query selects, newest first unless
// order=asc. The query language is a small subset of OpsGenie's:
// field:value terms joined by AND over status, alias, priority, id,
// tinyId and tag; other terms are ignored.
func (s *Server) match(r *http.Request) []Alert {
	q := r.URL.Query()
	var terms [][2]string
	for _, t := range splitAnd(q.Get("query")) {
		k, v, ok := strings.Cut(t, ":")
		if ok {
			terms = append(terms, [2]string{strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)})
		}
	}
	s.mu.Lock()
	s.flushLocked()
	var out []Alert
	for _, a := range s.alerts {
		if matches(a, terms) {
			out = append(out, a.clone())
		}
	}
	s.mu.Unlock()
	if q.Get("order") != "asc" {
		slices.Reverse(out)
	}
	return out
}

func splitAnd(q string) []string {
	var out []string
	for {
		i := strings.Index(strings.ToUpper(q), " AND ")
		if i < 0 {
			return append(out, q)
		}
		out = append(out, q[:i])
		q = q[i+5:]
	}
}

func matches(a *Alert, terms [][2]string) bool {
	for _, t := range terms {
		v := t[1]
		ok := true
		switch t[0] {
		case "status":
			ok = a.Status == v
		case "alias":
			ok = a.Alias == v
		case "priority":
			ok = a.Priority == v
		case "id":
			ok = a.ID == v
		case "tinyId":
			ok = a.TinyID == v
		case "tag", "tags":
			ok = slices.Contains(a.Tags, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	all := s.match(r)
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	offset = min(max(offset, 0), len(all))
	page := all[offset:min(offset+limit, len(all))]
	data := make([]map[string]any, len(page))
	for i := range page {
		data[i] = page[i].apiAlert(false)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (s *Server) serveCount(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{"data": map[string]int{"count": len(s.match(r))}})
}
