// Package core is the notification template language without the alert
// engine: the Data a template sees, the functions it may call (FuncMap),
// parsing (Parse, Check) and rendering (Set).
//
// It depends on nothing in queuewatch but metric, so that the configuration
// loader can check templates: package template, which adds FromTransition,
// imports alert, and alert imports rule, which imports config. Everything
// else should use package template, which re-exports this package.
package core

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// MaxOutput is the most bytes one template may render; a template that
// writes more fails as if its execution had failed.
const MaxOutput = 64 << 10

// ellipsis ends a text that truncate cut.
const ellipsis = "…"

// Queue is the queue of an alert as a template sees it.
type Queue struct {
	// ID is the Genesys Cloud queue ID.
	ID string
	// Name is the queue's name, or its ID when the name is unknown.
	Name string
	// MediaType is the media type of a per-media series (voice, chat, …),
	// empty for queue totals.
	MediaType string
}

// Episode is the breach an alert belongs to, from its first create to its
// resolve, as a template sees it. It is the zero Episode when the
// transition carries none.
type Episode struct {
	// ID identifies the episode.
	ID string
	// Start is when the breach began.
	Start time.Time
	// End is when the breach ended; zero while it lasts.
	End time.Time
	// Worst is the worst value seen during the breach.
	Worst float64
	// WorstText is Worst in the metric's unit, such as "62%" or "4m10s".
	WorstText string
	// Duration is how long the breach lasted, or has lasted so far.
	Duration time.Duration
}

// Data is what a notification template sees: {{.Queue.Name}},
// {{.ValueText}}, {{.Episode.Duration}} and so on.
type Data struct {
	// Action is "create", "update" or "resolve".
	Action string
	// Queue is the queue the alert is about.
	Queue Queue
	// Rule is the name of the rule that fired.
	Rule string
	// Metric is the metric's name, such as "service_level".
	Metric string
	// Value is the metric's current value.
	Value float64
	// ValueText is Value in the metric's unit, such as "71.5%" or "4m10s".
	ValueText string
	// Threshold is the rule's threshold at the time.
	Threshold float64
	// ThresholdText is Threshold in the metric's unit.
	ThresholdText string
	// Target is the queue's service-level target when the rule uses it,
	// else 0.
	Target float64
	// Priority is P1 (most urgent) to P5, or empty.
	Priority string
	// PrevPriority is the priority before an update changed it, or empty.
	PrevPriority string
	// Reason says in words why the transition happened.
	Reason string
	// Note is extra text, such as a staleness or flapping note, or empty.
	Note string
	// Episode is the breach the alert belongs to.
	Episode Episode
	// DashboardURL links to the alert on queuewatch's dashboard, or is
	// empty when public_url is not set.
	DashboardURL string
	// QueueURL links to the queue's page in Genesys Cloud admin, or is
	// empty.
	QueueURL string
}

// FuncMap returns the functions templates may call besides text/template's
// own (printf, eq, and, …). The renderer and the configuration check both
// use it, so that a template that passes check-config also renders:
//
//	upper s          s in upper case
//	lower s          s in lower case
//	trim s           s without leading and trailing white space
//	truncate n s     s cut to at most n characters, ending in "…" when cut
//	default d v      v, or d when v is empty or zero
//	since t          the time.Duration from t to now, rounded to the second
//	duration d       a time.Duration (or a number of seconds) written short:
//	                 "45s", "12m", "1h05m", "2d3h"
//
// Each call returns a new map, which the caller may change.
func FuncMap() template.FuncMap {
	return template.FuncMap{
		"upper":    strings.ToUpper,
		"lower":    strings.ToLower,
		"trim":     strings.TrimSpace,
		"truncate": truncate,
		"default":  orDefault,
		"since":    since,
		"duration": duration,
	}
}

// truncate cuts s to at most n characters, ending it with an ellipsis when
// something was cut.
func truncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + ellipsis
}

// orDefault returns v, or def when v is nil, an empty string or zero.
func orDefault(def, v any) any {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		if strings.TrimSpace(x) == "" {
			return def
		}
	case int:
		if x == 0 {
			return def
		}
	case float64:
		if x == 0 {
			return def
		}
	case time.Duration:
		if x == 0 {
			return def
		}
	case time.Time:
		if x.IsZero() {
			return def
		}
	}
	return v
}

// since returns the time from t to now, rounded to the second; 0 for the
// zero time or a time in the future.
func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return max(time.Since(t).Round(time.Second), 0)
}

// duration writes a duration the way people say it: "45s", "12m",
// "1h05m", "2d3h". Numbers are seconds.
func duration(v any) (string, error) {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case int:
		d = time.Duration(x) * time.Second
	case int64:
		d = time.Duration(x) * time.Second
	case float64:
		d = time.Duration(x * float64(time.Second))
	default:
		return "", fmt.Errorf("want a duration or a number of seconds, not %T", v)
	}
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		s = fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	default:
		s = fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
	return neg + s, nil
}

// Samples returns one Data per action (create, update, resolve) with every
// field set, the way a real alert would set them. Check executes templates
// against them.
func Samples() []Data {
	start := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	m := metric.ServiceLevel
	f := func(v float64) string { return metric.Format(m, v) }
	base := Data{
		Action:        "create",
		Queue:         Queue{ID: "3f0c8d1e-0000-4000-8000-000000000001", Name: "Support", MediaType: "voice"},
		Rule:          "sla_breach",
		Metric:        string(m),
		Value:         71.5,
		ValueText:     f(71.5),
		Threshold:     80,
		ThresholdText: f(80),
		Target:        80,
		Priority:      "P2",
		Reason:        "breach held for 2m0s",
		Episode: Episode{
			ID: "3f0c8d1e-0000-4000-8000-000000000001_sla_breach_voice@1774861200000", Start: start,
			Worst: 71.5, WorstText: f(71.5), Duration: 2 * time.Minute,
		},
		DashboardURL: "https://queuewatch.example.com/?alert=3f0c8d1e-0000-4000-8000-000000000001_sla_breach_voice",
		QueueURL:     "https://apps.mypurecloud.com/directory/#/admin/routing/queues/3f0c8d1e-0000-4000-8000-000000000001",
	}
	update := base
	update.Action, update.Value, update.ValueText = "update", 55, f(55)
	update.Priority, update.PrevPriority = "P1", "P2"
	update.Reason, update.Note = "level 2 reached", "No data for 5m0s; the last value is shown."
	update.Episode.Worst, update.Episode.WorstText, update.Episode.Duration = 55, f(55), 9*time.Minute
	resolve := update
	resolve.Action, resolve.Value, resolve.ValueText = "resolve", 86, f(86)
	resolve.PrevPriority, resolve.Reason, resolve.Note = "", "clear held for 5m0s", ""
	resolve.Episode.End, resolve.Episode.Duration = start.Add(20*time.Minute), 20*time.Minute
	return []Data{base, update, resolve}
}

// parse parses one template with FuncMap.
func parse(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(FuncMap()).Parse(text)
}

// Check parses text as a template named name and executes it against every
// one of Samples, returning the first parse or execution error. It catches
// unknown functions, unknown fields and wrong arguments on the paths the
// samples take.
func Check(name, text string) error {
	t, err := parse(name, text)
	if err != nil {
		return err
	}
	for _, d := range Samples() {
		if _, err := execute(t, d); err != nil {
			return err
		}
	}
	return nil
}

// Set is the parsed templates of one destination. A nil *Set, and a Set
// without a template, render every fallback unchanged.
type Set struct {
	title, description *template.Template
}

// Parse parses the title and description templates of a destination; an
// empty text means no template. Each template is also executed against
// Samples, as Check does. Parse returns nil and no error when both texts
// are empty.
func Parse(title, description string) (*Set, error) {
	if strings.TrimSpace(title) == "" && strings.TrimSpace(description) == "" {
		return nil, nil
	}
	var s Set
	var errs []error
	for _, x := range []struct {
		name, text string
		dst        **template.Template
	}{{"title", title, &s.title}, {"description", description, &s.description}} {
		if strings.TrimSpace(x.text) == "" {
			continue
		}
		if err := Check(x.name, x.text); err != nil {
			errs = append(errs, err)
			continue
		}
		*x.dst, _ = parse(x.name, x.text) // Check parsed it already
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &s, nil
}

// Title renders the title template with d as one line: runs of white space,
// line breaks included, become one space. It returns fallback when there is
// no title template or the template renders nothing but white space, and
// fallback with the error when the template fails, so that the caller can
// log it and still send.
func (s *Set) Title(d Data, fallback string) (string, error) {
	if s == nil || s.title == nil {
		return fallback, nil
	}
	out, err := execute(s.title, d)
	if err != nil {
		return fallback, err
	}
	out = strings.Join(strings.Fields(out), " ")
	if out == "" {
		return fallback, nil
	}
	return out, nil
}

// Description renders the description template with d, without leading
// and trailing white space. Unlike a title, a description may render
// empty, which leaves the description out. It returns fallback when there
// is no description template, and fallback with the error when the
// template fails.
func (s *Set) Description(d Data, fallback string) (string, error) {
	if s == nil || s.description == nil {
		return fallback, nil
	}
	out, err := execute(s.description, d)
	if err != nil {
		return fallback, err
	}
	return strings.TrimSpace(out), nil
}

// HasTitle reports whether s has a title template.
func (s *Set) HasTitle() bool { return s != nil && s.title != nil }

// HasDescription reports whether s has a description template.
func (s *Set) HasDescription() bool { return s != nil && s.description != nil }

// errTooLong fails a template that writes more than MaxOutput bytes.
var errTooLong = fmt.Errorf("renders more than %d bytes", MaxOutput)

// capped is a buffer that refuses to grow past MaxOutput.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > MaxOutput {
		return 0, errTooLong
	}
	return c.Buffer.Write(p)
}

// execute renders t with d, at most MaxOutput bytes.
func execute(t *template.Template, d Data) (string, error) {
	var b capped
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}
