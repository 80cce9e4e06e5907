package opsgenie

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify/template"
)

func TestTemplates(t *testing.T) {
	const builtIn = "ALARM: Queue Support - Voice service_level is 70% (threshold 80%)"
	// boom fails only for a queue named Boom, so Parse accepts it.
	const boom = `{{if eq .Queue.Name "Boom"}}{{.Missing}}{{end}}`
	tests := []struct {
		name               string
		title, description string
		queue              string
		wantMessage        string
		wantDescription    func(string) bool
		wantNote           string // part of the receipt's note and the log
	}{
		{
			name:        "templates applied",
			title:       "{{.Priority}} {{.Queue.Name}}: {{.Metric}} {{.ValueText}} < {{.ThresholdText}}",
			description: "Breach of {{.Rule}} since {{.Episode.Start.Format \"15:04\"}}.\nDashboard: {{.DashboardURL}}\n",
			wantMessage: "P2 Support - Voice: service_level 70% < 80%",
			wantDescription: func(s string) bool {
				return s == "Breach of sla_breach since 05:36.\nDashboard: https://qw.example.com/?alert=3f0c8d1e-0000-4000-8000-000000000001_sla_breach"
			},
		},
		{
			name:            "title cut to 130 with an ellipsis",
			title:           `{{.Queue.Name}} {{printf "%0200d" 0}}`,
			wantMessage:     "Support - Voice " + strings.Repeat("0", 130-len("Support - Voice ")-1) + "…",
			wantDescription: func(s string) bool { return strings.HasPrefix(s, "Queue Support - Voice breached rule sla_breach.") },
		},
		{
			name:            "description cut to its limit",
			description:     `{{printf "%020000d" 0}}`,
			wantMessage:     builtIn,
			wantDescription: func(s string) bool { return runes(s) == maxDescription && strings.HasSuffix(s, "0…") },
		},
		{
			name:            "failing title sends the built-in text",
			title:           boom,
			description:     "Queue {{.Queue.Name}}",
			queue:           "Boom",
			wantMessage:     "ALARM: Queue Boom service_level is 70% (threshold 80%)",
			wantDescription: func(s string) bool { return s == "Queue Boom" },
			wantNote:        "title template failed, sent the built-in text: template: title:1:30: executing \"title\" at <.Missing>",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := template.Parse(tc.title, tc.description)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			f := newFixture(t, func(c *Config) {
				c.Templates = set
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			tr := transition(alert.ActionCreate)
			if tc.queue != "" {
				tr.QueueName = tc.queue
			}
			r := f.mustSend(t, tr)
			alerts := f.fake.Alerts()
			if len(alerts) != 1 {
				t.Fatalf("alerts %+v", alerts)
			}
			a := alerts[0]
			if a.Message != tc.wantMessage {
				t.Errorf("message\n%q\nwant\n%q", a.Message, tc.wantMessage)
			}
			if runes(a.Message) > maxMessage {
				t.Errorf("message has %d characters", runes(a.Message))
			}
			if !tc.wantDescription(a.Description) {
				t.Errorf("description %q", truncate(a.Description, 300))
			}
			if runes(a.Description) > maxDescription {
				t.Errorf("description has %d characters", runes(a.Description))
			}
			if tc.wantNote == "" {
				if strings.Contains(r.Note, "template") || logs.Len() > 0 {
					t.Errorf("note %q, logs %q; want no template failure", r.Note, logs.String())
				}
				return
			}
			if !strings.Contains(r.Note, tc.wantNote) {
				t.Errorf("note %q\nwant it to contain %q", r.Note, tc.wantNote)
			}
			if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "destination=oncall") || !strings.Contains(l, "template=title") {
				t.Errorf("logs %q", l)
			}
		})
	}
}

// TestTemplatesOnlyOnCreate checks that updates and resolves keep their
// notes when templates are set.
func TestTemplatesOnlyOnCreate(t *testing.T) {
	set, err := template.Parse("custom {{.Action}}", "custom")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Templates = set })
	f.mustSend(t, transition(alert.ActionCreate))
	f.mustSend(t, resolved())
	a := f.fake.Alerts()[0]
	if a.Message != "custom create" || a.Status != "closed" {
		t.Errorf("alert %+v", a)
	}
}
