package poll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// pausedError is why a poll was skipped: the request budget is paused
// because Genesys answered 429 with Retry-After.
type pausedError struct{ until time.Time }

func (e *pausedError) Error() string {
	return fmt.Sprintf("poll: Genesys asked to pause requests until %s", e.until.UTC().Format(time.RFC3339))
}

// rateLimitedUntil returns the time Genesys asked to wait for when err is
// a 429 or a paused budget.
func (p *Poller) rateLimitedUntil(err error) (time.Time, bool) {
	var pe *pausedError
	if errors.As(err, &pe) {
		return pe.until, true
	}
	if ra, ok := genesys.RetryAfter(err); ok {
		return maxTime(p.clock.Now().Add(ra), p.client.Budget().PausedUntil()), true
	}
	return time.Time{}, false
}

// PollNow polls every watched queue at once (discovering them first if
// Run has not yet), gives the samples to the Observer and returns the
// first error. The streamer calls it after every (re)connect to fill the
// gap, since events are not replayed. Calls that arrive while another is
// in flight wait for it and share the next poll, so that several sockets
// reconnecting together cost one poll.
func (p *Poller) PollNow(ctx context.Context) error {
	asked := p.clock.Now()
	p.gapMu.Lock()
	defer p.gapMu.Unlock()
	if p.gapRan && !p.gapStart.Before(asked) {
		return p.gapErr
	}
	p.mu.Lock()
	discovered := p.discovered
	p.mu.Unlock()
	if !discovered {
		if err := p.discover(ctx); err != nil {
			p.failed(err)
			return err
		}
	}
	st, err := p.cycle(ctx, true)
	p.gapRan, p.gapStart, p.gapErr = true, st.Start, err
	return err
}

// cycle polls every watched queue once, batch by batch. A periodic poll
// spreads its batches over the effective interval; a gap fill sends them
// at once. It stops at the first error.
func (p *Poller) cycle(ctx context.Context, gapFill bool) (PollStats, error) {
	ids := p.QueueIDs()
	st := PollStats{Start: p.clock.Now(), GapFill: gapFill, Queues: len(ids)}
	n := batches(len(ids))
	var err error
	for k := 0; k < n; k++ {
		if !gapFill && k > 0 {
			if err = p.waitSlot(ctx, st.Start, k, n); err != nil {
				break
			}
		}
		lo := k * genesys.MaxQueuesPerQuery
		if err = p.pollBatch(ctx, ids[lo:min(lo+genesys.MaxQueuesPerQuery, len(ids))], &st); err != nil {
			break
		}
	}
	st.End, st.Err = p.clock.Now(), err
	p.finish(ctx, st)
	return st, err
}

// waitSlot waits for the time of batch k of n of a poll that began at
// start: k/n of the effective interval later, which follows changes of
// the interval while waiting.
func (p *Poller) waitSlot(ctx context.Context, start time.Time, k, n int) error {
	for {
		p.mu.Lock()
		eff := p.plan.Effective
		p.mu.Unlock()
		at := start.Add(eff * time.Duration(k) / time.Duration(n))
		if !p.clock.Now().Before(at) {
			return nil
		}
		if err := genesys.SleepUntil(ctx, p.clock, at, p.wake); err != nil {
			return err
		}
	}
}

// pollBatch queries the observations and aggregates of up to 100 queues
// and gives their queue totals to the Observer.
func (p *Poller) pollBatch(ctx context.Context, ids []string, st *PollStats) error {
	if until := p.client.Budget().PausedUntil(); !until.IsZero() {
		return &pausedError{until: until}
	}
	obs, err := p.client.QueueObservations(ctx, ids)
	st.Requests++
	if err != nil {
		return fmt.Errorf("poll: observations of %d queues: %w", len(ids), err)
	}
	now := p.clock.Now()
	agg, aggErr := p.client.ConversationAggregates(ctx, ids, genesys.Interval{Start: now.Add(-p.opts.SLWindow), End: now})
	st.Requests++
	samples := obs.TotalSamples(obs.At)
	if aggErr == nil {
		samples = append(samples, agg.TotalSamples(agg.At)...)
		p.keep(obs, agg)
	} else {
		p.keep(obs)
	}
	st.Samples += len(samples)
	p.observe(ctx, samples)
	if aggErr != nil {
		return fmt.Errorf("poll: aggregates of %d queues: %w", len(ids), aggErr)
	}
	return nil
}

// keep remembers the latest figures of each queue for LastReports: the
// first report is observations, the second aggregates.
func (p *Poller) keep(reports ...genesys.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range reports {
		dst := p.lastObs
		if i == 1 {
			dst = p.lastAgg
		}
		for _, q := range r.Queues {
			dst[q.QueueID] = q
		}
	}
}

// observe gives samples to the Observer, logging a refusal.
func (p *Poller) observe(ctx context.Context, samples []metric.Sample) {
	if len(samples) == 0 {
		return
	}
	if err := p.obs.Observe(ctx, samples...); err != nil && ctx.Err() == nil {
		p.log.Error("the observer refused poll samples", "err", err, "samples", len(samples))
		p.mu.Lock()
		p.failures++
		p.lastErr = fmt.Sprintf("poll: observing %d samples: %v", len(samples), err)
		p.lastErrAt = p.clock.Now()
		p.mu.Unlock()
	}
}

// finish records a poll's outcome, logs a failure and calls OnPoll.
func (p *Poller) finish(ctx context.Context, st PollStats) {
	if st.Err != nil && ctx.Err() != nil {
		return // shutting down
	}
	if st.Err == nil {
		p.mu.Lock()
		p.polls++
		if st.GapFill {
			p.gapFills++
		}
		p.lastPoll, p.lastDuration, p.failStreak = st.Start, st.End.Sub(st.Start), 0
		p.mu.Unlock()
		p.log.Debug("poll done", "queues", st.Queues, "requests", st.Requests, "samples", st.Samples,
			"gap_fill", st.GapFill, "took", st.End.Sub(st.Start))
	} else {
		p.failed(st.Err)
		if until, ok := p.rateLimitedUntil(st.Err); ok {
			p.log.Warn("poll skipped: Genesys rate limit", "err", st.Err, "retry_after", until.Sub(p.clock.Now()).Round(time.Second),
				"until", until, "gap_fill", st.GapFill, "requests", st.Requests)
		} else {
			p.log.Warn("poll failed; backing off", "err", st.Err, "gap_fill", st.GapFill, "requests", st.Requests,
				"failures", p.Status().ConsecutiveFailures)
		}
	}
	if p.opts.OnPoll != nil {
		p.opts.OnPoll(st)
	}
}
