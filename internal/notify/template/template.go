// Package template renders the title and description of notifications
// from Go text/template overrides configured per destination (the
// "templates:" key), falling back to each notifier's built-in text.
//
// A template sees a Data, built from an alert transition by FromTransition,
// and may call the functions of FuncMap besides text/template's own:
//
//	title: "{{.Priority}} {{.Queue.Name}}: {{.Metric}} {{.ValueText}} (threshold {{.ThresholdText}})"
//
// The language itself lives in package core, which the configuration
// loader uses to check templates; this package re-exports it and adds
// FromTransition, which needs the alert types.
package template

import (
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify/template/core"
)

type (
	// Data is what a template sees; see core.Data.
	Data = core.Data
	// Queue is the queue of an alert; see core.Queue.
	Queue = core.Queue
	// Episode is the breach an alert belongs to; see core.Episode.
	Episode = core.Episode
	// Set is the parsed templates of one destination; see core.Set.
	Set = core.Set
)

// MaxOutput is the most bytes one template may render.
const MaxOutput = core.MaxOutput

// FuncMap returns the functions templates may call; see core.FuncMap.
func FuncMap() template.FuncMap { return core.FuncMap() }

// Parse parses the title and description templates of a destination; see
// core.Parse. It returns nil and no error when both are empty.
func Parse(title, description string) (*Set, error) { return core.Parse(title, description) }

// Check parses one template and executes it against sample data; see
// core.Check.
func Check(name, text string) error { return core.Check(name, text) }

// Env is what FromTransition needs besides the transition.
type Env struct {
	// Action, when set, replaces the transition's action; notifiers pass the
	// delivery's own action.
	Action alert.Action
	// PublicURL is queuewatch's public_url; when set, DashboardURL links to
	// the alert under it.
	PublicURL string
	// QueueURL, when set, returns the Genesys Cloud admin page of a queue.
	QueueURL func(queueID string) string
	// Now is the clock for the duration of an open episode whose transition
	// has no time; time.Now when nil.
	Now func() time.Time
}

// FromTransition returns what a template sees of t. Values are also given
// formatted in the metric's unit (ValueText, ThresholdText,
// Episode.WorstText); Queue.Name is the queue's ID when its name is
// unknown; Episode.Duration runs to the episode's end or, while it lasts,
// to the transition's time.
func FromTransition(t alert.Transition, env Env) Data {
	f := func(v float64) string { return metric.Format(t.Metric, v) }
	action := t.Action
	if env.Action != alert.ActionNone {
		action = env.Action
	}
	name := strings.TrimSpace(t.QueueName)
	if name == "" {
		name = t.QueueID
	}
	d := Data{
		Action:        string(action),
		Queue:         Queue{ID: t.QueueID, Name: name, MediaType: t.MediaType},
		Rule:          t.Rule,
		Metric:        string(t.Metric),
		Value:         t.Value,
		ValueText:     f(t.Value),
		Threshold:     t.Threshold,
		ThresholdText: f(t.Threshold),
		Target:        t.Target,
		Priority:      string(t.Priority),
		PrevPriority:  string(t.PrevPriority),
		Reason:        t.Reason,
		Note:          t.Note,
	}
	if e := t.Episode; e != nil {
		d.Episode = Episode{ID: e.ID, Start: e.Start, End: e.End, Worst: e.Worst, WorstText: f(e.Worst)}
		if !e.Start.IsZero() {
			end := e.End
			if end.IsZero() {
				end = t.At
			}
			if end.IsZero() {
				now := time.Now
				if env.Now != nil {
					now = env.Now
				}
				end = now()
			}
			d.Episode.Duration = max(end.Sub(e.Start).Round(time.Second), 0)
		}
	}
	if p := strings.TrimRight(env.PublicURL, "/"); p != "" && t.Key != "" {
		d.DashboardURL = p + "/?alert=" + url.QueryEscape(t.Key)
	} else if p != "" {
		d.DashboardURL = p + "/"
	}
	if env.QueueURL != nil && t.QueueID != "" {
		d.QueueURL = env.QueueURL(t.QueueID)
	}
	return d
}
