package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/leader"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/metrics"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres"
)

// ErrLeadershipLost is returned by Service.Run when this replica lost the
// leadership to another: its engine's state may be stale, so the process
// should exit and be restarted as a follower.
var ErrLeadershipLost = leader.ErrLost

// ha is the high-availability side of a service on a PostgreSQL store.
//
// Exactly one replica, the leader, evaluates: it runs the engine's ticker,
// the Genesys sources, the dispatcher and the heartbeats, and drains the
// inbox where every replica's webhook stores the samples it accepts. Its
// commits are fenced on its lease epoch, so a deposed leader cannot write.
// Followers only accept webhooks and answer the API, passing the reads
// that come from the leader's memory on to it (see leaderProxy); they take
// over when the leader's lease runs out, loading the stored series state
// first.
type ha struct {
	st       *postgres.Store
	elector  *leader.Elector
	log      *slog.Logger
	inboxMax int
}

// newHA returns the HA side for st, or nil when st is not PostgreSQL
// (a single process on SQLite needs none).
func newHA(st store.Store, lease time.Duration, log *slog.Logger) (*ha, error) {
	pg, ok := st.(*postgres.Store)
	if !ok {
		return nil, nil
	}
	holder, err := replicaName()
	if err != nil {
		return nil, err
	}
	el, err := leader.New(pg, leader.Options{Holder: holder, TTL: lease, Logger: log.With("component", "leader")})
	if err != nil {
		return nil, err
	}
	return &ha{st: pg, elector: el, log: log, inboxMax: 256}, nil
}

// replicaName names this process among the replicas: host, process id and
// a random suffix, so a restarted process is a new candidate.
func replicaName() (string, error) {
	host, _ := os.Hostname()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// errNotLeader refuses commits made while this replica does not lead.
var errNotLeader = errors.New("this replica is not the leader")

// Commit implements alert.Committer: the engine's commits are fenced on the
// epoch of the current term.
func (h *ha) Commit(ctx context.Context, ts []alert.Transition) error {
	epoch := h.elector.Epoch()
	if epoch == 0 {
		return errNotLeader
	}
	return h.st.CommitFenced(ctx, postgres.Fence{Name: h.elector.Name(), Holder: h.elector.Holder(), Epoch: epoch}, ts)
}

// role is "leader" or "follower".
func (h *ha) role() string {
	if h.elector.Epoch() != 0 {
		return "leader"
	}
	return "follower"
}

// registerMetrics adds queuewatch_leader, 1 on the leader and 0 elsewhere.
func (h *ha) registerMetrics(m *metrics.Metrics) {
	m.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "queuewatch_leader",
		Help: "1 while this replica leads (evaluates and notifies), 0 while it follows.",
	}, func() float64 {
		if h.elector.Epoch() != 0 {
			return 1
		}
		return 0
	}))
}

// inboxObserver stores webhook samples in the inbox for the leader: the
// webhook answers 202 only once they are durable.
type inboxObserver struct {
	st *postgres.Store
	m  *metrics.Metrics
}

// Observe counts the samples and appends them to the inbox.
func (o inboxObserver) Observe(ctx context.Context, samples ...metric.Sample) error {
	o.m.Samples(metric.SourceWebhook, len(samples))
	return o.st.AppendInbox(ctx, samples)
}

// run campaigns until ctx ends or the leadership is lost; lead runs each
// term (there is at most one per process).
func (h *ha) run(ctx context.Context, lead func(ctx context.Context, epoch int64)) error {
	return h.elector.Run(ctx, lead)
}

// term is the leader's work for one term: resume the stored series, then
// tick, run the background work and drain the inbox until ctx ends.
func (s *Service) term(ctx context.Context, epoch int64) {
	start := time.Now()
	states, err := s.store.LoadSeries(ctx)
	if err == nil {
		err = s.engine.Restore(ctx, states)
	}
	if err != nil {
		s.log.Error("leader: resuming stored alerts failed; stepping down", "err", err)
		return
	}
	tick := s.cfg.Engine.Tick.D()
	if tick <= 0 {
		tick = time.Second
	}
	go s.engine.RunTicker(ctx, s.clock, tick)
	s.startBackground()
	s.log.Info("leading", "epoch", epoch, "resumed_series", len(states), "took", time.Since(start))
	if u := s.cfg.AdvertiseURL; u != "" {
		go s.ha.advertise(ctx, epoch, u)
	}
	s.ha.drainInbox(ctx, s.engine, s.history)
}

// advertise publishes url in the lease row for the term of epoch, once
// the series are resumed, so that followers pass live reads on to this
// replica. It tries again every second until it succeeds or the term ends.
func (h *ha) advertise(ctx context.Context, epoch int64, url string) {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := h.st.Advertise(actx, h.elector.Name(), h.elector.Holder(), epoch, url)
		cancel()
		switch {
		case err == nil && ok:
			h.log.Info("leader: advertised", "advertise_url", url, "epoch", epoch)
			return
		case err == nil:
			return // the term is over
		case ctx.Err() == nil:
			h.log.Warn("leader: publishing advertise_url failed; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// liveReads is web.Options.LiveReads: nil on a single process, otherwise
// a follower passes the live reads on to the leader.
func (s *Service) liveReads() func(http.Handler) http.Handler {
	if s.ha == nil {
		return nil
	}
	p := newLeaderProxy(s.ha, func() <-chan struct{} { return s.web.Closing() }, s.log)
	return p.wrap
}

// drainInbox evaluates the inbox's samples, oldest first, and deletes them
// once their transitions are durable, until ctx ends. The samples are also
// recorded in hist, the dashboard's charts. A notification wakes
// it; it also looks every second in case one was missed. Samples evaluated
// by a leader that died before deleting them are evaluated again by the
// next: the engine ignores samples that are not newer than its series'.
func (h *ha) drainInbox(ctx context.Context, eng *alert.Engine, hist *recent.Recorder) {
	wake := make(chan struct{}, 1)
	go h.st.ListenInbox(ctx, time.Second, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	for {
		n, err := h.drainOnce(ctx, eng, hist)
		if err != nil && ctx.Err() == nil && !errors.Is(err, alert.ErrClosed) {
			h.log.Error("leader: evaluating inbox samples failed", "err", err)
		}
		if n == h.inboxMax && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

func (h *ha) drainOnce(ctx context.Context, eng *alert.Engine, hist *recent.Recorder) (int, error) {
	es, err := h.st.ReadInbox(ctx, h.inboxMax)
	if err != nil || len(es) == 0 {
		return 0, err
	}
	var samples []metric.Sample
	ids := make([]int64, len(es))
	for i, e := range es {
		samples = append(samples, e.Samples...)
		ids[i] = e.ID
	}
	hist.Add(samples...)
	if err := eng.Observe(ctx, samples...); err != nil {
		return 0, err
	}
	return len(es), h.st.DeleteInbox(ctx, ids)
}
