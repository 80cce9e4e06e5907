package poll

import (
	"fmt"
	"math"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

// Plan is how polls fit into the request budget.
type Plan struct {
	Queues int
	// RequestsPerPoll is 2·ceil(Queues/100): one observations and one
	// aggregates query per batch of 100 queues.
	RequestsPerPoll int
	// Budget is the requests per minute allowed; PollBudget those planned
	// for polls (Budget × share, less discovery's cost per minute).
	Budget     int
	PollBudget float64
	// Interval is the configured interval and Base the one wanted before
	// the budget is considered (the reconciliation interval while the
	// stream is healthy).
	Interval time.Duration
	Base     time.Duration
	// Effective is the interval in use: Base, or longer when polling at
	// Base would spend more than PollBudget.
	Effective time.Duration
	Stretched bool
}

// String explains the plan, with its numbers, for logs and Status.
func (p Plan) String() string {
	if p.Effective <= 0 {
		return "periodic polling is off"
	}
	s := fmt.Sprintf("%d queues cost %d requests per poll; %.0f of the %d requests per minute are planned for polls",
		p.Queues, p.RequestsPerPoll, p.PollBudget, p.Budget)
	if p.Stretched {
		return s + fmt.Sprintf(", so queues are polled every %s instead of %s", p.Effective, p.Base)
	}
	return s + fmt.Sprintf("; queues are polled every %s", p.Effective)
}

// batches returns how many batches of MaxQueuesPerQuery n queues make.
func batches(n int) int {
	return (n + genesys.MaxQueuesPerQuery - 1) / genesys.MaxQueuesPerQuery
}

// reconcileInterval is the interval while the stream is healthy.
func reconcileInterval(interval time.Duration) time.Duration {
	return max(ReconcileFactor*interval, ReconcileMinimum)
}

// makePlan plans polls of queues every interval (the reconciliation
// interval when healthy) within budget requests per minute, of which
// share is for polls, discovery listing every discovery.
func makePlan(queues, budget int, share float64, interval, discovery time.Duration, healthy bool) Plan {
	p := Plan{Queues: queues, RequestsPerPoll: 2 * batches(queues), Budget: budget, Interval: interval}
	if interval <= 0 {
		return p
	}
	p.Base = interval
	if healthy {
		p.Base = reconcileInterval(interval)
	}
	// Discovery lists 100 queues per page.
	perMinute := share * float64(budget)
	if discovery > 0 {
		perMinute -= float64(max(batches(queues), 1)) / discovery.Minutes()
	}
	p.PollBudget = max(perMinute, 0.1*float64(budget), 1)
	needed := time.Duration(math.Ceil(float64(p.RequestsPerPoll)/p.PollBudget*60)) * time.Second
	p.Effective = p.Base
	if needed > p.Base {
		p.Effective, p.Stretched = needed, true
	}
	return p
}
