package slack

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// maxStormLines is how many queues a storm summary lists by name.
const maxStormLines = 15

// severity is how far a value is past its threshold, relative to the
// threshold, for ranking the worst queues. The rule's direction is read from
// where its clear level lies (above the threshold for "below" rules).
func severity(t alert.Transition) float64 {
	below := t.Clear > t.Threshold || (t.Clear == t.Threshold && t.Value < t.Threshold)
	d := t.Value - t.Threshold
	if below {
		d = -d
	}
	return d / math.Max(math.Abs(t.Threshold), 1)
}

// prioRank orders priorities P1 first, none last.
func prioRank(p alert.Priority) int {
	if len(p) == 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '9' {
		return int(p[1] - '0')
	}
	return 10
}

// rankedBefore reports whether a ranks before b in a summary: firing first,
// then by priority, then worst first; resolved ones after, in joining order.
func rankedBefore(a, b *stormEntry) bool {
	if a.firing != b.firing {
		return a.firing
	}
	if !a.firing {
		return a.seq < b.seq
	}
	if pa, pb := prioRank(a.t.Priority), prioRank(b.t.Priority); pa != pb {
		return pa < pb
	}
	if sa, sb := severity(a.t), severity(b.t); sa != sb {
		return sa > sb
	}
	return a.key < b.key
}

// ranked returns the first k of a storm's entries in rank order
// (rankedBefore), without sorting them all: a storm of thousands of queues
// is rendered on every edit, and only its first lines are shown.
func (s *storm) ranked(k int) []*stormEntry {
	top := make([]*stormEntry, 0, k+1)
	for _, e := range s.entries {
		if len(top) == k && !rankedBefore(e, top[k-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return rankedBefore(e, top[i]) })
		top = slices.Insert(top, i, e)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

// all returns a storm's entries in no particular order.
func (s *storm) all() []*stormEntry {
	out := make([]*stormEntry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	return out
}

// tally renders "name count · name count" for the counts of the firing
// entries by key(entry), biggest first, or by less when it is not nil.
func tally(es []*stormEntry, key func(*stormEntry) string, less func(a, b string) bool) string {
	counts := map[string]int{}
	for _, e := range es {
		if e.firing {
			counts[key(e)]++
		}
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if less != nil {
			return less(names[i], names[j])
		}
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for i, k := range names {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("+%d more", len(names)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", esc(clip(k, maxLabel)), counts[k]))
	}
	return strings.Join(parts, " · ")
}

// stormLine renders one queue of the list.
func (n *Notifier) stormLine(e *stormEntry) string {
	t := e.t
	label := "*" + esc(queueLabel(t)) + "*"
	if e.firing {
		start, _ := span(t)
		return fmt.Sprintf("• :red_circle: %s — %s · %s · since %s",
			label, reading(t), orNone(string(t.Priority)), start.UTC().Format("15:04 UTC"))
	}
	start, end := span(t)
	s := fmt.Sprintf("• %s %s recovered after %s", resolvedEmoji, label, shortDuration(end.Sub(start)))
	if w := worst(t); w != "" {
		s += " (worst " + w + ")"
	}
	return s
}

// renderStorm renders a storm summary within Block Kit's limits.
func (n *Notifier) renderStorm(s *storm) view {
	es, top := s.all(), s.ranked(maxStormLines)
	firing, resolved := s.counts()
	now := n.now()
	var head, text string
	if firing > 0 {
		head = fmt.Sprintf("%s Queue storm: %d queues breaching", firingEmoji, firing)
		if resolved > 0 {
			head += fmt.Sprintf(", %d recovered", resolved)
		}
	} else {
		head = fmt.Sprintf("%s Queue storm over: all %d queues recovered after %s", resolvedEmoji, resolved, shortDuration(now.Sub(s.started)))
		if s.restored {
			head = fmt.Sprintf("%s Queue storm: %d queues recovered", resolvedEmoji, resolved)
		}
	}
	text = head

	var summary []string
	if firing > 0 {
		summary = append(summary,
			"*By rule:* "+tally(es, func(e *stormEntry) string { return e.t.Rule }, nil),
			"*By priority:* "+tally(es, func(e *stormEntry) string { return orNone(string(e.t.Priority)) }, func(a, b string) bool {
				return prioRank(alert.Priority(a)) < prioRank(alert.Priority(b))
			}))
	}
	summary = append(summary, fmt.Sprintf("*Started* %s · *updated* %s", slackDate(s.started), slackDate(now)))

	title := "*Worst queues*"
	if firing == 0 {
		title = "*Queues*"
	}
	list, shown := []string{title}, 0
	size := utf8.RuneCountInString(title)
	shownResolved := 0
	for _, e := range top {
		line := n.stormLine(e)
		if size+1+utf8.RuneCountInString(line) > maxSectionText-60 {
			break
		}
		list = append(list, line)
		size += 1 + utf8.RuneCountInString(line)
		shown++
		if !e.firing {
			shownResolved++
		}
	}
	if more := len(es) - shown; more > 0 {
		moreResolved := resolved - shownResolved
		line := fmt.Sprintf("+%d more", more)
		if moreResolved > 0 {
			line += fmt.Sprintf(" (%d recovered)", moreResolved)
		}
		list = append(list, line)
	}
	var worstNames []string
	for _, e := range top[:min(3, len(top))] {
		if e.firing {
			worstNames = append(worstNames, esc(queueLabel(e.t))+" "+metric.Format(e.t.Metric, e.t.Value))
		}
	}
	if len(worstNames) > 0 {
		text += " — worst: " + strings.Join(worstNames, ", ")
	}

	note := fmt.Sprintf("Storm mode: %d alerts for this channel are combined into this one message; each queue's changes edit it.", len(es))
	if s.restored {
		note += " Rebuilt after a restart: lists only queues that changed since."
	}
	blocks := []block{header(head), section(strings.Join(summary, "\n")), section(strings.Join(list, "\n")), contextLine(note)}
	if n.cfg.PublicURL != "" {
		if b, ok := actions("Open dashboard", strings.TrimRight(n.cfg.PublicURL, "/")+"/"); ok {
			blocks = append(blocks, b)
		}
	}
	return view{text: clip(text, maxFallback), blocks: blocks}
}

// stormReplyText is the thread reply posted when every queue of a storm
// has recovered.
func (n *Notifier) stormReplyText(s *storm) string {
	_, resolved := s.counts()
	if s.restored {
		return fmt.Sprintf("%s All %d queues that changed since the restart have recovered.", resolvedEmoji, resolved)
	}
	return fmt.Sprintf("%s All %d queues recovered; the storm lasted %s.", resolvedEmoji, resolved, shortDuration(n.now().Sub(s.started)))
}
