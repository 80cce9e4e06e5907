package slack

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Block Kit limits (notify-apis.md §3.4), and the notifier's own budgets.
const (
	maxBlocks      = 50
	maxHeaderText  = 150
	maxSectionText = 3000
	maxFields      = 10
	maxFieldText   = 2000
	maxButtonText  = 75
	maxButtonURL   = 3000
	maxContextText = 2000
	// maxFallback keeps the top-level text well under chat.update's 4,000
	// characters (and Slack's advice for chat.postMessage).
	maxFallback = 3000
	// maxLabel caps a queue label inside longer lines.
	maxLabel = 100
	// maxNote caps the reason and note of a transition.
	maxNote = 1200
)

// textObj is a Block Kit text object.
type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// block is the subset of Block Kit blocks the notifier sends.
type block struct {
	Type     string    `json:"type"`
	Text     *textObj  `json:"text,omitempty"`
	Fields   []textObj `json:"fields,omitempty"`
	Elements []any     `json:"elements,omitempty"`
}

// button is a link button of an actions block.
type button struct {
	Type     string  `json:"type"`
	Text     textObj `json:"text"`
	ActionID string  `json:"action_id"`
	URL      string  `json:"url"`
}

// view is a rendered message: the blocks and the plain-text fallback.
type view struct {
	text   string
	blocks []block
	// note reports a template that failed, for the delivery log.
	note string
}

func header(s string) block {
	return block{Type: "header", Text: &textObj{Type: "plain_text", Text: clip(s, maxHeaderText), Emoji: true}}
}

func section(mrkdwn string) block {
	return block{Type: "section", Text: &textObj{Type: "mrkdwn", Text: clip(mrkdwn, maxSectionText)}}
}

func fields(fs ...string) block {
	b := block{Type: "section"}
	for _, f := range fs {
		if f != "" && len(b.Fields) < maxFields {
			b.Fields = append(b.Fields, textObj{Type: "mrkdwn", Text: clip(f, maxFieldText)})
		}
	}
	return b
}

func contextLine(mrkdwn string) block {
	return block{Type: "context", Elements: []any{textObj{Type: "mrkdwn", Text: clip(mrkdwn, maxContextText)}}}
}

// actions returns an actions block with a link button per non-empty URL of
// the pairs (label, url), or false when there is none.
func actions(pairs ...string) (block, bool) {
	b := block{Type: "actions"}
	for i := 0; i+1 < len(pairs); i += 2 {
		label, u := pairs[i], pairs[i+1]
		if !linkable(u) {
			continue
		}
		b.Elements = append(b.Elements, button{
			Type:     "button",
			Text:     textObj{Type: "plain_text", Text: clip(label, maxButtonText)},
			ActionID: "link_" + strings.ToLower(strings.ReplaceAll(label, " ", "_")),
			URL:      u,
		})
	}
	return b, len(b.Elements) > 0
}

// linkable reports whether u can be a button URL: absolute http(s) and
// within Slack's length limit.
func linkable(u string) bool {
	if u == "" || len(u) > maxButtonURL {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// esc escapes text for mrkdwn: Slack requires &, < and > as entities.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip shortens s to at most max characters, ending in "…", without cutting
// an entity (&amp;) or a Slack token (<…>) in half.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	if i := strings.LastIndexByte(cut, '<'); i >= 0 && !strings.Contains(cut[i:], ">") {
		cut = cut[:i]
	}
	return cut + "…"
}

// slackDate renders t as a Slack date token, shown in each reader's time
// zone, with a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// shortDuration renders d the way people say it: "45s", "12m", "1h05m", "2d3h".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(d, 0)/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	default:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
}
