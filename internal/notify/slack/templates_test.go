package slack_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/store"
)

func TestTemplates(t *testing.T) {
	// boom fails only for a queue named Boom, so Parse accepts it.
	const boom = `{{if eq .Queue.Name "Boom"}}{{.Missing}}{{end}}`
	tests := []struct {
		name               string
		title, description string
		action             alert.Action
		edit               func(*store.Delivery)
		wantHeader         func(string) bool
		wantBody           func(string) bool
		wantNote           string // part of the receipt's note and the log
	}{
		{
			name:        "templates applied on create",
			title:       ":fire: {{.Priority}} {{.Queue.Name}} {{.ValueText}}",
			description: "*{{.Rule}}*: {{.Reason}}\nSee {{.DashboardURL}}",
			action:      alert.ActionCreate,
			wantHeader:  func(s string) bool { return s == ":fire: P1 Support 006 - Voice 70%" },
			wantBody: func(s string) bool {
				return s == "*sla_breach*: service level below 80% for 1m\nSee https://queuewatch.example.com/?alert=q006_sla_breach"
			},
		},
		{
			name:       "templates see the resolve",
			title:      `{{if eq .Action "resolve"}}:white_check_mark: {{.Queue.Name}} after {{duration .Episode.Duration}}{{else}}x{{end}}`,
			action:     alert.ActionResolve,
			wantHeader: func(s string) bool { return s == ":white_check_mark: Support 006 - Voice after 1h00m" },
			wantBody:   func(s string) bool { return s == "service level below 80% for 1m" },
		},
		{
			name:        "header and body cut to Slack's limits",
			title:       `{{printf "%0300d" 0}}`,
			description: `{{range 1000}}a&b {{end}}`,
			action:      alert.ActionCreate,
			wantHeader: func(s string) bool {
				return utf8.RuneCountInString(s) == 150 && strings.HasSuffix(s, "0…")
			},
			wantBody: func(s string) bool {
				return utf8.RuneCountInString(s) <= 3000 && strings.HasPrefix(s, "a&amp;b a&amp;b") && strings.HasSuffix(s, "…") && !strings.HasSuffix(s, "&…")
			},
		},
		{
			name:        "body is escaped",
			description: "{{.Queue.Name}}",
			action:      alert.ActionCreate,
			edit:        func(d *store.Delivery) { d.Transition.QueueName = "<!channel> & co" },
			wantHeader:  func(s string) bool { return strings.HasPrefix(s, ":rotating_light: <!channel> & co:") },
			wantBody:    func(s string) bool { return s == "&lt;!channel&gt; &amp; co" },
		},
		{
			name:        "empty description leaves the body out",
			description: "{{.Note}}",
			action:      alert.ActionCreate,
			wantHeader: func(s string) bool {
				return strings.HasPrefix(s, ":rotating_light: Support 006 - Voice: service level 70%")
			},
			wantBody: func(s string) bool { return s == "" },
		},
		{
			name:        "failing templates send the built-in texts",
			title:       boom,
			description: "x" + boom,
			action:      alert.ActionCreate,
			edit:        func(d *store.Delivery) { d.Transition.QueueName = "Boom" },
			wantHeader:  func(s string) bool { return s == ":rotating_light: Boom: service level 70% (target 80%)" },
			wantBody:    func(s string) bool { return s == "service level below 80% for 1m" },
			wantNote:    "title template failed, sent the built-in text: template: title:1:30: executing \"title\" at <.Missing>",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := template.Parse(tc.title, tc.description)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			e := newEnv(t, func(c *slack.Config) {
				c.Templates = set
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			d := newEpisode(6).delivery(tc.action, 70, alert.P1, t0.Add(time.Hour))
			if tc.edit != nil {
				tc.edit(&d)
			}
			r := send(t, e.n, d, nil)
			msgs := e.fake.Messages(fakeslack.DefaultChannel)
			if len(msgs) != 1 || msgs[0].Blocks == nil {
				t.Fatalf("message fell back to plain text or is missing: %+v", msgs)
			}
			checkLimits(t, msgs[0])
			if h := headerOf(t, msgs[0]); !tc.wantHeader(h) {
				t.Errorf("header %q", h)
			}
			// The sections are the fields (which have no text) and the body.
			if b := sectionsOf(t, msgs[0]); !tc.wantBody(b) {
				t.Errorf("body %q", b)
			}
			if tc.wantNote == "" {
				if r.Note != "" || logs.Len() > 0 {
					t.Errorf("note %q, logs %q; want no template failure", r.Note, logs.String())
				}
				return
			}
			if !strings.Contains(r.Note, tc.wantNote) || !strings.Contains(r.Note, "description template failed") {
				t.Errorf("note %q\nwant it to contain %q and the description's failure", r.Note, tc.wantNote)
			}
			if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "destination=cc-slack") {
				t.Errorf("logs %q", l)
			}
		})
	}
}
