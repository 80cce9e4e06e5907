package config

import (
	"errors"
	"testing"
)

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"queuewatch.yaml", 14, "rules[1].below", `must be a number or "target"`}, `queuewatch.yaml:14: rules[1].below: must be a number or "target"`},
		{Problem{"q.yaml", 0, "listen", "x"}, "q.yaml: listen: x"},
		{Problem{"q.yaml", 3, "", "invalid YAML: y"}, "q.yaml:3: invalid YAML: y"},
		{Problem{"q.yaml", 0, "", "z"}, "q.yaml: z"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsJoinAndUnwrap(t *testing.T) {
	errs := Errors{{"f", 1, "a", "x"}, {"f", 2, "b", "y"}}
	if got, want := errs.Error(), "f:1: a: x\nf:2: b: y"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var p Problem
	var err error = &errs
	if !errors.As(err, &p) || p.Key != "a" {
		t.Errorf("errors.As(Problem) = %v, %+v; want the first problem", errors.As(err, &p), p)
	}
}

// TestProblemsSortedByLine checks that problems come out in file order even
// though rules are validated after the destinations defined below them.
func TestProblemsSortedByLine(t *testing.T) {
	src := `rules:
  - name: r
    metric: nope
    above: 1
destinations:
  - name: d
    type: nope
listen: bad
`
	wantProblems(t, src, nil,
		`queuewatch.yaml:3: rules[0].metric: unknown metric "nope"; known metrics are abandon_rate, alerting, asa, available_agents, interacting, longest_wait, offered, on_queue_agents, service_level, service_level_target, waiting`,
		`queuewatch.yaml:7: destinations[0].type: unknown destination type "nope"; use one of opsgenie, jsm, slack, pagerduty, webhook`,
		`queuewatch.yaml:8: listen: must be host:port, such as 127.0.0.1:8080 or :8080`,
	)
}

func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"a: 1\nb: 2\nc: [1, 2\nd: 4\n", `queuewatch.yaml:3: invalid YAML: did not find expected ',' or ']'`},
		{"a: 1\nb: 2\n\tc: 3\n", `queuewatch.yaml:3: invalid YAML: found a tab character that violates indentation`},
		{"listen: x\nstore: y: z\n", `queuewatch.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"a: 1\nb:\n  - x\n  y: 2\n", `queuewatch.yaml:4: invalid YAML: did not find expected '-' indicator`},
		{"listen: 1\nstore: *nope\n", `queuewatch.yaml:2: invalid YAML: unknown anchor 'nope' referenced`},
		{"listen: 1\nstore: @x\n", `queuewatch.yaml:2: invalid YAML: found character that cannot start any token`},
	}
	for _, tt := range tests {
		wantProblems(t, tt.src, nil, tt.want)
	}
}

func TestEditDistanceSuggestions(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"clear_fr", `unknown key; did you mean "clear_for"?`},
		{"Metric", `unknown key; did you mean "metric"?`},
		{"notfy", `unknown key; did you mean "notify"?`},
		{"api_key_fil", `unknown key; did you mean "api_key_file"?`},
		{"completely_different", "unknown key; known keys are metric, notify, clear_for, api_key, api_key_file"},
	}
	known := []string{"metric", "notify", "clear_for", "api_key", "api_key_file"}
	for _, tt := range tests {
		if got := unknownKeyMsg(tt.key, known); got != tt.want {
			t.Errorf("unknownKeyMsg(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}
