package config

import (
	"errors"
	"testing"
)

// env returns a lookup function over the given NAME, value pairs.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// problems parses src and returns the rendered problems, or nil when it is
// valid.
func problems(t *testing.T, src string, lookup func(string) (string, bool)) (*Config, []string) {
	t.Helper()
	c, err := Parse("queuewatch.yaml", []byte(src), lookup)
	if err == nil {
		if c == nil {
			t.Fatal("Parse returned neither a Config nor an error")
		}
		return c, nil
	}
	if c != nil {
		t.Errorf("Parse returned a Config along with an error")
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse returned %T, want *Errors: %v", err, err)
	}
	out := make([]string, len(*errs))
	for i, p := range *errs {
		out[i] = p.Error()
	}
	return nil, out
}

// mustParse parses src and fails the test on any problem.
func mustParse(t *testing.T, src string, lookup func(string) (string, bool)) *Config {
	t.Helper()
	c, probs := problems(t, src, lookup)
	if probs != nil {
		t.Fatalf("unexpected problems:\n%s", joinLines(probs))
	}
	return c
}

// wantProblem parses src and checks that exactly the problems in want
// are reported, in that order.
func wantProblems(t *testing.T, src string, lookup func(string) (string, bool), want ...string) {
	t.Helper()
	_, got := problems(t, src, lookup)
	if !equalLines(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", joinLines(got), joinLines(want))
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return "  (none)"
	}
	s := ""
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s
}
