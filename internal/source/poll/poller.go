package poll

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Poller discovers queues and polls their figures. Create one with New and
// call Run; PollNow, SetStreamHealthy, QueueIDs, LastReports and Status
// are safe to call from other goroutines at any time.
type Poller struct {
	client *genesys.Client
	obs    Observer
	opts   Options
	clock  genesys.Clock
	log    *slog.Logger

	running atomic.Bool
	// wake interrupts Run's sleeps when the interval changes.
	wake chan struct{}
	// gapMu serializes PollNow calls.
	gapMu    sync.Mutex
	gapRan   bool
	gapStart time.Time
	gapErr   error

	mu            sync.Mutex
	discovered    bool
	queues        []genesys.Queue
	ids           []string
	healthy       bool
	plan          Plan
	lastObs       map[string]genesys.QueueStats
	lastAgg       map[string]genesys.QueueStats
	lastStart     time.Time // start of the last periodic poll
	pollFails     int       // periodic polls failed in a row
	retryAt       time.Time // next periodic poll after a failure
	nextPoll      time.Time
	lastPoll      time.Time // start of the last poll that completed
	lastDuration  time.Duration
	lastDiscovery time.Time
	polls         int
	gapFills      int
	failures      int
	failStreak    int
	lastErr       string
	lastErrAt     time.Time
}

// New returns a poller of client's queues that gives samples to obs.
func New(client *genesys.Client, obs Observer, opts Options) *Poller {
	opts = opts.withDefaults(client.Budget().Limit())
	p := &Poller{
		client:  client,
		obs:     obs,
		opts:    opts,
		clock:   opts.Clock,
		log:     opts.Logger.With("source", "poll"),
		wake:    make(chan struct{}, 1),
		lastObs: map[string]genesys.QueueStats{},
		lastAgg: map[string]genesys.QueueStats{},
	}
	p.plan = makePlan(0, opts.Budget, opts.BudgetShare, opts.Interval, opts.DiscoveryInterval, false)
	return p
}

// Run discovers queues and polls them until ctx ends, then returns nil.
// It never stops on errors: it backs off and reports them in Status. It
// returns an error only when the poller is already running.
func (p *Poller) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("poll: the poller is already running")
	}
	defer p.running.Store(false)
	p.log.Info("poller started", "interval", p.opts.Interval, "discovery_interval", p.opts.DiscoveryInterval,
		"budget_per_minute", p.opts.Budget, "queues", p.opts.Queues, "exclude", p.opts.Exclude)
	var nextDiscovery time.Time
	discoveryFails := 0
	for ctx.Err() == nil {
		if !p.clock.Now().Before(nextDiscovery) {
			nextDiscovery = p.runDiscovery(ctx, &discoveryFails)
			continue
		}
		due, ok := p.nextPollTime()
		if ok && !p.clock.Now().Before(due) {
			p.runPoll(ctx)
			continue
		}
		next := nextDiscovery
		if ok && due.Before(next) {
			next = due
		}
		if err := genesys.SleepUntil(ctx, p.clock, next, p.wake); err != nil {
			break
		}
	}
	p.log.Info("poller stopped")
	return nil
}

// runDiscovery discovers queues and returns when to do it again.
func (p *Poller) runDiscovery(ctx context.Context, fails *int) time.Time {
	start := p.clock.Now()
	err := p.discover(ctx)
	if err == nil {
		*fails = 0
		return start.Add(p.opts.DiscoveryInterval)
	}
	if ctx.Err() != nil {
		return start
	}
	*fails++
	p.failed(err)
	wait := p.backoff(*fails)
	if at, ok := p.rateLimitedUntil(err); ok {
		wait = max(wait, at.Sub(start))
	}
	p.log.Warn("queue discovery failed; retrying later", "err", err, "failures", *fails, "retry_in", wait)
	return start.Add(wait)
}

// runPoll polls every queue once, spread over the interval, and records
// when to poll next.
func (p *Poller) runPoll(ctx context.Context) {
	st, err := p.cycle(ctx, false)
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastStart = st.Start
	if err == nil {
		p.pollFails = 0
		return
	}
	p.pollFails++
	eff := p.plan.Effective
	p.retryAt = st.Start.Add(max(eff, p.backoff(p.pollFails)))
	if at, ok := p.rateLimitedUntil(err); ok {
		// Skip to the next tick Genesys allows; Retry-After governs.
		p.retryAt = maxTime(st.Start.Add(eff), at)
	}
}

// nextPollTime returns when the next periodic poll is due, and false when
// there is none to do (polling off or no queue).
func (p *Poller) nextPollTime() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.opts.Interval <= 0 || len(p.ids) == 0 {
		p.nextPoll = time.Time{}
		return time.Time{}, false
	}
	switch {
	case p.pollFails > 0:
		p.nextPoll = p.retryAt
	case p.lastStart.IsZero():
		p.nextPoll = p.clock.Now()
	default:
		p.nextPoll = p.lastStart.Add(p.plan.Effective)
	}
	return p.nextPoll, true
}

// backoff is the pause after n failures in a row: the interval (15 s when
// polling is off), doubled per further failure, up to MaxBackoff.
func (p *Poller) backoff(n int) time.Duration {
	base := p.opts.Interval
	if base <= 0 {
		base = 15 * time.Second
	}
	d := base << min(max(n-1, 0), 16)
	return min(d, p.opts.MaxBackoff)
}

// SetStreamHealthy tells the poller whether the notification stream
// delivers every queue's events. While it does, polls slow to the
// reconciliation rate; when it stops, they speed up at once.
func (p *Poller) SetStreamHealthy(healthy bool) {
	p.mu.Lock()
	if p.healthy == healthy {
		p.mu.Unlock()
		return
	}
	p.healthy = healthy
	p.replanLocked()
	eff := p.plan.Effective
	p.mu.Unlock()
	if healthy {
		p.log.Info("stream healthy; polling slowed to the reconciliation rate", "effective_interval", eff)
	} else {
		p.log.Info("stream not healthy; polling at the full rate", "effective_interval", eff)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// replanLocked recomputes the plan and logs, once per change, when the
// budget stretches the interval or stops doing so.
func (p *Poller) replanLocked() {
	old := p.plan
	p.plan = makePlan(len(p.ids), p.opts.Budget, p.opts.BudgetShare, p.opts.Interval, p.opts.DiscoveryInterval, p.healthy)
	np := p.plan
	switch {
	case np.Stretched && (!old.Stretched || old.Effective != np.Effective):
		p.log.Warn("poll interval stretched to fit the request budget", "queues", np.Queues,
			"requests_per_poll", np.RequestsPerPoll, "budget_per_minute", np.Budget,
			"planned_per_minute", int(np.PollBudget), "interval", np.Base, "effective_interval", np.Effective,
			"plan", np.String())
	case old.Stretched && !np.Stretched:
		p.log.Info("poll interval fits the request budget again", "queues", np.Queues,
			"requests_per_poll", np.RequestsPerPoll, "effective_interval", np.Effective)
	}
}

// failed records an error for Status.
func (p *Poller) failed(err error) {
	p.mu.Lock()
	p.failures++
	p.failStreak++
	p.lastErr = err.Error()
	p.lastErrAt = p.clock.Now()
	p.mu.Unlock()
}

// QueueIDs returns the ids of the queues watched, as last discovered; nil
// before the first discovery. The streamer subscribes to these.
func (p *Poller) QueueIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ids...)
}

// Queues returns the queues watched, as last discovered.
func (p *Poller) Queues() []genesys.Queue {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]genesys.Queue(nil), p.queues...)
}

// LastReports returns the latest observation and aggregate figures of
// every queue watched, as two reports covering every media type, for
// genesys.Accumulator.Seed.
func (p *Poller) LastReports() []genesys.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	obs := genesys.Report{Source: metric.SourcePoll}
	agg := genesys.Report{Source: obs.Source}
	for _, id := range p.ids {
		if s, ok := p.lastObs[id]; ok {
			obs.Queues = append(obs.Queues, s)
		}
		if s, ok := p.lastAgg[id]; ok {
			agg.Queues = append(agg.Queues, s)
		}
	}
	return []genesys.Report{obs, agg}
}

// Status returns the poller's state.
func (p *Poller) Status() Status {
	b := p.client.Budget()
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{
		Running:             p.running.Load(),
		Queues:              len(p.ids),
		Interval:            p.opts.Interval,
		EffectiveInterval:   p.plan.Effective,
		Stretched:           p.plan.Stretched,
		Plan:                p.plan.String(),
		RequestsPerPoll:     p.plan.RequestsPerPoll,
		StreamHealthy:       p.healthy,
		LastPoll:            p.lastPoll,
		LastPollDuration:    p.lastDuration,
		NextPoll:            p.nextPoll,
		LastDiscovery:       p.lastDiscovery,
		Polls:               p.polls,
		GapFills:            p.gapFills,
		LastError:           p.lastErr,
		LastErrorAt:         p.lastErrAt,
		ConsecutiveFailures: p.failStreak,
		Failures:            p.failures,
		BudgetInUse:         b.InUse(),
		BudgetLimit:         b.Limit(),
		BudgetPausedUntil:   b.PausedUntil(),
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
