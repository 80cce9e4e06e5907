package poll

import (
	"context"
	"log/slog"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Observer evaluates samples. The alert engine satisfies it: Observe
// returns only once every transition the samples caused is durable. The
// poller may call it from several goroutines at once (Run and PollNow).
type Observer interface {
	Observe(ctx context.Context, samples ...metric.Sample) error
}

// Defaults of Options.
const (
	DefaultSLWindow          = 30 * time.Minute
	DefaultDiscoveryInterval = 5 * time.Minute
	DefaultBudgetShare       = 0.8
	DefaultMaxBackoff        = 5 * time.Minute
	// ReconcileMinimum is the shortest interval between polls while the
	// stream is healthy; the reconciliation interval is the longer of it
	// and ReconcileFactor intervals.
	ReconcileMinimum = time.Minute
	ReconcileFactor  = 4
)

// Options configures a Poller. Zero values take the defaults.
type Options struct {
	// Queues and Exclude select the queues to watch by id or name glob
	// (see genesys.SelectQueues); Queues defaults to every queue.
	Queues  []string
	Exclude []string
	// Interval is the time between polls when the stream is not healthy.
	// Zero turns periodic polling off: Run then only discovers queues,
	// and PollNow still polls.
	Interval time.Duration
	// SLWindow is the interval over which service level and abandon
	// rate are aggregated (default 30m).
	SLWindow time.Duration
	// DiscoveryInterval is the time between queue listings (default 5m).
	DiscoveryInterval time.Duration
	// Budget is the number of requests per minute the process may send
	// to Genesys; default the client's budget limit.
	Budget int
	// BudgetShare is the share of Budget planned for polls (default
	// 0.8); the rest is left for discovery and the streamer.
	BudgetShare float64
	// MaxBackoff caps the pause after failures in a row (default 5m).
	MaxBackoff time.Duration
	// Clock is the time source (default genesys.SystemClock); tests pass
	// the client's manual clock.
	Clock genesys.Clock
	// Logger receives the poller's logs (default slog.Default()).
	Logger *slog.Logger
	// OnPoll, when set, is called after every poll, periodic or not.
	OnPoll func(PollStats)
	// OnDiscovery, when set, is called after a discovery that changed the
	// selected queues (added, removed or renamed), with the queues now
	// selected; the streamer's Refresh fits here.
	OnDiscovery func(queues []genesys.Queue)
}

// withDefaults fills in the defaults; budget is the client's limit.
func (o Options) withDefaults(budget int) Options {
	if len(o.Queues) == 0 {
		o.Queues = []string{"*"}
	}
	if o.Interval < 0 {
		o.Interval = 0
	}
	if o.SLWindow <= 0 {
		o.SLWindow = DefaultSLWindow
	}
	if o.DiscoveryInterval <= 0 {
		o.DiscoveryInterval = DefaultDiscoveryInterval
	}
	if o.Budget <= 0 {
		o.Budget = budget
	}
	if o.BudgetShare <= 0 || o.BudgetShare > 1 {
		o.BudgetShare = DefaultBudgetShare
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Clock == nil {
		o.Clock = genesys.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// PollStats describes one poll, for Options.OnPoll.
type PollStats struct {
	Start, End time.Time
	// GapFill is true for polls asked for by PollNow.
	GapFill bool
	// Queues is the number of queues the poll covered; Requests the
	// analytics queries it sent; Samples what it gave the Observer.
	Queues   int
	Requests int
	Samples  int
	// Err is why the poll stopped early, or nil.
	Err error
}

// Status is the state of a Poller, for health checks and the dashboard.
type Status struct {
	Running bool
	// Queues is the number of queues watched.
	Queues int
	// Interval is the configured interval; EffectiveInterval the one in
	// use, after the stream's reconciliation rate and the budget.
	Interval          time.Duration
	EffectiveInterval time.Duration
	// Stretched is true when the budget made the interval longer; Plan
	// says why, with the numbers.
	Stretched       bool
	Plan            string
	RequestsPerPoll int
	StreamHealthy   bool

	// LastPoll is when the last poll that completed began.
	LastPoll         time.Time
	LastPollDuration time.Duration
	NextPoll         time.Time
	LastDiscovery    time.Time
	Polls            int // polls completed, gap fills included
	GapFills         int

	LastError           string
	LastErrorAt         time.Time
	ConsecutiveFailures int // failed polls or discoveries in a row
	Failures            int // failed polls and discoveries in all

	BudgetInUse       int // requests sent in the last minute
	BudgetLimit       int
	BudgetPausedUntil time.Time // Genesys asked to wait until then (429)
}
