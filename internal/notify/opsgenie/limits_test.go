package opsgenie

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
)

func runes(s string) int { return utf8.RuneCountInString(s) }

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven chars", 10, "eleven ch…"},
		{"trailing  space cut", 10, "trailing…"},
		{"ééééééééééé", 5, "éééé…"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := truncate(tc.in, tc.n); got != tc.want || runes(got) > tc.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestMessageLimit(t *testing.T) {
	tests := []struct {
		name, queue string
		media       string
		want        string
	}{
		{"short", "Support", "", "ALARM: Queue Support service_level is 70% (threshold 80%)"},
		{"media type", "Support", "voice", "ALARM: Queue Support (voice) service_level is 70% (threshold 80%)"},
		{"long name keeps the numbers", strings.Repeat("Billing Germany Premium ", 8), "",
			"ALARM: Queue Billing Germany Premium Billing Germany Premium Billing Germany Premium Billing… service_level is 70% (threshold 80%)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := transition(alert.ActionCreate)
			tr.QueueName, tr.MediaType = tc.queue, tc.media
			got := message(tr)
			if got != tc.want {
				t.Errorf("message\n%q\nwant\n%q", got, tc.want)
			}
			if runes(got) > maxMessage {
				t.Errorf("message has %d characters", runes(got))
			}
		})
	}
}

func TestAliasLimit(t *testing.T) {
	if got := alias("q_r"); got != "q_r" {
		t.Fatal(got)
	}
	long := strings.Repeat("k", 600)
	a, b := alias(long), alias(long+"x")
	if runes(a) != maxAlias || a == b || alias(long) != a {
		t.Fatalf("long aliases must be %d characters, stable and distinct: %q %q", maxAlias, a, b)
	}
}

func TestTags(t *testing.T) {
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("tag-%02d", i)
	}
	got := tags([]string{"queuewatch"}, []string{" queuewatch ", "", strings.Repeat("t", 60)}, many)
	if len(got) != maxTags || got[0] != "queuewatch" || got[1] != strings.Repeat("t", 49)+"…" || got[2] != "tag-00" {
		t.Fatalf("tags %q", got)
	}
	for _, tg := range got {
		if runes(tg) > maxTagLen {
			t.Errorf("tag %q too long", tg)
		}
	}
}

func TestDetailsBudget(t *testing.T) {
	big := strings.Repeat("v", 5000)
	got := details([]entry{
		{key: "queue_id", value: "q1"}, {key: "first", value: big}, {key: "empty"}, {key: "third", value: "small"},
		{key: "second", value: big}, {key: "link", value: "https://x.example/" + big, whole: true}, {key: "quoted", value: strings.Repeat(`"`, 3000)},
	})
	b, _ := json.Marshal(got)
	if runes(string(b)) > maxDetails {
		t.Fatalf("details encode to %d characters", runes(string(b)))
	}
	if got["queue_id"] != "q1" || got["first"] != big || got["third"] != "small" {
		t.Errorf("the most important entries must be kept whole: %v", keys(got))
	}
	if s := got["second"]; !strings.HasSuffix(s, "…") || runes(s) < 2000 {
		t.Errorf("second must be shortened to the rest of the budget, got %d characters", runes(s))
	}
	if _, ok := got["empty"]; ok {
		t.Error("empty values are left out")
	}
	if _, ok := got["quoted"]; ok {
		t.Error("an entry that no longer fits is dropped")
	}
	if _, ok := got["link"]; ok {
		t.Error("a link is dropped rather than cut")
	}
	// Escaping counts: quotes take two characters each in JSON.
	got = details([]entry{{key: "k", value: strings.Repeat(`"`, 9000)}})
	b, _ = json.Marshal(got)
	if n := runes(string(b)); n > maxDetails || n < maxDetails-2 || !strings.HasSuffix(got["k"], "…") {
		t.Fatalf("escaped value encodes to %d characters", n)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLimitsAgainstTheFake sends creates with oversized inputs; the fake
// refuses any field over its limit with 422.
func TestLimitsAgainstTheFake(t *testing.T) {
	huge := strings.Repeat("Ω", 20000)
	tests := []struct {
		name string
		edit func(*Config, *alert.Transition)
	}{
		{"huge queue name", func(_ *Config, tr *alert.Transition) { tr.QueueName = huge }},
		{"huge reason and note", func(_ *Config, tr *alert.Transition) { tr.Reason, tr.Note = huge, huge+huge }},
		{"huge rule and media", func(_ *Config, tr *alert.Transition) { tr.Rule, tr.MediaType = huge, huge }},
		{"huge key", func(_ *Config, tr *alert.Transition) { tr.Key = huge }},
		{"huge public URL", func(c *Config, _ *alert.Transition) { c.PublicURL = "https://x.example/" + huge }},
		{"huge source", func(c *Config, _ *alert.Transition) { c.Source = huge }},
		{"many tags and responders", func(c *Config, _ *alert.Transition) {
			for i := range 60 {
				c.Tags = append(c.Tags, fmt.Sprintf("tag-%d-%s", i, strings.Repeat("x", 60)))
				c.Responders = append(c.Responders, Responder{Type: "team", Name: fmt.Sprint("team-", i)})
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := transition(alert.ActionCreate)
			f := newFixture(t, func(c *Config) { tc.edit(c, &tr) })
			f.mustSend(t, tr)
			a := f.fake.Alerts()
			if len(a) != 1 {
				t.Fatalf("alerts %d", len(a))
			}
			if runes(a[0].Message) > maxMessage || runes(a[0].Entity) > maxEntity || runes(a[0].Description) > maxDescription ||
				len(a[0].Tags) > maxTags || len(a[0].Responders) > maxResponders || runes(a[0].Alias) > maxAlias {
				t.Fatalf("over a limit: %d %d %d %d %d", runes(a[0].Message), runes(a[0].Entity), runes(a[0].Description), len(a[0].Tags), len(a[0].Responders))
			}
			if a[0].Details["queue_id"] == "" {
				t.Error("queue_id must survive the details budget")
			}
			if u := a[0].Details["dashboard_url"]; u != "" && strings.Contains(u, "…") {
				t.Errorf("links must be whole or absent: %s", u)
			}
			tr.Action = alert.ActionUpdate
			tr.PrevPriority, tr.Priority = alert.P2, alert.P1
			f.mustSend(t, tr)
			tr.Action = alert.ActionResolve
			f.mustSend(t, tr)
			if a := f.fake.Alerts(); a[0].Status != "closed" {
				t.Fatalf("not closed: %+v", a[0].Status)
			}
		})
	}
}
