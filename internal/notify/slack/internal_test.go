package slack

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 4, "abc…"},
		{"ab&amp;cd", 5, "ab…"},
		{"ab <!date^1^x|y> cd", 10, "ab …"},
		{"ééééé", 3, "éé…"},
	}
	for _, tc := range tests {
		if got := clip(tc.in, tc.max); got != tc.want || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	tests := map[time.Duration]string{
		-time.Second: "0s", 45 * time.Second: "45s", 12 * time.Minute: "12m",
		65 * time.Minute: "1h05m", 50 * time.Hour: "2d2h",
	}
	for d, want := range tests {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   *store.Ref
		want msgRef
		ok   bool
	}{
		{nil, msgRef{}, false},
		{&store.Ref{Value: "C1/1700000000.000100"}, msgRef{Channel: "C1", TS: "1700000000.000100"}, true},
		{&store.Ref{Value: `{"channel":"C1","ts":"1.2","storm":true}`}, msgRef{Channel: "C1", TS: "1.2", Storm: true}, true},
		{&store.Ref{Value: "nothing"}, msgRef{}, false},
		{&store.Ref{Value: "C1/"}, msgRef{Channel: "C1"}, false},
		{&store.Ref{Value: "{bad"}, msgRef{}, false},
	}
	for _, tc := range tests {
		got, ok := parseRef(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseRef(%v) = %+v %v", tc.in, got, ok)
		}
		if ok {
			back, _ := parseRef(&store.Ref{Value: got.String()})
			if back != got {
				t.Errorf("round trip %+v → %q → %+v", got, got.String(), back)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSeverityRanksWorstFirst(t *testing.T) {
	below := alert.Transition{Value: 40, Threshold: 80, Clear: 85}
	lessBelow := alert.Transition{Value: 70, Threshold: 80, Clear: 85}
	above := alert.Transition{Value: 900, Threshold: 300, Clear: 240}
	lessAbove := alert.Transition{Value: 400, Threshold: 300, Clear: 240}
	if severity(below) <= severity(lessBelow) || severity(above) <= severity(lessAbove) {
		t.Fatalf("severity order wrong: %v %v %v %v", severity(below), severity(lessBelow), severity(above), severity(lessAbove))
	}
}

func TestEscape(t *testing.T) {
	if got := esc("a<b>&c"); got != "a&lt;b&gt;&amp;c" || strings.ContainsAny(got, "<>") {
		t.Fatalf("esc = %q", got)
	}
}
