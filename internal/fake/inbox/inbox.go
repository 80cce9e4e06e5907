// Package inbox shows what the fake vendor servers received the way their
// users would see it: the OpsGenie alert list, the Slack channel and the
// PagerDuty incidents. The demo serves it next to the dashboard, as a JSON
// view (/demo/api/inboxes) and an HTML page (/demo/) that refreshes itself.
package inbox

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	"github.com/queuewatch/queuewatch/internal/fake/slack"
)

//go:embed assets
var assets embed.FS

// Prefix is where Handler's routes live.
const Prefix = "/demo/"

// Sources are the fakes to show. Any of them may be nil.
type Sources struct {
	OpsGenie *opsgenie.Server
	Slack    *slack.Server
	Channel  string // the Slack channel ID shown
	// ChannelName is shown instead of the ID when set, e.g. "queue-alerts".
	ChannelName string
	PagerDuty   *pagerduty.Server
}

// Inboxes is the JSON view of every fake's inbox.
type Inboxes struct {
	OpsGenie  *OpsGenieInbox  `json:"opsgenie,omitempty"`
	Slack     *SlackInbox     `json:"slack,omitempty"`
	PagerDuty *PagerDutyInbox `json:"pagerduty,omitempty"`
}

// OpsGenieInbox is the OpsGenie alert list, newest first.
type OpsGenieInbox struct {
	Open    int     `json:"open"`
	Closed  int     `json:"closed"`
	Creates int     `json:"creates"` // create requests accepted, repeats included
	Alerts  []Alert `json:"alerts"`
}

// Alert is one OpsGenie alert.
type Alert struct {
	TinyID    string    `json:"tiny_id"`
	Alias     string    `json:"alias"`
	Message   string    `json:"message"`
	Priority  string    `json:"priority"`
	Status    string    `json:"status"`
	Count     int       `json:"count"`
	Tags      []string  `json:"tags,omitempty"`
	Notes     []Note    `json:"notes,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ClosedAt  time.Time `json:"closed_at,omitzero"`
}

// Note is a note on an OpsGenie alert.
type Note struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// SlackInbox is one Slack channel, newest message first.
type SlackInbox struct {
	Channel  string         `json:"channel"`
	Name     string         `json:"name,omitempty"`
	Posts    int            `json:"posts"`   // top-level messages
	Updates  int            `json:"updates"` // chat.update calls that changed a message
	Replies  int            `json:"replies"` // thread replies
	Messages []SlackMessage `json:"messages"`
}

// SlackMessage is a top-level message with its thread.
type SlackMessage struct {
	TS string `json:"ts"`
	// State is "firing", "resolved" or "info", read from the header's emoji;
	// the page colours the message by it.
	State   string         `json:"state"`
	Title   string         `json:"title"`
	Body    []string       `json:"body,omitempty"`   // mrkdwn sections
	Fields  []string       `json:"fields,omitempty"` // mrkdwn fields, shown two by two
	Context []string       `json:"context,omitempty"`
	Links   []Link         `json:"links,omitempty"`
	Text    string         `json:"text"` // the notification fallback text
	Edits   int            `json:"edits"`
	Posted  time.Time      `json:"posted"`
	Edited  time.Time      `json:"edited,omitzero"`
	Replies []SlackMessage `json:"replies,omitempty"`
}

// Link is a button of a Slack message.
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// PagerDutyInbox is the PagerDuty incident list, newest first.
type PagerDutyInbox struct {
	Triggered int        `json:"triggered"` // open incidents (triggered or acknowledged)
	Resolved  int        `json:"resolved"`
	Incidents []Incident `json:"incidents"`
}

// Incident is one PagerDuty incident.
type Incident struct {
	ID         string    `json:"id"`
	DedupKey   string    `json:"dedup_key"`
	Status     string    `json:"status"`
	Severity   string    `json:"severity"`
	Summary    string    `json:"summary"`
	Triggers   int       `json:"triggers"`
	Events     int       `json:"events"`
	CreatedAt  time.Time `json:"created_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Handler serves the inbox views.
type Handler struct {
	src Sources
	mux *http.ServeMux
}

// New returns a handler for src's inboxes; mount it at Prefix.
func New(src Sources) *Handler {
	h := &Handler{src: src, mux: http.NewServeMux()}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	h.mux.Handle("GET "+Prefix+"{$}", serveFile(static, "index.html"))
	h.mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET "+Prefix+"api/inboxes", h.serveInboxes)
	h.mux.Handle("GET /demo", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	return h
}

// ServeHTTP serves /demo/, /demo/assets/… and /demo/api/inboxes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func serveFile(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

func (h *Handler) serveInboxes(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(h.Snapshot())
}

// Snapshot returns the inboxes as they are now.
func (h *Handler) Snapshot() Inboxes {
	var out Inboxes
	if h.src.OpsGenie != nil {
		out.OpsGenie = opsGenieInbox(h.src.OpsGenie.Alerts())
	}
	if h.src.Slack != nil {
		out.Slack = slackInbox(h.src.Channel, h.src.Slack.Messages(h.src.Channel))
		out.Slack.Name = h.src.ChannelName
	}
	if h.src.PagerDuty != nil {
		out.PagerDuty = pagerDutyInbox(h.src.PagerDuty.Incidents())
	}
	return out
}

func opsGenieInbox(alerts []opsgenie.Alert) *OpsGenieInbox {
	in := &OpsGenieInbox{Alerts: make([]Alert, 0, len(alerts))}
	for _, a := range slices.Backward(alerts) {
		v := Alert{
			TinyID: a.TinyID, Alias: a.Alias, Message: a.Message, Priority: a.Priority, Status: a.Status,
			Count: a.Count, Tags: a.Tags, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, ClosedAt: a.ClosedAt,
		}
		for _, n := range a.Notes {
			v.Notes = append(v.Notes, Note{Text: n.Note, At: n.CreatedAt})
		}
		if a.Open() {
			in.Open++
		} else {
			in.Closed++
		}
		in.Creates += a.Count
		in.Alerts = append(in.Alerts, v)
	}
	return in
}

func slackInbox(channel string, msgs []slack.Message) *SlackInbox {
	in := &SlackInbox{Channel: channel, Messages: make([]SlackMessage, 0, len(msgs))}
	for _, m := range slices.Backward(msgs) {
		v := slackMessage(m)
		in.Posts++
		in.Updates += m.Edits
		in.Replies += len(m.Replies)
		for _, r := range m.Replies {
			in.Updates += r.Edits
			v.Replies = append(v.Replies, slackMessage(r))
		}
		in.Messages = append(in.Messages, v)
	}
	return in
}

// Emoji the Slack notifier starts its headers with.
const (
	firingEmoji   = ":rotating_light:"
	resolvedEmoji = ":white_check_mark:"
)

func slackMessage(m slack.Message) SlackMessage {
	v := SlackMessage{TS: m.TS, Text: m.Text, Edits: m.Edits, Posted: m.Posted, Edited: m.Edited}
	readBlocks(m.Blocks, &v)
	if v.Title == "" && len(v.Body) == 0 && len(v.Fields) == 0 {
		v.Title = m.Text
	}
	switch head := v.Title + " " + m.Text; {
	case strings.Contains(head, resolvedEmoji):
		v.State = "resolved"
	case strings.Contains(head, firingEmoji), strings.Contains(head, ":red_circle:"):
		v.State = "firing"
	default:
		v.State = "info"
	}
	return v
}

// block is the part of a Block Kit block the view reads.
type block struct {
	Type     string            `json:"type"`
	Text     *textObject       `json:"text"`
	Fields   []textObject      `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
}

type textObject struct {
	Text string `json:"text"`
}

// element is a context element (a text object) or a button.
type element struct {
	Type string          `json:"type"`
	Text json.RawMessage `json:"text"` // a string in a text object, an object in a button
	URL  string          `json:"url"`
}

// readBlocks fills v's title, body, context and links from a message's
// blocks; blocks it cannot read are left out.
func readBlocks(raw json.RawMessage, v *SlackMessage) {
	var blocks []block
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil {
		return
	}
	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text != nil {
				v.Title = b.Text.Text
			}
		case "section":
			if b.Text != nil && b.Text.Text != "" {
				v.Body = append(v.Body, b.Text.Text)
			}
			for _, f := range b.Fields {
				v.Fields = append(v.Fields, f.Text)
			}
		case "context", "actions":
			for _, raw := range b.Elements {
				var e element
				if json.Unmarshal(raw, &e) != nil {
					continue
				}
				var s string
				var t textObject
				switch {
				case e.Type == "button" && e.URL != "" && json.Unmarshal(e.Text, &t) == nil:
					v.Links = append(v.Links, Link{Text: t.Text, URL: e.URL})
				case (e.Type == "mrkdwn" || e.Type == "plain_text") && json.Unmarshal(e.Text, &s) == nil && s != "":
					v.Context = append(v.Context, s)
				}
			}
		}
	}
}

func pagerDutyInbox(incidents []pagerduty.Incident) *PagerDutyInbox {
	in := &PagerDutyInbox{Incidents: make([]Incident, 0, len(incidents))}
	for _, i := range slices.Backward(incidents) {
		if i.Status == pagerduty.Resolved {
			in.Resolved++
		} else {
			in.Triggered++
		}
		in.Incidents = append(in.Incidents, Incident{
			ID: i.ID, DedupKey: i.DedupKey, Status: i.Status, Severity: i.Severity, Summary: i.Summary,
			Triggers: i.Triggers, Events: len(i.Events), CreatedAt: i.CreatedAt, ResolvedAt: i.ResolvedAt,
		})
	}
	return in
}
