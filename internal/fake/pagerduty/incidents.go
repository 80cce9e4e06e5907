package pagerduty

import (
	"fmt"
	"time"
)

// Incident statuses.
const (
	Triggered    = "triggered"
	Acknowledged = "acknowledged"
	Resolved     = "resolved"
)

// Payload is a trigger event's payload as the fake received it.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link of a trigger event.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Event is one accepted event applied to an incident.
type Event struct {
	Action     string    `json:"event_action"`
	Payload    *Payload  `json:"payload,omitempty"`
	Links      []Link    `json:"links,omitempty"`
	Client     string    `json:"client,omitempty"`
	ClientURL  string    `json:"client_url,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Incident is what one dedup_key opened, from its first trigger to its
// resolve. Summary and Severity are those of the opening trigger; later
// triggers are appended to Events (the real service adds them to the
// incident's log).
type Incident struct {
	ID         string    `json:"id"`
	DedupKey   string    `json:"dedup_key"`
	Status     string    `json:"status"`
	Severity   string    `json:"severity"`
	Summary    string    `json:"summary"`
	Triggers   int       `json:"triggers"`
	Events     []Event   `json:"events"`
	CreatedAt  time.Time `json:"created_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Last returns the incident's latest event.
func (in Incident) Last() Event { return in.Events[len(in.Events)-1] }

// apply changes the incidents for a valid event. It must be called with s.mu held.
func (s *Server) apply(ev event, now time.Time) {
	k := ev.RoutingKey + "\x00" + ev.DedupKey
	in := s.open[k]
	e := Event{Action: ev.EventAction, Payload: ev.Payload, Links: ev.Links, Client: ev.Client, ClientURL: ev.ClientURL, ReceivedAt: now}
	switch {
	case ev.EventAction == "trigger" && in == nil:
		s.seq++
		in = &Incident{
			ID: fmt.Sprintf("PFAKE%04d", s.seq), DedupKey: ev.DedupKey, Status: Triggered,
			Severity: ev.Payload.Severity, Summary: ev.Payload.Summary, CreatedAt: now,
		}
		s.incidents = append(s.incidents, in)
		s.open[k] = in
		fallthrough
	case ev.EventAction == "trigger":
		in.Triggers++
	case in == nil:
		// Acknowledge and resolve never create incidents.
		s.dropped++
		return
	case ev.EventAction == "acknowledge":
		in.Status = Acknowledged
	case ev.EventAction == "resolve":
		in.Status, in.ResolvedAt = Resolved, now
		delete(s.open, k)
	}
	in.Events = append(in.Events, e)
}

// Incidents returns a copy of every incident, oldest first.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, len(s.incidents))
	for i, in := range s.incidents {
		out[i] = *in
		out[i].Events = append([]Event(nil), in.Events...)
	}
	return out
}

// Dropped returns how many acknowledge or resolve events matched no open
// incident and were dropped after a 202.
func (s *Server) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
