package opsgenie

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Alert is one alert as the fake keeps it.
type Alert struct {
	ID             string            `json:"id"`
	TinyID         string            `json:"tinyId"`
	Alias          string            `json:"alias"`
	Message        string            `json:"message"`
	Description    string            `json:"description,omitempty"`
	Status         string            `json:"status"` // open or closed
	Acknowledged   bool              `json:"acknowledged"`
	Priority       string            `json:"priority"`
	Count          int               `json:"count"`
	Source         string            `json:"source,omitempty"`
	User           string            `json:"user,omitempty"`
	Entity         string            `json:"entity,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	Details        map[string]string `json:"details,omitempty"`
	Responders     []Responder       `json:"responders,omitempty"`
	Actions        []string          `json:"actions,omitempty"`
	Notes          []Note            `json:"notes,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	LastOccurredAt time.Time         `json:"lastOccurredAt"`
	ClosedAt       time.Time         `json:"closedAt,omitzero"`
	ClosedBy       string            `json:"closedBy,omitempty"`
	// Integration is the JSM or OpsGenie API the alert came in through:
	// "opsgenie" or "jsm".
	Integration string `json:"integration"`
}

// Responder is a responder of an alert.
type Responder struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

// Note is a note on an alert, including the notes of create and close.
type Note struct {
	Note      string    `json:"note"`
	User      string    `json:"user,omitempty"`
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Open reports whether the alert is open.
func (a *Alert) Open() bool { return a.Status == "open" }

func (a *Alert) clone() Alert {
	c := *a
	c.Tags = slices.Clone(a.Tags)
	c.Details = maps.Clone(a.Details)
	c.Responders = slices.Clone(a.Responders)
	c.Actions = slices.Clone(a.Actions)
	c.Notes = slices.Clone(a.Notes)
	return c
}

// apiAlert renders an alert as the API's Alert (BaseAlert with entity,
// description, details and actions when full).
func (a *Alert) apiAlert(full bool) map[string]any {
	v := map[string]any{
		"id": a.ID, "tinyId": a.TinyID, "alias": a.Alias, "message": a.Message,
		"status": a.Status, "acknowledged": a.Acknowledged, "isSeen": false,
		"tags": nonNil(a.Tags), "snoozed": false, "count": a.Count,
		"lastOccurredAt": a.LastOccurredAt, "createdAt": a.CreatedAt, "updatedAt": a.UpdatedAt,
		"source": a.Source, "owner": "", "priority": a.Priority, "responders": nonNil(a.Responders),
		"integration": map[string]string{"id": integrationID, "name": "queuewatch", "type": "API"},
		"report":      map[string]any{"closedBy": a.ClosedBy},
	}
	if full {
		v["entity"] = a.Entity
		v["description"] = a.Description
		v["details"] = a.Details
		v["actions"] = nonNil(a.Actions)
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// integrationID is the id of the fake's one API integration.
const integrationID = "c9cec2cb-e782-4ebb-bc1d-1b2fa703cf03"

// find returns the alert an identifier names: by id, tiny id or alias. An
// alias names its open alert, else its newest closed one. Callers hold mu.
func (s *Server) find(identifier, idType string) *Alert {
	if idType == "alias" {
		as := s.byAlias[identifier]
		for _, a := range as {
			if a.Open() {
				return a
			}
		}
		if len(as) > 0 {
			return as[len(as)-1]
		}
		return nil
	}
	for _, a := range s.alerts {
		if (idType == "id" && a.ID == identifier) || (idType == "tiny" && a.TinyID == identifier) {
			return a
		}
	}
	return nil
}

// openAlert applies a create: a new alert, or count+1 on the open alert
// with the same alias. Callers hold mu.
func (s *Server) openAlert(p createBody, integration string) result {
	now := s.now()
	if p.Alias != "" {
		if a := s.find(p.Alias, "alias"); a != nil && a.Open() {
			a.Count++
			a.LastOccurredAt, a.UpdatedAt = now, now
			return result{ok: true, status: "Alert deduplicated", alertID: a.ID, alias: a.Alias}
		}
	}
	s.seq++
	a := &Alert{
		ID: newID(), TinyID: strconv.Itoa(s.seq), Alias: p.Alias, Message: p.Message,
		Description: p.Description, Status: "open", Priority: p.Priority, Count: 1,
		Source: p.Source, User: p.User, Entity: p.Entity, Tags: p.Tags, Details: p.Details,
		Actions:   p.Actions,
		CreatedAt: now, UpdatedAt: now, LastOccurredAt: now, Integration: integration,
	}
	for _, r := range p.Responders {
		a.Responders = append(a.Responders, Responder(r))
	}
	if a.Alias == "" {
		a.Alias = a.ID
	}
	if a.Priority == "" {
		a.Priority = "P3"
	}
	if p.Note != "" {
		a.Notes = append(a.Notes, Note{Note: p.Note, User: p.User, Source: p.Source, CreatedAt: now})
	}
	s.alerts = append(s.alerts, a)
	s.byAlias[a.Alias] = append(s.byAlias[a.Alias], a)
	return result{ok: true, status: "Created alert", alertID: a.ID, alias: a.Alias}
}

// alertAction is an action on an existing alert, applied when its request
// is processed.
func (s *Server) alertAction(identifier, idType string, do func(a *Alert, now time.Time) string) func() result {
	return func() result {
		a := s.find(identifier, idType)
		if a == nil {
			return result{status: "Alert does not exist"}
		}
		now := s.now()
		st := do(a, now)
		a.UpdatedAt = now
		return result{ok: true, status: st, alertID: a.ID, alias: a.Alias}
	}
}

// serveGet answers GET /v2/alerts/{identifier}.
func (s *Server) serveGet(w http.ResponseWriter, identifier, idType string) {
	s.mu.Lock()
	s.flushLocked()
	a := s.find(identifier, idType)
	var v map[string]any
	if a != nil {
		c := a.clone()
		v = c.apiAlert(true)
	}
	s.mu.Unlock()
	if a == nil {
		s.fail(w, http.StatusNotFound, "Alert does not exist", nil)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"data": v})
}
