package opsgenie

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Heartbeat is one heartbeat as the fake keeps it.
type Heartbeat struct {
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Interval      int       `json:"interval"`
	IntervalUnit  string    `json:"intervalUnit"`
	Enabled       bool      `json:"enabled"`
	OwnerTeam     *Team     `json:"ownerTeam,omitempty"`
	AlertMessage  string    `json:"alertMessage,omitempty"`
	AlertTags     []string  `json:"alertTags,omitempty"`
	AlertPriority string    `json:"alertPriority,omitempty"`
	Pings         int       `json:"pings"`
	LastPingTime  time.Time `json:"lastPingTime,omitzero"`
}

// Team names a heartbeat's owner team.
type Team struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// heartbeatBody is the body of POST /v2/heartbeats.
type heartbeatBody struct {
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	Interval      int      `json:"interval"`
	IntervalUnit  string   `json:"intervalUnit"`
	Enabled       *bool    `json:"enabled"`
	OwnerTeam     *Team    `json:"ownerTeam"`
	AlertMessage  string   `json:"alertMessage"`
	AlertTags     []string `json:"alertTags"`
	AlertPriority string   `json:"alertPriority"`
}

// routeHeartbeats serves /v2/heartbeats/…; rest is the path after "heartbeats".
func (s *Server) routeHeartbeats(w http.ResponseWriter, r *http.Request, rest []string) {
	m := r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		s.mu.Lock()
		list := make([]map[string]any, 0, len(s.hbOrder))
		for _, n := range s.hbOrder {
			list = append(list, s.heartbeats[n].api())
		}
		s.mu.Unlock()
		s.writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"heartbeats": list}})
	case len(rest) == 0 && m == http.MethodPost:
		s.serveCreateHeartbeat(w, r)
	case len(rest) == 1 && m == http.MethodGet:
		s.mu.Lock()
		hb := s.heartbeats[rest[0]]
		var v map[string]any
		if hb != nil {
			v = hb.api()
		}
		s.mu.Unlock()
		if v == nil {
			s.fail(w, http.StatusNotFound, fmt.Sprintf("Heartbeat with name [%s] does not exist", rest[0]), nil)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"data": v})
	case len(rest) == 2 && rest[1] == "ping" && slices.Contains([]string{"GET", "POST", "PUT", "PATCH"}, m):
		// Like OpsGenie, a ping is answered PONG without checking that the
		// heartbeat exists.
		s.mu.Lock()
		s.pings[rest[0]]++
		if hb := s.heartbeats[rest[0]]; hb != nil {
			hb.Pings++
			hb.LastPingTime = s.now()
		}
		s.mu.Unlock()
		s.writeJSON(w, http.StatusAccepted, map[string]any{"result": "PONG - Heartbeat received"})
	default:
		s.notFound(w, r)
	}
}

func (hb *Heartbeat) api() map[string]any {
	v := map[string]any{
		"name": hb.Name, "description": hb.Description, "interval": hb.Interval,
		"intervalUnit": hb.IntervalUnit, "enabled": hb.Enabled, "expired": false,
	}
	if !hb.LastPingTime.IsZero() {
		v["lastPingTime"] = hb.LastPingTime
	}
	return v
}

func (s *Server) serveCreateHeartbeat(w http.ResponseWriter, r *http.Request) {
	var p heartbeatBody
	if !s.decode(w, r, &p, false) {
		return
	}
	f := fieldErrors{}
	if strings.TrimSpace(p.Name) == "" {
		f["name"] = "name can not be empty"
	}
	f.maxLen("name", p.Name, 200)
	f.maxLen("description", p.Description, 10000)
	if p.Interval < 1 {
		f["interval"] = "interval must be at least 1"
	}
	if !slices.Contains([]string{"minutes", "hours", "days"}, p.IntervalUnit) {
		f["intervalUnit"] = "intervalUnit must be one of minutes, hours, days"
	}
	if p.Enabled == nil {
		f["enabled"] = "enabled can not be empty"
	}
	f.maxLen("alertMessage", p.AlertMessage, maxMessage)
	f.list("alertTags", p.AlertTags, maxTags, maxTagLen)
	f.priority("alertPriority", p.AlertPriority, false)
	if len(f) > 0 {
		s.unprocessable(w, f)
		return
	}
	s.mu.Lock()
	_, exists := s.heartbeats[p.Name]
	if !exists {
		s.heartbeats[p.Name] = &Heartbeat{
			Name: p.Name, Description: p.Description, Interval: p.Interval, IntervalUnit: p.IntervalUnit,
			Enabled: *p.Enabled, OwnerTeam: p.OwnerTeam, AlertMessage: p.AlertMessage,
			AlertTags: p.AlertTags, AlertPriority: p.AlertPriority,
		}
		s.hbOrder = append(s.hbOrder, p.Name)
	}
	s.mu.Unlock()
	if exists {
		s.fail(w, http.StatusConflict, fmt.Sprintf("Heartbeat with name [%s] already exists", p.Name), nil)
		return
	}
	s.writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"name": p.Name, "enabled": *p.Enabled, "expired": false}})
}

// Heartbeats returns copies of the heartbeats in the order they were made.
func (s *Server) Heartbeats() []Heartbeat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Heartbeat, 0, len(s.hbOrder))
	for _, n := range s.hbOrder {
		hb := *s.heartbeats[n]
		hb.AlertTags = slices.Clone(hb.AlertTags)
		out = append(out, hb)
	}
	return out
}

// Pings returns how many pings name received, whether or not it exists.
func (s *Server) Pings(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pings[name]
}

// AddHeartbeat makes a heartbeat exist, as if created in the OpsGenie UI.
func (s *Server) AddHeartbeat(hb Heartbeat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.heartbeats[hb.Name]; !ok {
		s.hbOrder = append(s.hbOrder, hb.Name)
	}
	s.heartbeats[hb.Name] = &hb
}
