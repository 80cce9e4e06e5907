package pagerduty_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify/pagerduty"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/store"
)

func TestTemplates(t *testing.T) {
	const builtIn = "[P2] Queue Billing DE: service_level is 62.5% (threshold 80%)"
	// boom fails only for a queue named Boom, so Parse accepts it.
	const boom = `{{if eq .Queue.Name "Boom"}}{{.Missing}}{{end}}`
	tests := []struct {
		name        string
		title       string
		action      alert.Action
		edit        func(*store.Delivery)
		wantSummary func(string) bool
		wantNote    string // part of the receipt's note and the log
	}{
		{
			name:        "title applied",
			title:       "{{.Queue.Name | upper}} {{.Metric}} {{.ValueText}} < {{.ThresholdText}} ({{.Priority}}, {{.Action}})",
			action:      alert.ActionCreate,
			wantSummary: func(s string) bool { return s == "BILLING DE service_level 62.5% < 80% (P2, create)" },
		},
		{
			name:        "title applied to updates",
			title:       "{{.PrevPriority}} → {{.Priority}}: {{.Reason}}",
			action:      alert.ActionUpdate,
			edit:        func(d *store.Delivery) { d.Transition.PrevPriority, d.Transition.Reason = alert.P3, "level 2" },
			wantSummary: func(s string) bool { return s == "P3 → P2: level 2" },
		},
		{
			name:   "summary cut to 1024 with an ellipsis",
			title:  `{{.Queue.Name}} {{printf "%02000d" 0}}`,
			action: alert.ActionCreate,
			wantSummary: func(s string) bool {
				return utf8.RuneCountInString(s) == pagerduty.MaxSummary && strings.HasPrefix(s, "Billing DE 000") && strings.HasSuffix(s, "0…")
			},
		},
		{
			name:        "blank title keeps the built-in summary",
			title:       "{{.Note}}",
			action:      alert.ActionCreate,
			wantSummary: func(s string) bool { return s == builtIn },
		},
		{
			name:        "failing title sends the built-in summary",
			title:       boom,
			action:      alert.ActionCreate,
			edit:        func(d *store.Delivery) { d.Transition.QueueName = "Boom" },
			wantSummary: func(s string) bool { return s == "[P2] Queue Boom: service_level is 62.5% (threshold 80%)" },
			wantNote:    "title template failed, sent the built-in summary: template: title:1:30: executing \"title\" at <.Missing>",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := template.Parse(tc.title, "")
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			fake, n := setup(t, func(c *pagerduty.Config) {
				c.Templates = set
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			d := delivery(1, tc.action, alert.P2)
			if tc.edit != nil {
				tc.edit(&d)
			}
			r := mustSend(t, n, d)
			incs := fake.Incidents()
			if len(incs) != 1 || len(incs[0].Events) != 1 {
				t.Fatalf("incidents %+v", incs)
			}
			if s := incs[0].Events[0].Payload.Summary; !tc.wantSummary(s) {
				t.Errorf("summary %q", s)
			}
			if tc.wantNote == "" {
				if r.Note != "Event processed" || logs.Len() > 0 {
					t.Errorf("note %q, logs %q; want no template failure", r.Note, logs.String())
				}
				return
			}
			if !strings.HasPrefix(r.Note, "Event processed; ") || !strings.Contains(r.Note, tc.wantNote) {
				t.Errorf("note %q\nwant it to contain %q", r.Note, tc.wantNote)
			}
			if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "destination=pd") || strings.Contains(l, routingKey) {
				t.Errorf("logs %q", l)
			}
		})
	}
}

// TestTemplatesLeaveResolves checks that a resolve, which has no payload,
// is sent as before when templates are set.
func TestTemplatesLeaveResolves(t *testing.T) {
	set, err := template.Parse("custom", "")
	if err != nil {
		t.Fatal(err)
	}
	fake, n := setup(t, func(c *pagerduty.Config) { c.Templates = set })
	mustSend(t, n, delivery(1, alert.ActionCreate, alert.P2))
	mustSend(t, n, delivery(2, alert.ActionResolve, alert.P2))
	in := fake.Incidents()[0]
	if in.Events[0].Payload.Summary != "custom" || in.Last().Action != "resolve" || in.Last().Payload != nil {
		t.Errorf("incident %+v", in)
	}
}
