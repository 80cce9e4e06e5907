package app

import (
	"context"

	"log/slog"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/metrics"
	"github.com/queuewatch/queuewatch/internal/recent"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/source/webhook"
)

func webhookConfig(cfg *config.Config, log *slog.Logger) webhook.Config {
	w := webhook.Config{
		Insecure: cfg.Webhook.Insecure,
		MaxAge:   cfg.Webhook.MaxAge.D(),
		Logger:   log,
	}
	if cfg.Webhook.Secret != "" {
		w.Secret = []byte(cfg.Webhook.Secret.Value())
	}
	for _, t := range cfg.Webhook.Tokens {
		w.Tokens = append(w.Tokens, t.Value())
	}
	return w
}

// startBackground runs the dispatcher, wakes it after every commit that owes
// notifications, and pings OpsGenie heartbeats while the pipeline is healthy.
// It starts nothing once Shutdown has begun.
func (s *Service) startBackground() {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgStopped {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBackground = cancel
	committed, unsubscribe := s.engine.Subscribe(4096)
	s.background.Add(3)
	go func() {
		defer s.background.Done()
		if err := s.dispatcher.Run(ctx); err != nil {
			s.log.Error("dispatcher stopped", "err", err)
		}
	}()
	go func() {
		defer s.background.Done()
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case t, ok := <-committed:
				if !ok {
					return
				}
				s.metrics.Transition(t)
				if len(t.Destinations) > 0 {
					s.dispatcher.Wake()
				}
			}
		}
	}()
	go func() {
		defer s.background.Done()
		s.heartbeatLoop(ctx, time.Minute)
	}()
	s.runWeb(ctx)
	if g := s.genesys; g != nil {
		s.background.Add(1)
		if g.streamer != nil {
			s.background.Add(1)
		}
		g.run(ctx, s.log, s.background.Done)
	}
}

// heartbeatLoop pings each configured OpsGenie heartbeat every interval, but
// only while the pipeline is healthy: samples keep arriving and the outbox
// drains. When queuewatch dies or wedges, the pings stop and OpsGenie pages.
func (s *Service) heartbeatLoop(ctx context.Context, interval time.Duration) {
	if len(s.dests.heartbeats) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	lastSamples := s.engine.Stats().Samples
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		samples := s.engine.Stats().Samples
		healthy, why := s.pipelineHealthy(ctx, samples > lastSamples, interval)
		lastSamples = samples
		if !healthy {
			s.log.Warn("heartbeat withheld: pipeline unhealthy", "reason", why)
			continue
		}
		for dest, hb := range s.dests.heartbeats {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := hb.n.Ping(pctx, hb.name); err != nil {
				s.log.Warn("heartbeat ping failed", "destination", dest, "heartbeat", hb.name, "err", err)
			}
			cancel()
		}
	}
}

// pipelineHealthy reports whether samples arrived in the last interval and
// nothing owed has waited past its due time for more than a few intervals.
func (s *Service) pipelineHealthy(ctx context.Context, freshSamples bool, interval time.Duration) (bool, string) {
	if !freshSamples {
		return false, "no samples in the last " + interval.String()
	}
	due, ok, err := s.store.NextDue(ctx)
	if err != nil {
		return false, "store: " + err.Error()
	}
	if ok && time.Since(due) > 5*interval {
		return false, "outbox not draining: a delivery has been due since " + due.UTC().Format(time.RFC3339)
	}
	return true, ""
}

// countingObserver counts samples per source on their way into the engine
// and keeps the dashboard's recent values.
type countingObserver struct {
	eng  *alert.Engine
	m    *metrics.Metrics
	src  metric.Source
	hist *recent.Recorder
}

// Observe counts and records samples and evaluates them.
func (c countingObserver) Observe(ctx context.Context, samples ...metric.Sample) error {
	c.m.Samples(c.src, len(samples))
	c.hist.Add(samples...)
	return c.eng.Observe(ctx, samples...)
}

// alertCounter counts series by state for the queuewatch_alerts gauge.
func alertCounter(eng *alert.Engine) func() map[alert.State]int {
	return func() map[alert.State]int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		series, _, err := eng.Snapshot(ctx)
		out := map[alert.State]int{}
		if err != nil {
			return out
		}
		for _, s := range series {
			out[s.State]++
		}
		return out
	}
}
