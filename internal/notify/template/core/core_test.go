package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func sample(action string) Data {
	for _, d := range Samples() {
		if d.Action == action {
			return d
		}
	}
	panic("no sample for " + action)
}

func TestFuncs(t *testing.T) {
	d := sample("update")
	d.Queue.Name = "Support - Voice"
	d.Note = "  spaced  "
	tests := []struct {
		name, text, want string
	}{
		{"upper", `{{upper .Queue.Name}}`, "SUPPORT - VOICE"},
		{"lower", `{{.Priority | lower}}`, "p1"},
		{"trim", `[{{trim .Note}}]`, "[spaced]"},
		{"truncate cuts", `{{truncate 8 .Queue.Name}}`, "Support…"},
		{"truncate keeps", `{{.Rule | truncate 50}}`, "sla_breach"},
		{"truncate zero", `[{{truncate 0 .Rule}}]`, "[]"},
		{"truncate multibyte", `{{truncate 3 "äöüß"}}`, "äö…"},
		{"default empty", `{{.Reason | default "none"}} {{"" | default "none"}}`, "level 2 reached none"},
		{"default blank", `{{"  " | default "none"}}`, "none"},
		{"default zero number", `{{0.0 | default "n/a"}} {{.Target | default "n/a"}}`, "n/a 80"},
		{"default zero time", `{{.Episode.End | default "open"}}`, "open"},
		{"duration of a duration", `{{duration .Episode.Duration}}`, "9m"},
		{"duration seconds", `{{duration 45}} {{duration 3900}} {{duration 180000.0}}`, "45s 1h05m 2d2h"},
		{"duration negative", `{{duration -90}}`, "-1m"},
		{"since zero", `{{since .Episode.End}}`, "0s"},
		{"builtin printf", `{{printf "%.0f" .Value}}`, "55"},
		{"branch on action", `{{if eq .Action "resolve"}}ok{{else}}{{.PrevPriority}}→{{.Priority}}{{end}}`, "P2→P1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := parse("t", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := execute(tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSince(t *testing.T) {
	got := since(time.Now().Add(-2 * time.Hour))
	if got < 2*time.Hour || got > 2*time.Hour+time.Minute || got%time.Second != 0 {
		t.Errorf("since 2h ago = %v", got)
	}
	if got := since(time.Now().Add(time.Hour)); got != 0 {
		t.Errorf("since a future time = %v, want 0", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // a part of the error; "" for none
	}{
		{"plain text", "queue alert", ""},
		{"every field", `{{.Action}} {{.Queue.ID}} {{.Queue.Name}} {{.Queue.MediaType}} {{.Rule}} {{.Metric}} {{.Value}} {{.ValueText}} {{.Threshold}} {{.ThresholdText}} {{.Target}} {{.Priority}} {{.PrevPriority}} {{.Reason}} {{.Note}} {{.Episode.ID}} {{.Episode.Start}} {{.Episode.End}} {{.Episode.Worst}} {{.Episode.WorstText}} {{.Episode.Duration}} {{.DashboardURL}} {{.QueueURL}}`, ""},
		{"every function", `{{upper "a"}}{{lower "A"}}{{trim " a "}}{{truncate 3 "abcd"}}{{default "x" ""}}{{since .Episode.Start}}{{duration .Episode.Duration}}`, ""},
		{"unknown function", `{{bogus .Rule}}`, `function "bogus" not defined`},
		{"syntax", `{{.Rule`, `unclosed action`},
		{"unknown field", `{{.Queue.Nme}}`, `can't evaluate field Nme`},
		{"unknown top field", `{{.Severity}}`, `can't evaluate field Severity`},
		{"wrong argument", `{{duration .Queue.Name}}`, `want a duration or a number of seconds`},
		{"wrong argument count", `{{truncate .Rule}}`, `wrong number of args`},
		{"error only on resolve", `{{if eq .Action "resolve"}}{{.Closed}}{{end}}`, `can't evaluate field Closed`},
		{"too long", `{{printf "%070000d" 0}}`, `renders more than`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("title", tc.text)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("Check accepted %q", tc.text)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("Check error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	s, err := Parse("", " \n")
	if s != nil || err != nil {
		t.Errorf("Parse of empty texts = %v, %v; want nil, nil", s, err)
	}

	s, err = Parse("{{.Rule}}", "")
	if err != nil || !s.HasTitle() || s.HasDescription() {
		t.Errorf("Parse(title only) = %+v, %v", s, err)
	}

	_, err = Parse("{{bogus}}", "{{.Nope}}")
	if err == nil {
		t.Fatal("Parse accepted two bad templates")
	}
	for _, want := range []string{`template: title:1: function "bogus" not defined`, `template: description:1:2: executing "description" at <.Nope>`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSetRender(t *testing.T) {
	d := sample("create")
	weird := d
	weird.Action = "weird"
	// fails only for an action no sample has, so Parse accepts it.
	const failsOnWeird = `{{if eq .Action "weird"}}{{.Missing}}{{end}}`

	tests := []struct {
		name               string
		title, description string
		data               Data
		wantTitle, wantDsc string
		wantErr            bool
	}{
		{name: "no templates", data: d, wantTitle: "fallback title", wantDsc: "fallback description"},
		{name: "title only", title: "{{.Priority}} {{.Queue.Name}} {{.ValueText}}", data: d,
			wantTitle: "P2 Support 71.5%", wantDsc: "fallback description"},
		{name: "description only", description: "Queue {{.Queue.Name}} is at {{.ValueText}}.\n", data: d,
			wantTitle: "fallback title", wantDsc: "Queue Support is at 71.5%."},
		{name: "title is one line", title: "{{.Queue.Name}}\n  {{.Rule}}\t!\n", data: d,
			wantTitle: "Support sla_breach !", wantDsc: "fallback description"},
		{name: "empty title falls back", title: "{{if .Note}}{{.Note}}{{end}}", description: "{{.Note}}", data: d,
			wantTitle: "fallback title", wantDsc: ""},
		{name: "execution error falls back", title: failsOnWeird, data: weird,
			wantTitle: "fallback title", wantDsc: "fallback description", wantErr: true},
		{name: "description execution error falls back", description: "x" + failsOnWeird, data: weird,
			wantTitle: "fallback title", wantDsc: "fallback description", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.title, tc.description)
			if err != nil {
				t.Fatal(err)
			}
			title, terr := s.Title(tc.data, "fallback title")
			dsc, derr := s.Description(tc.data, "fallback description")
			if title != tc.wantTitle {
				t.Errorf("Title = %q, want %q", title, tc.wantTitle)
			}
			if dsc != tc.wantDsc {
				t.Errorf("Description = %q, want %q", dsc, tc.wantDsc)
			}
			if gotErr := errors.Join(terr, derr) != nil; gotErr != tc.wantErr {
				t.Errorf("errors = %v, %v; want an error: %v", terr, derr, tc.wantErr)
			}
		})
	}
}

func TestSamplesCoverActions(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Samples() {
		seen[d.Action] = true
		if d.Queue.Name == "" || d.ValueText == "" || d.Episode.ID == "" || d.DashboardURL == "" {
			t.Errorf("sample %s leaves fields empty: %+v", d.Action, d)
		}
	}
	for _, a := range []string{"create", "update", "resolve"} {
		if !seen[a] {
			t.Errorf("no sample for %s", a)
		}
	}
}
