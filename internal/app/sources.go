package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/source/poll"
	"github.com/queuewatch/queuewatch/internal/source/stream"
)

// genesysSources are the Genesys Cloud poller and streamer, when configured.
type genesysSources struct {
	client   *genesys.Client
	poller   *poll.Poller
	streamer *stream.Streamer // nil when genesys.stream is false
}

// buildGenesys returns the Genesys sources, or nil when no OAuth client is
// configured (queuewatch then listens to its webhook only).
func (s *Service) buildGenesys() (*genesysSources, error) {
	g := s.cfg.Genesys
	if g.ClientID == "" {
		return nil, nil
	}
	opts := genesys.OptionsFromConfig(g)
	opts.OnRequest = s.metrics.GenesysRequest
	opts.Logger = s.log.With("component", "genesys")
	opts.Clock = s.sourceClock
	client, err := genesys.New(opts)
	if err != nil {
		return nil, fmt.Errorf("genesys: %w", err)
	}
	src := &genesysSources{client: client}
	src.poller = poll.New(client, countingObserver{s.engine, s.metrics, metric.SourcePoll, s.history}, poll.Options{
		Queues:            g.Queues,
		Exclude:           g.Exclude,
		Interval:          g.PollInterval.D(),
		SLWindow:          g.ServiceLevelWindow.D(),
		DiscoveryInterval: g.DiscoveryInterval.D(),
		Budget:            g.RequestBudget,
		Clock:             s.sourceClock,
		Logger:            s.log.With("component", "poller"),
		OnDiscovery: func([]genesys.Queue) {
			if src.streamer != nil {
				src.streamer.Refresh()
			}
		},
	})
	if g.Stream == nil || *g.Stream {
		src.streamer = stream.New(client, countingObserver{s.engine, s.metrics, metric.SourceStream, s.history}, stream.Options{
			Poller:         src.poller,
			ActivityTopics: g.ActivityTopics,
			Logger:         s.log.With("component", "stream"),
			Clock:          s.sourceClock,
			OnState: func(connected bool) {
				v := 0.0
				if connected {
					v = 1
				}
				s.metrics.GenesysConnected.Set(v)
			},
		})
	}
	return src, nil
}

// run runs the poller and streamer until ctx ends.
func (src *genesysSources) run(ctx context.Context, log *slog.Logger, done func()) {
	go func() {
		defer done()
		if err := src.poller.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("poller stopped", "err", err)
		}
	}()
	if src.streamer == nil {
		return
	}
	go func() {
		defer done()
		if err := src.streamer.Run(ctx, src.poller.QueueIDs); err != nil && ctx.Err() == nil {
			log.Error("streamer stopped", "err", err)
		}
	}()
}
