package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Limits of the Events API v2 (reference §4.1).
const (
	// MaxSummary is the most characters payload.summary may hold.
	MaxSummary = 1024
	// MaxDedupKey is the most characters dedup_key may hold.
	MaxDedupKey = 255
)

// Severities accepted by PagerDuty in payload.severity.
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Event is the body of POST /v2/enqueue.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key,omitempty"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload is the payload of a trigger event.
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

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// timestampLayout is ISO 8601 with milliseconds, as in PagerDuty's examples.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// event builds the Events API body of a delivery. note reports a template
// that failed, for the delivery log.
func (n *Notifier) event(d store.Delivery) (ev Event, note string, err error) {
	if d.Key == "" {
		return Event{}, "", &notify.Error{Reason: "delivery has no alert key to use as dedup_key"}
	}
	ev = Event{RoutingKey: n.cfg.RoutingKey.Value(), DedupKey: DedupKey(d.Key)}
	switch d.Action {
	case alert.ActionCreate, alert.ActionUpdate:
		ev.EventAction = "trigger"
		ev.Payload, note = n.payload(d)
		ev.Links = n.links(d.Transition)
		ev.Client = "queuewatch"
		ev.ClientURL = n.cfg.PublicURL
	case alert.ActionResolve:
		ev.EventAction = "resolve"
	default:
		return Event{}, "", &notify.Error{Reason: fmt.Sprintf("action %q has no PagerDuty event", d.Action)}
	}
	return ev, note, nil
}

// summary is the built-in Summary of a delivery, or what the destination's
// title template renders instead, at most MaxSummary characters. A template
// that fails leaves the built-in summary; the failure is logged and
// returned as a note.
func (n *Notifier) summary(d store.Delivery) (summary, note string) {
	t := d.Transition
	summary = Summary(d.Action, t)
	if n.cfg.Templates == nil {
		return summary, ""
	}
	data := template.FromTransition(t, template.Env{Action: d.Action, PublicURL: n.cfg.PublicURL, QueueURL: n.cfg.QueueURL, Now: n.cfg.Now})
	s, err := n.cfg.Templates.Title(data, summary)
	if err != nil {
		n.cfg.Logger.Warn("notification template failed; sent the built-in text",
			"destination", n.cfg.Name, "template", "title", "key", d.Key, "err", err)
		note = "title template failed, sent the built-in summary: " + err.Error()
	}
	return truncate(s, MaxSummary), note
}

func (n *Notifier) payload(d store.Delivery) (*Payload, string) {
	t := d.Transition
	at := t.At
	if at.IsZero() {
		at = n.cfg.Now()
	}
	summary, note := n.summary(d)
	return &Payload{
		Summary:       summary,
		Source:        n.cfg.Source,
		Severity:      Severity(t.Priority),
		Timestamp:     at.UTC().Format(timestampLayout),
		Component:     queueName(t),
		Group:         t.Rule,
		Class:         string(t.Metric),
		CustomDetails: details(d),
	}, note
}

func (n *Notifier) links(t alert.Transition) []Link {
	var ls []Link
	if n.cfg.PublicURL != "" {
		ls = append(ls, Link{Href: n.cfg.PublicURL, Text: "queuewatch dashboard"})
	}
	if n.cfg.QueueURL != nil && t.QueueID != "" {
		if u := n.cfg.QueueURL(t.QueueID); u != "" {
			ls = append(ls, Link{Href: u, Text: "Queue in Genesys Cloud admin"})
		}
	}
	return ls
}

// Severity maps a queuewatch priority to a PagerDuty severity: P1 critical,
// P2 error, P3 warning, P4 and P5 info. An empty priority is the rules'
// default P3, warning.
func Severity(p alert.Priority) string {
	switch p {
	case alert.P1:
		return SeverityCritical
	case alert.P2:
		return SeverityError
	case alert.P4, alert.P5:
		return SeverityInfo
	default:
		return SeverityWarning
	}
}

// Summary is the one-line text of a trigger event, at most MaxSummary
// characters; a longer text is cut and ends with "…".
func Summary(a alert.Action, t alert.Transition) string {
	s := fmt.Sprintf("Queue %s: %s is %s (threshold %s)",
		queueName(t), t.Metric, metric.Format(t.Metric, t.Value), metric.Format(t.Metric, t.Threshold))
	if t.Priority != "" {
		s = "[" + string(t.Priority) + "] " + s
	}
	if a == alert.ActionUpdate && t.Reason != "" {
		s += " — " + t.Reason
	}
	if t.Note != "" {
		s += " — " + t.Note
	}
	return truncate(s, MaxSummary)
}

// truncate cuts s to at most limit characters (runes), marking a cut with "…".
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	i, n := 0, 0
	for i = range s {
		if n == limit-1 {
			break
		}
		n++
	}
	return s[:i] + "…"
}

// DedupKey returns the dedup_key of an alert key: the key itself when it
// fits in MaxDedupKey characters, otherwise a prefix joined to the key's
// SHA-256, which is as stable as the key.
func DedupKey(key string) string {
	if utf8.RuneCountInString(key) <= MaxDedupKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return strings.TrimSuffix(truncate(key, MaxDedupKey-len(h)), "…") + "~" + h
}

func queueName(t alert.Transition) string {
	name := t.QueueName
	if name == "" {
		name = t.QueueID
	}
	if t.MediaType != "" {
		name += "/" + t.MediaType
	}
	return name
}

// details is the payload's custom_details: the numbers as numbers and the
// episode, so PagerDuty rules and people can use them.
func details(d store.Delivery) map[string]any {
	t := d.Transition
	m := map[string]any{
		"alert_key":  d.Key,
		"queue_id":   t.QueueID,
		"queue_name": t.QueueName,
		"rule":       t.Rule,
		"metric":     string(t.Metric),
		"value":      t.Value,
		"value_text": metric.Format(t.Metric, t.Value),
		"threshold":  t.Threshold,
		"clear":      t.Clear,
		"priority":   string(t.Priority),
		"state":      string(t.To),
		"reason":     t.Reason,
		"at":         t.At.UTC().Format(time.RFC3339),
	}
	if t.MediaType != "" {
		m["media_type"] = t.MediaType
	}
	if t.Target != 0 {
		m["target"] = t.Target
	}
	if t.PrevPriority != "" {
		m["prev_priority"] = string(t.PrevPriority)
	}
	if t.Note != "" {
		m["note"] = t.Note
	}
	ep := map[string]any{"id": d.EpisodeID}
	if e := t.Episode; e != nil {
		ep["id"] = e.ID
		ep["start"] = e.Start.UTC().Format(time.RFC3339)
		ep["worst"] = e.Worst
		ep["worst_at"] = e.WorstAt.UTC().Format(time.RFC3339)
		ep["priority"] = string(e.Priority)
	}
	m["episode"] = ep
	return m
}
