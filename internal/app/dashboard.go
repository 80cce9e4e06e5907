package app

import (
	"context"
	"time"

	"github.com/queuewatch/queuewatch/internal/web"
)

// silenceRefresh is how often each replica reloads silences from the store,
// so that silences made on another replica apply here too.
const silenceRefresh = 10 * time.Second

// buildWeb makes the dashboard and API server of a service.
func (s *Service) buildWeb(hub *web.Hub, navLinks []web.NavLink) (*web.Server, error) {
	var rules []string
	for _, r := range s.cfg.Rules {
		rules = append(rules, r.Name)
	}
	var dests []web.Destination
	for _, d := range s.cfg.Destinations {
		dests = append(dests, web.Destination{Name: d.Name, Type: d.Type})
	}
	return web.New(web.Options{
		Engine:       s.engine,
		Store:        s.store,
		Retrier:      retrier{s},
		Silences:     s.silences,
		History:      s.history,
		Health:       s.sourceHealth,
		Hub:          hub,
		APIToken:     s.cfg.APIToken.Value(),
		ReadAuth:     s.cfg.APIReadAuth,
		Rules:        rules,
		Destinations: dests,
		NavLinks:     navLinks,
		Version:      Version(),
		Now:          s.clock.Now,
		Logger:       s.log.With("component", "web"),
		LiveReads:    s.liveReads(),
	})
}

// retrier retries dead deliveries through the service's current dispatcher
// (tests may replace it after Start).
type retrier struct{ s *Service }

func (r retrier) RetryDead(ctx context.Context, id int64) error {
	return r.s.dispatcher.RetryDead(ctx, id)
}

// sourceHealth reports what /readyz and the metrics know about the sources
// and the outbox, for the dashboard.
func (s *Service) sourceHealth(ctx context.Context) web.Health {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	stats := s.engine.Stats()
	h := web.Health{Store: "ok", Outbox: map[string]int{}, Samples: stats.Samples, Transitions: stats.Transitions,
		CommitFailed: stats.CommitFails, At: time.Now().UTC()}
	if counts, err := s.store.PendingCounts(ctx); err != nil {
		h.Store = "unreachable: " + err.Error()
	} else {
		for d, n := range counts {
			h.Outbox[d] = n
			h.OutboxTotal += n
		}
	}
	if g := s.genesys; g != nil {
		ps := g.poller.Status()
		h.Genesys = true
		h.LastPoll, h.PollInterval, h.LastPollError = ps.LastPoll, ps.EffectiveInterval.String(), ps.LastError
		h.FailedPolls, h.Queues = ps.ConsecutiveFailures, ps.Queues
		h.BudgetInUse, h.BudgetLimit = g.client.Budget().InUse(), g.client.Budget().Limit()
		if g.streamer != nil {
			ss := g.streamer.Status()
			h.StreamEnabled, h.StreamConnected, h.StreamReconnects, h.LastStreamError = true, ss.Connected, ss.Reconnects, ss.LastError
		}
	}
	return h
}

// runWeb keeps the dashboard's charts and event stream fed and reloads
// silences periodically, until ctx ends.
func (s *Service) runWeb(ctx context.Context) {
	s.background.Add(2)
	go func() {
		defer s.background.Done()
		s.web.Run(ctx)
	}()
	go func() {
		defer s.background.Done()
		s.silences.Run(ctx, silenceRefresh)
	}()
}
