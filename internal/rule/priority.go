package rule

import "fmt"

// Priority is an OpsGenie-style priority, P1 (most urgent) to P5.
type Priority string

// Priorities.
const (
	P1 Priority = "P1"
	P2 Priority = "P2"
	P3 Priority = "P3"
	P4 Priority = "P4"
	P5 Priority = "P5"
)

// ParsePriority accepts "P1".."P5" (case-insensitive).
func ParsePriority(s string) (Priority, error) {
	if len(s) == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '5' {
		return Priority("P" + s[1:]), nil
	}
	return "", fmt.Errorf("priority %q is not one of P1, P2, P3, P4, P5", s)
}

// Rank orders priorities: P1 ranks 1, P5 ranks 5; lower is more urgent.
// An empty priority ranks 6.
func (p Priority) Rank() int {
	if len(p) == 2 {
		return int(p[1] - '0')
	}
	return 6
}
