package slack

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify/template"
)

// Emoji that start the messages' headers.
const (
	firingEmoji   = ":rotating_light:"
	resolvedEmoji = ":white_check_mark:"
)

// queueLabel names a transition's queue for people: "Support (voice)".
func queueLabel(t alert.Transition) string {
	name := strings.TrimSpace(t.QueueName)
	if name == "" {
		name = t.QueueID
	}
	if name == "" {
		name = t.Key
	}
	if t.MediaType != "" {
		name += " (" + t.MediaType + ")"
	}
	return clip(name, maxLabel)
}

// metricLabel names a metric for people: "service level".
func metricLabel(n metric.Name) string {
	if n == "" {
		return "value"
	}
	return strings.ReplaceAll(string(n), "_", " ")
}

// goal renders what the value is compared with: "target 80%" when the rule
// uses the queue's target, else "threshold 80%".
func goal(t alert.Transition) string {
	if t.Target != 0 {
		return "target " + metric.Format(t.Metric, t.Target)
	}
	return "threshold " + metric.Format(t.Metric, t.Threshold)
}

// reading renders "service level 71% (target 80%)".
func reading(t alert.Transition) string {
	return fmt.Sprintf("%s %s (%s)", metricLabel(t.Metric), metric.Format(t.Metric, t.Value), goal(t))
}

// priorityText renders "P1", or "P1 (was P3)" after a change.
func priorityText(t alert.Transition) string {
	p := string(t.Priority)
	if p == "" {
		p = "none"
	}
	if t.PrevPriority != "" && t.PrevPriority != t.Priority {
		p += " (was " + string(t.PrevPriority) + ")"
	}
	return p
}

// span returns the start and end of a transition's episode; the end is the
// transition's time while the episode is open.
func span(t alert.Transition) (start, end time.Time) {
	start, end = t.At, t.At
	if e := t.Episode; e != nil {
		if !e.Start.IsZero() {
			start = e.Start
		}
		if !e.End.IsZero() {
			end = e.End
		}
	}
	return start, end
}

// worst returns the episode's worst value, formatted, or "".
func worst(t alert.Transition) string {
	if t.Episode == nil || (t.Episode.Worst == 0 && t.Episode.WorstAt.IsZero()) {
		return ""
	}
	return metric.Format(t.Metric, t.Episode.Worst)
}

// links returns the button pairs (label, URL) for a queue.
func (n *Notifier) links(t alert.Transition) []string {
	var out []string
	if n.cfg.QueueURL != nil && t.QueueID != "" {
		out = append(out, "View queue", n.cfg.QueueURL(t.QueueID))
	}
	if n.cfg.PublicURL != "" {
		out = append(out, "Open dashboard", strings.TrimRight(n.cfg.PublicURL, "/")+"/?alert="+url.QueryEscape(t.Key))
	}
	return out
}

// contextText renders the rule, queue id and key line.
func contextText(t alert.Transition) string {
	parts := []string{"rule `" + esc(clip(t.Rule, maxLabel)) + "`", "queue id `" + esc(clip(t.QueueID, maxLabel)) + "`"}
	if t.MediaType != "" {
		parts = append(parts, "media "+esc(t.MediaType))
	}
	if t.Episode != nil && t.Episode.ID != "" {
		parts = append(parts, "episode `"+esc(clip(t.Episode.ID, maxLabel))+"`")
	}
	return strings.Join(parts, " · ")
}

// details renders the reason and note of a transition as mrkdwn, or "".
func details(t alert.Transition) string {
	var lines []string
	if r := strings.TrimSpace(t.Reason); r != "" {
		lines = append(lines, esc(clip(r, maxNote)))
	}
	if note := strings.TrimSpace(t.Note); note != "" {
		lines = append(lines, ":information_source: "+esc(clip(note, maxNote)))
	}
	return strings.Join(lines, "\n")
}

// texts returns the header text and the mrkdwn body of a message: head
// and body, or what the destination's templates render instead. A rendered
// body is escaped, so that a queue name cannot mention @channel. A template
// that fails leaves the built-in text; the failure is logged and returned
// as a note for the delivery log.
func (n *Notifier) texts(t alert.Transition, action alert.Action, head, body string) (string, string, string) {
	ts := n.cfg.Templates
	if ts == nil {
		return head, body, ""
	}
	d := template.FromTransition(t, template.Env{Action: action, PublicURL: n.cfg.PublicURL, QueueURL: n.cfg.QueueURL, Now: n.now})
	var notes []string
	fail := func(which string, err error) {
		n.cfg.Logger.Warn("notification template failed; sent the built-in text",
			"destination", n.cfg.Name, "template", which, "key", t.Key, "err", err)
		notes = append(notes, which+" template failed, sent the built-in text: "+err.Error())
	}
	h, err := ts.Title(d, head)
	if err != nil {
		fail("title", err)
	}
	if ts.HasDescription() {
		b, err := ts.Description(d, "")
		if err != nil {
			fail("description", err)
		} else {
			body = esc(b)
		}
	}
	return h, body, strings.Join(notes, "; ")
}

// renderFiring renders the message of an open episode.
func (n *Notifier) renderFiring(t alert.Transition, action alert.Action) view {
	start, _ := span(t)
	label := queueLabel(t)
	since := "*Since*\n" + slackDate(start) + " (" + shortDuration(n.now().Sub(start)) + ")"
	worstField := ""
	if w := worst(t); w != "" {
		worstField = "*Worst*\n" + w
	}
	goalName, goalValue := "Threshold", metric.Format(t.Metric, t.Threshold)
	if t.Target != 0 {
		goalName, goalValue = "Target", metric.Format(t.Metric, t.Target)
	}
	head, body, tnote := n.texts(t, action, fmt.Sprintf("%s %s: %s", firingEmoji, label, reading(t)), details(t))
	blocks := []block{
		header(head),
		fields(
			"*"+strings.ToUpper(metricLabel(t.Metric)[:1])+metricLabel(t.Metric)[1:]+"*\n"+metric.Format(t.Metric, t.Value),
			"*"+goalName+"*\n"+goalValue,
			"*Priority*\n"+priorityText(t),
			since,
			worstField,
		),
	}
	if body != "" {
		blocks = append(blocks, section(body))
	}
	blocks = append(blocks, contextLine(contextText(t)))
	if b, ok := actions(n.links(t)...); ok {
		blocks = append(blocks, b)
	}
	text := fmt.Sprintf("%s %s: %s, priority %s, since %s", firingEmoji, esc(label), reading(t), priorityText(t), start.UTC().Format("15:04 UTC"))
	if note := strings.TrimSpace(t.Note); note != "" {
		text += " — " + esc(clip(note, maxNote))
	}
	return view{text: clip(text, maxFallback), blocks: blocks, note: tnote}
}

// renderResolved renders the message of an ended episode.
func (n *Notifier) renderResolved(t alert.Transition, action alert.Action) view {
	start, end := span(t)
	label := queueLabel(t)
	summary := "resolved after " + shortDuration(end.Sub(start))
	if w := worst(t); w != "" {
		summary += ", worst " + w
	}
	reached := string(t.Priority)
	if t.Episode != nil && t.Episode.Priority != "" {
		reached = string(t.Episode.Priority)
	}
	head, body, tnote := n.texts(t, action, fmt.Sprintf("%s %s: %s", resolvedEmoji, label, summary), details(t))
	blocks := []block{
		header(head),
		fields(
			"*Now*\n"+metricLabel(t.Metric)+" "+metric.Format(t.Metric, t.Value),
			"*Clear at*\n"+metric.Format(t.Metric, t.Clear),
			"*Highest priority*\n"+orNone(reached),
			"*Breach*\n"+slackDate(start)+" → "+slackDate(end),
		),
	}
	if body != "" {
		blocks = append(blocks, section(body))
	}
	blocks = append(blocks, contextLine(contextText(t)))
	if b, ok := actions(n.links(t)...); ok {
		blocks = append(blocks, b)
	}
	text := fmt.Sprintf("%s %s: %s (now %s)", resolvedEmoji, esc(label), summary, metric.Format(t.Metric, t.Value))
	return view{text: clip(text, maxFallback), blocks: blocks, note: tnote}
}

// replyText is the thread reply posted when an episode resolves.
func replyText(t alert.Transition) string {
	start, end := span(t)
	s := fmt.Sprintf("%s %s recovered: %s is %s. The breach lasted %s",
		resolvedEmoji, esc(queueLabel(t)), metricLabel(t.Metric), metric.Format(t.Metric, t.Value), shortDuration(end.Sub(start)))
	if w := worst(t); w != "" {
		s += "; worst " + w
	}
	return clip(s+".", maxFallback)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
