package poll

import (
	"strings"
	"testing"
	"time"
)

func TestMakePlan(t *testing.T) {
	cases := []struct {
		name      string
		queues    int
		budget    int
		interval  time.Duration
		healthy   bool
		requests  int
		effective time.Duration
		stretched bool
	}{
		{"small", 250, 150, 15 * time.Second, false, 6, 15 * time.Second, false},
		{"healthy stream reconciles every minute", 250, 150, 15 * time.Second, true, 6, time.Minute, false},
		{"healthy stream, long interval", 250, 150, 30 * time.Second, true, 6, 2 * time.Minute, false},
		{"5,000 queues on 150", 5000, 150, 15 * time.Second, false, 100, 55 * time.Second, true},
		{"5,000 queues, healthy stream", 5000, 150, 15 * time.Second, true, 100, time.Minute, false},
		{"5,000 queues on 300", 5000, 300, 15 * time.Second, false, 100, 27 * time.Second, true},
		{"20,000 queues on 150", 20000, 150, 15 * time.Second, true, 400, 300 * time.Second, true},
		{"no queue", 0, 150, 15 * time.Second, false, 0, 15 * time.Second, false},
		{"polling off", 100, 150, 0, false, 2, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := makePlan(c.queues, c.budget, 0.8, c.interval, 5*time.Minute, c.healthy)
			if p.RequestsPerPoll != c.requests || p.Effective != c.effective || p.Stretched != c.stretched {
				t.Errorf("plan %+v; want %d requests, every %s, stretched %v", p, c.requests, c.effective, c.stretched)
			}
			if c.effective > 0 && p.PollBudget > 0.8*float64(c.budget) {
				t.Errorf("planned %v of %d for polls", p.PollBudget, c.budget)
			}
			if perMin := float64(p.RequestsPerPoll) / p.Effective.Minutes(); c.effective > 0 && perMin > p.PollBudget+0.01 {
				t.Errorf("%v requests per minute over the planned %v", perMin, p.PollBudget)
			}
		})
	}
	s := makePlan(5000, 150, 0.8, 15*time.Second, 5*time.Minute, false).String()
	for _, want := range []string{"5000 queues", "100 requests per poll", "110 of the 150", "every 55s instead of 15s"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q does not say %q", s, want)
		}
	}
}
