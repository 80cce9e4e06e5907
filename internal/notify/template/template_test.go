package template

import (
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

var start = time.Date(2026, 3, 30, 5, 36, 0, 0, time.UTC)

func breach() alert.Transition {
	return alert.Transition{
		Key: "q1_long_wait_voice", Rule: "long_wait", QueueID: "q1", QueueName: "Billing", MediaType: "voice",
		Metric: metric.LongestWait, At: start.Add(7 * time.Minute), Action: alert.ActionUpdate,
		Reason: "level 2 reached", Value: 250, Threshold: 240, Priority: alert.P1, PrevPriority: alert.P3,
		Note:    "flapping",
		Episode: &alert.Episode{ID: "ep1", Start: start, Worst: 310, WorstAt: start.Add(5 * time.Minute)},
	}
}

func TestFromTransition(t *testing.T) {
	queueURL := func(id string) string { return "https://admin.example.com/queues/" + id }
	tests := []struct {
		name  string
		edit  func(*alert.Transition)
		env   Env
		check func(t *testing.T, d Data)
	}{
		{
			name: "every field",
			env:  Env{PublicURL: "https://qw.example.com/", QueueURL: queueURL},
			check: func(t *testing.T, d Data) {
				want := Data{
					Action: "update", Queue: Queue{ID: "q1", Name: "Billing", MediaType: "voice"}, Rule: "long_wait",
					Metric: "longest_wait", Value: 250, ValueText: "4m10s", Threshold: 240, ThresholdText: "4m0s",
					Priority: "P1", PrevPriority: "P3", Reason: "level 2 reached", Note: "flapping",
					Episode:      Episode{ID: "ep1", Start: start, Worst: 310, WorstText: "5m10s", Duration: 7 * time.Minute},
					DashboardURL: "https://qw.example.com/?alert=q1_long_wait_voice",
					QueueURL:     "https://admin.example.com/queues/q1",
				}
				if d != want {
					t.Errorf("got  %+v\nwant %+v", d, want)
				}
			},
		},
		{
			name: "percent metric with target",
			edit: func(tr *alert.Transition) {
				tr.Metric, tr.Value, tr.Threshold, tr.Target = metric.ServiceLevel, 71.5, 75, 80
			},
			check: func(t *testing.T, d Data) {
				if d.ValueText != "71.5%" || d.ThresholdText != "75%" || d.Target != 80 || d.Episode.WorstText != "310%" {
					t.Errorf("texts = %q %q %v %q", d.ValueText, d.ThresholdText, d.Target, d.Episode.WorstText)
				}
			},
		},
		{
			name: "no queue name uses the id",
			edit: func(tr *alert.Transition) { tr.QueueName = " " },
			check: func(t *testing.T, d Data) {
				if d.Queue.Name != "q1" {
					t.Errorf("Queue.Name = %q, want q1", d.Queue.Name)
				}
			},
		},
		{
			name: "no episode",
			edit: func(tr *alert.Transition) { tr.Episode = nil },
			check: func(t *testing.T, d Data) {
				if d.Episode != (Episode{}) {
					t.Errorf("Episode = %+v, want zero", d.Episode)
				}
			},
		},
		{
			name: "ended episode runs to its end",
			edit: func(tr *alert.Transition) {
				tr.Action, tr.Episode.End, tr.At = alert.ActionResolve, start.Add(12*time.Minute), start.Add(13*time.Minute)
			},
			check: func(t *testing.T, d Data) {
				if d.Action != "resolve" || d.Episode.Duration != 12*time.Minute || !d.Episode.End.Equal(start.Add(12*time.Minute)) {
					t.Errorf("Action %q, Episode %+v", d.Action, d.Episode)
				}
			},
		},
		{
			name: "no transition time uses the clock",
			edit: func(tr *alert.Transition) { tr.At = time.Time{} },
			env:  Env{Now: func() time.Time { return start.Add(time.Hour) }},
			check: func(t *testing.T, d Data) {
				if d.Episode.Duration != time.Hour {
					t.Errorf("Duration = %v, want 1h", d.Episode.Duration)
				}
			},
		},
		{
			name: "the delivery's action wins",
			env:  Env{Action: alert.ActionCreate},
			check: func(t *testing.T, d Data) {
				if d.Action != "create" {
					t.Errorf("Action = %q, want create", d.Action)
				}
			},
		},
		{
			name: "no links configured",
			check: func(t *testing.T, d Data) {
				if d.DashboardURL != "" || d.QueueURL != "" {
					t.Errorf("links = %q, %q; want none", d.DashboardURL, d.QueueURL)
				}
			},
		},
		{
			name: "key is escaped",
			edit: func(tr *alert.Transition) { tr.Key = "q 1&x" },
			env:  Env{PublicURL: "https://qw.example.com"},
			check: func(t *testing.T, d Data) {
				if d.DashboardURL != "https://qw.example.com/?alert=q+1%26x" {
					t.Errorf("DashboardURL = %q", d.DashboardURL)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := breach()
			if tc.edit != nil {
				tc.edit(&tr)
			}
			tc.check(t, FromTransition(tr, tc.env))
		})
	}
}

// TestRenderTransition renders a real transition through a parsed Set.
func TestRenderTransition(t *testing.T) {
	s, err := Parse(
		`[{{.Priority}}] {{.Queue.Name}}/{{.Queue.MediaType}} {{.Metric}} {{.ValueText}} > {{.ThresholdText}}`,
		`Worst {{.Episode.WorstText}} after {{duration .Episode.Duration}}.{{with .Note}} {{upper .}}{{end}}`,
	)
	if err != nil {
		t.Fatal(err)
	}
	d := FromTransition(breach(), Env{})
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"title", func() (string, error) { return s.Title(d, "x") }, "[P1] Billing/voice longest_wait 4m10s > 4m0s"},
		{"description", func() (string, error) { return s.Description(d, "x") }, "Worst 5m10s after 7m. FLAPPING"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if FuncMap()["truncate"] == nil {
		t.Error("FuncMap has no truncate")
	}
	if err := Check("title", "{{.Nope}}"); err == nil {
		t.Error("Check accepted an unknown field")
	}
}
