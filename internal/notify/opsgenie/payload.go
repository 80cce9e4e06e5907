package opsgenie

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify/template"
)

// createPayload is the body of POST /v2/alerts (CreateAlertPayload).
type createPayload struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"`
	Responders  []Responder       `json:"responders,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source,omitempty"`
	Priority    string            `json:"priority,omitempty"`
	User        string            `json:"user,omitempty"`
	Note        string            `json:"note,omitempty"`
}

// actionPayload is the body of close and add-note (AlertActionPayload).
type actionPayload struct {
	User   string `json:"user,omitempty"`
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
}

// priorityPayload is the body of PUT …/priority (UpdateAlertPriorityPayload).
type priorityPayload struct {
	Priority string `json:"priority"`
}

// validPriority returns p when OpsGenie knows it, else "".
func validPriority(p alert.Priority) string {
	switch p {
	case alert.P1, alert.P2, alert.P3, alert.P4, alert.P5:
		return string(p)
	}
	return ""
}

// queueName is the queue's name, or its ID when the name is unknown.
func queueName(t alert.Transition) string {
	if t.QueueName != "" {
		return t.QueueName
	}
	return t.QueueID
}

// label is the queue's name with the media type of a per-media series.
func label(t alert.Transition) string {
	if t.MediaType != "" {
		return queueName(t) + " (" + t.MediaType + ")"
	}
	return queueName(t)
}

// message is the alert's one-line title: "ALARM: Queue {name} {metric} is
// {value} (threshold {threshold})". A long queue name is shortened first so
// that the numbers survive the 130-character limit.
func message(t alert.Transition) string {
	name := label(t)
	rest := fmt.Sprintf(" %s is %s (threshold %s)", t.Metric, metric.Format(t.Metric, t.Value), metric.Format(t.Metric, t.Threshold))
	const head = "ALARM: Queue "
	if over := len([]rune(head+name+rest)) - maxMessage; over > 0 {
		if room := len([]rune(name)) - over; room >= 12 {
			name = truncate(name, room)
		}
	}
	return truncate(head+name+rest, maxMessage)
}

// description is the alert's multi-line body with the current numbers.
func (n *Notifier) description(t alert.Transition) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	f := func(v float64) string { return metric.Format(t.Metric, v) }
	line("Queue %s breached rule %s.", label(t), t.Rule)
	line("")
	line("Queue: %s", queueName(t))
	line("Queue ID: %s", t.QueueID)
	if t.MediaType != "" {
		line("Media type: %s", t.MediaType)
	}
	line("Metric: %s", t.Metric)
	line("Current value: %s", f(t.Value))
	line("Threshold: %s (clears at %s)", f(t.Threshold), f(t.Clear))
	if t.Target != 0 {
		line("Queue target: %s", f(t.Target))
	}
	if p := validPriority(t.Priority); p != "" {
		line("Priority: %s", p)
	}
	if t.Reason != "" {
		line("Reason: %s", t.Reason)
	}
	if ep := t.Episode; ep != nil {
		line("Breach started: %s", isoUTC(ep.Start))
		if !ep.WorstAt.IsZero() {
			line("Worst so far: %s at %s", f(ep.Worst), isoUTC(ep.WorstAt))
		}
	}
	if !t.At.IsZero() {
		line("As of: %s", isoUTC(t.At))
	}
	if t.Note != "" {
		line("")
		line("%s", t.Note)
	}
	if links := n.links(t); len(links) > 0 {
		line("")
		for _, l := range links {
			line("%s: %s", l.key, l.value)
		}
	}
	return truncate(strings.TrimRight(b.String(), "\n"), maxDescription)
}

// detailEntries lists the alert's custom properties, most important first.
func (n *Notifier) detailEntries(t alert.Transition) []entry {
	f := func(v float64) string { return metric.Format(t.Metric, v) }
	es := []entry{
		{key: "queue_id", value: t.QueueID},
		{key: "queue_name", value: t.QueueName},
		{key: "metric", value: string(t.Metric)},
		{key: "value", value: f(t.Value)},
		{key: "threshold", value: f(t.Threshold)},
		{key: "rule", value: t.Rule},
		{key: "media_type", value: t.MediaType},
		{key: "priority", value: validPriority(t.Priority)},
	}
	if t.Target != 0 {
		es = append(es, entry{key: "target", value: f(t.Target)})
	}
	es = append(es, entry{key: "clear", value: f(t.Clear)})
	if ep := t.Episode; ep != nil {
		es = append(es, entry{key: "episode_id", value: ep.ID}, entry{key: "started_at", value: isoUTC(ep.Start)})
	}
	for _, l := range n.links(t) {
		es = append(es, entry{key: l.detail, value: l.value, whole: true})
	}
	es = append(es, entry{key: "reason", value: t.Reason})
	return es
}

// link is one URL about the queue, named for the description and details.
type link struct{ key, detail, value string }

// links returns the Genesys admin page of the queue and queuewatch's
// dashboard, those that are configured.
func (n *Notifier) links(t alert.Transition) []link {
	var out []link
	if n.cfg.QueueURL != nil && t.QueueID != "" {
		if u := n.cfg.QueueURL(t.QueueID); u != "" {
			out = append(out, link{"Genesys queue", "genesys_admin_url", u})
		}
	}
	if p := n.cfg.PublicURL; p != "" {
		out = append(out, link{"Dashboard", "dashboard_url", p + "/?alert=" + url.QueryEscape(t.Key)})
	}
	return out
}

// texts returns the alert's message and description: the built-in ones, or
// those the destination's templates render, cut to their limits. A template
// that fails leaves its built-in text; the failure is logged and returned
// as a note for the delivery log.
func (n *Notifier) texts(t alert.Transition, action alert.Action) (msg, desc, note string) {
	msg, desc = message(t), n.description(t)
	ts := n.cfg.Templates
	if ts == nil {
		return msg, desc, ""
	}
	d := template.FromTransition(t, template.Env{Action: action, PublicURL: n.cfg.PublicURL, QueueURL: n.cfg.QueueURL, Now: n.cfg.Now})
	var notes []string
	fail := func(which string, err error) {
		n.cfg.Logger.Warn("notification template failed; sent the built-in text",
			"destination", n.cfg.Name, "template", which, "key", t.Key, "err", err)
		notes = append(notes, which+" template failed, sent the built-in text: "+err.Error())
	}
	var err error
	if msg, err = ts.Title(d, msg); err != nil {
		fail("title", err)
	}
	if desc, err = ts.Description(d, desc); err != nil {
		fail("description", err)
	}
	return truncate(msg, maxMessage), truncate(desc, maxDescription), n.redact(strings.Join(notes, "; "))
}

// createBody builds the create request of a transition; every field is
// within its limit. note reports a template that failed.
func (n *Notifier) createBody(key string, t alert.Transition) (body createPayload, note string) {
	var rs []Responder
	for _, r := range n.cfg.Responders {
		if r.Type == "user" && r.Username == "" && r.ID == "" {
			r.Username, r.Name = r.Name, ""
		}
		rs = append(rs, r)
	}
	if len(rs) > maxResponders {
		rs = rs[:maxResponders]
	}
	msg, desc, note := n.texts(t, alert.ActionCreate)
	return createPayload{
		Message:     msg,
		Alias:       alias(key),
		Description: desc,
		Responders:  rs,
		Tags:        tags([]string{"queuewatch"}, n.cfg.Tags, []string{t.Rule, string(t.Metric), t.MediaType}),
		Details:     details(n.detailEntries(t)),
		Entity:      truncate(queueName(t), maxEntity),
		Source:      n.cfg.Source,
		Priority:    validPriority(t.Priority),
		User:        truncate(n.cfg.Source, maxUser),
		Note:        truncate(t.Note, maxNote),
	}, note
}

// updateNote says why an open alert changed.
func updateNote(t alert.Transition) string {
	now := fmt.Sprintf("%s is %s (threshold %s).", t.Metric, metric.Format(t.Metric, t.Value), metric.Format(t.Metric, t.Threshold))
	var parts []string
	if t.PrevPriority != "" {
		parts = append(parts, fmt.Sprintf("Priority changed from %s to %s: %s", t.PrevPriority, t.Priority, now))
	}
	if t.Note != "" {
		parts = append(parts, t.Note)
	}
	if len(parts) == 0 {
		parts = append(parts, "Update: "+t.Reason+"; "+now)
	} else if t.PrevPriority == "" {
		parts = append(parts, "Now "+now)
	}
	return truncate(strings.Join(parts, " "), maxNote)
}

// closeNote tells how the breach ended, e.g. "Queue Support service_level
// restored to 86% (clears at 85%). The breach lasted 12m0s; worst value 62%."
func (n *Notifier) closeNote(t alert.Transition) string {
	f := func(v float64) string { return metric.Format(t.Metric, v) }
	s := fmt.Sprintf("Queue %s %s restored to %s (clears at %s).", label(t), t.Metric, f(t.Value), f(t.Clear))
	if ep := t.Episode; ep != nil && !ep.Start.IsZero() {
		end := ep.End
		if end.IsZero() {
			end = t.At
		}
		if end.IsZero() {
			end = n.cfg.Now()
		}
		s += fmt.Sprintf(" The breach lasted %s; worst value %s.", end.Sub(ep.Start).Round(time.Second), f(ep.Worst))
	}
	if t.Note != "" {
		s += " " + t.Note
	}
	return truncate(s, maxNote)
}

// isoUTC formats an instant as ISO-8601 in UTC.
func isoUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
