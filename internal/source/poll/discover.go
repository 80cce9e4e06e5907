package poll

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// maxLoggedNames bounds the queue names a discovery log line lists.
const maxLoggedNames = 5

// discover lists the queues, selects those to watch, replans the budget
// and emits every selected queue's service_level_target samples from its
// configuration.
func (p *Poller) discover(ctx context.Context) error {
	all, err := p.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if err != nil {
		return fmt.Errorf("poll: discovering queues: %w", err)
	}
	sel := genesys.SelectQueues(all, p.opts.Queues, p.opts.Exclude)
	now := p.clock.Now()

	p.mu.Lock()
	first := !p.discovered
	old := make(map[string]genesys.Queue, len(p.queues))
	for _, q := range p.queues {
		old[q.ID] = q
	}
	var added, renamed []string
	for _, q := range sel {
		prev, ok := old[q.ID]
		switch {
		case !ok:
			added = append(added, q.Name)
		case prev.Name != q.Name:
			renamed = append(renamed, prev.Name+" → "+q.Name)
		}
		delete(old, q.ID)
	}
	removed := slices.Sorted(maps.Keys(old))
	for _, id := range removed {
		delete(p.lastObs, id)
		delete(p.lastAgg, id)
	}
	p.discovered = true
	p.queues = sel
	p.ids = genesys.QueueIDs(sel)
	p.lastDiscovery = now
	p.failStreak = 0
	p.replanLocked()
	p.mu.Unlock()

	changed := len(added)+len(removed)+len(renamed) > 0
	switch {
	case len(sel) == 0:
		p.log.Warn("no queue matches the configured selection", "listed", len(all),
			"queues", p.opts.Queues, "exclude", p.opts.Exclude)
	case first:
		p.log.Info("queues discovered", "watched", len(sel), "listed", len(all))
	case changed:
		p.log.Info("queues changed", "watched", len(sel), "added", len(added), "removed", len(removed),
			"renamed", len(renamed), "added_names", head(added), "renamed_names", head(renamed))
	}

	var samples []metric.Sample
	for _, q := range sel {
		samples = append(samples, q.TargetSamples(now, metric.SourcePoll)...)
	}
	p.observe(ctx, samples)
	if (first || changed) && p.opts.OnDiscovery != nil {
		p.opts.OnDiscovery(append([]genesys.Queue(nil), sel...))
	}
	return nil
}

// head returns the first few names, for a log line.
func head(names []string) []string {
	return names[:min(len(names), maxLoggedNames)]
}
