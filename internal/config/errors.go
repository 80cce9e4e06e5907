package config

import (
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration file.
//
// Msg never contains the value of a secret.
type Problem struct {
	// File is the configuration file the problem is in.
	File string
	// Line is the 1-based line of the offending key or item, or 0 when the
	// problem concerns the file as a whole.
	Line int
	// Key is the dotted path of the offending key, such as
	// "rules[0].notify[1]" or "destinations[2].api_key", or "" for the file.
	Key string
	// Msg says what is wrong in plain words.
	Msg string
}

// Error renders the problem as "file:line: key: message". The line and the
// key are left out when they are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem found in a configuration file, sorted by line.
// Parse and Load return it as a *Errors; use errors.As with a **Errors
// target to get at the individual problems.
type Errors []Problem

// Error renders one problem per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as individual errors.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, p := range e {
		out[i] = p
	}
	return out
}

// sorted returns the problems ordered by line, keeping the order in which
// problems on the same line were found, with exact duplicates removed.
func (e Errors) sorted() Errors {
	out := make(Errors, 0, len(e))
	seen := make(map[Problem]bool, len(e))
	for _, p := range e {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
