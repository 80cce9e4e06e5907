package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Streamer reads the notification WebSockets of the watched queues. Create
// one with New and call Run; Refresh, Connected and Status are safe to call
// from other goroutines at any time.
type Streamer struct {
	client *genesys.Client
	opts   Options
	clock  genesys.Clock
	log    *slog.Logger
	acc    *genesys.Accumulator
	batch  *batcher

	running atomic.Bool
	refresh chan struct{}
	wg      sync.WaitGroup // the batcher and gap fills

	mu         sync.Mutex
	slots      []*slot
	where      map[string]*slot // queue id → its slot
	unstreamed int
	pool       []genesys.Channel // channels to reuse
	events     int64
	samples    int64
	reconnects int64
	pings      int64
	gapFills   int64
	lastEvent  time.Time
	lastErr    string
	lastErrAt  time.Time

	// notifyMu serializes health changes and their notifications;
	// stateMu guards healthy alone, so that callbacks may call Connected.
	notifyMu sync.Mutex
	stateMu  sync.Mutex
	healthy  bool
}

// New returns a streamer of client's notifications that gives samples to
// obs.
func New(client *genesys.Client, obs Observer, opts Options) *Streamer {
	opts = opts.withDefaults()
	s := &Streamer{
		client:  client,
		opts:    opts,
		clock:   opts.Clock,
		log:     opts.Logger.With("source", "stream"),
		refresh: make(chan struct{}, 1),
		where:   map[string]*slot{},
	}
	s.acc = genesys.NewAccumulator(func(id string) string {
		q, _ := client.KnownQueue(id)
		return q.Name
	})
	s.batch = newBatcher(obs, opts.MaxPending, func(err error, n int) {
		s.log.Error("the observer refused stream samples", "err", err, "samples", n)
		s.recordErr(fmt.Errorf("stream: observing %d samples: %w", n, err))
	})
	return s
}

// Run streams the queues queueIDs returns until ctx ends, then closes its
// sockets and returns nil. It reads queueIDs again every
// Options.RefreshEvery and when Refresh is called; until it returns any
// id, nothing is streamed. Run never stops on errors: it reconnects with
// backoff and reports them in Status. It returns an error only when
// queueIDs is nil or the streamer is already running.
func (s *Streamer) Run(ctx context.Context, queueIDs func() []string) error {
	if queueIDs == nil {
		return errors.New("stream: Run needs a source of queue ids")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("stream: the streamer is already running")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.log.Info("streamer started", "heartbeat_timeout", s.opts.HeartbeatTimeout,
		"resubscribe_every", s.opts.ResubscribeEvery, "queues_per_channel", s.opts.QueuesPerChannel,
		"activity_topics", s.opts.ActivityTopics)
	s.wg.Go(func() { s.batch.run(ctx) })
	s.loadPool(ctx)
	for ctx.Err() == nil {
		s.sync(ctx, queueIDs())
		_ = genesys.SleepUntil(ctx, s.clock, s.clock.Now().Add(s.opts.RefreshEvery), s.refresh)
	}
	s.stopAll()
	s.wg.Wait()
	s.running.Store(false)
	s.updateHealth()
	s.log.Info("streamer stopped")
	return nil
}

// Refresh makes Run read the queue ids again now, for example after the
// poller discovered new queues.
func (s *Streamer) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// Connected reports whether the stream is healthy: every watched queue's
// topics are subscribed, permitted and on an open socket.
func (s *Streamer) Connected() bool {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.healthy
}

// updateHealth recomputes whether the stream is healthy and, when that
// changed, tells the poller and Options.OnState.
func (s *Streamer) updateHealth() {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	h := s.computeHealthy()
	s.stateMu.Lock()
	changed := h != s.healthy
	s.healthy = h
	s.stateMu.Unlock()
	if !changed {
		return
	}
	if h {
		s.log.Info("stream healthy: every queue is streamed")
	} else {
		s.log.Info("stream not healthy: polling covers the gap")
	}
	if s.opts.Poller != nil {
		// Without activity topics the longest wait comes only from polls,
		// so they keep their full rate.
		s.opts.Poller.SetStreamHealthy(h && s.opts.ActivityTopics)
	}
	if s.opts.OnState != nil {
		s.opts.OnState(h)
	}
}

func (s *Streamer) computeHealthy() bool {
	if !s.running.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.slots) == 0 || s.unstreamed > 0 {
		return false
	}
	for _, sl := range s.slots {
		if !sl.healthy() {
			return false
		}
	}
	return true
}

// recordErr keeps an error for Status.
func (s *Streamer) recordErr(err error) {
	s.mu.Lock()
	s.lastErr, s.lastErrAt = err.Error(), s.clock.Now()
	s.mu.Unlock()
}

// event parses a queue event and queues its samples for the Observer.
// An event that does not carry the longest wait gives no longest-wait
// sample: the accumulator's remembered value (from an older event or a
// gap-fill poll) would otherwise be stamped with this event's time and
// outrank the fresher figure of a later poll.
func (s *Streamer) event(m genesys.Message, now time.Time) {
	e, err := genesys.ParseEvent(m.Raw, now)
	if err != nil {
		if !errors.Is(err, genesys.ErrUnsupportedTopic) {
			s.log.Warn("unreadable notification", "topic", m.Topic, "err", err)
		}
		return
	}
	at := now
	if !e.Time.IsZero() {
		at = e.Time
	}
	samples := s.acc.ApplyEvent(e).AppendSamples(nil, at, metric.SourceStream)
	if !carriesLongestWait(e.Stats) {
		samples = slices.DeleteFunc(samples, func(sm metric.Sample) bool { return sm.Metric == metric.LongestWait })
	}
	s.batch.add(samples)
	s.mu.Lock()
	s.events++
	s.samples += int64(len(samples))
	s.lastEvent = now
	s.mu.Unlock()
}

// carriesLongestWait reports whether an event's figures hold a longest
// wait of their own.
func carriesLongestWait(st genesys.QueueStats) bool {
	if st.Total.Has(metric.LongestWait) {
		return true
	}
	for _, f := range st.Media {
		if f.Has(metric.LongestWait) {
			return true
		}
	}
	return false
}

// gapFill asks the poller, in the background, for one poll of every queue
// and seeds the accumulator with its figures.
func (s *Streamer) gapFill(ctx context.Context) {
	p := s.opts.Poller
	if p == nil {
		return
	}
	s.wg.Go(func() {
		if err := p.PollNow(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("gap-fill poll failed", "err", err)
				s.recordErr(fmt.Errorf("stream: gap-fill poll: %w", err))
			}
			return
		}
		if sd, ok := p.(Seeder); ok {
			for _, r := range sd.LastReports() {
				s.acc.Seed(r)
			}
		}
		s.mu.Lock()
		s.gapFills++
		s.mu.Unlock()
	})
}

// Status returns the streamer's state.
func (s *Streamer) Status() Status {
	connected := s.Connected()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Running:     s.running.Load(),
		Connected:   connected,
		Queues:      len(s.where),
		Unstreamed:  s.unstreamed,
		Events:      s.events,
		Samples:     s.samples,
		Dropped:     s.batch.droppedCount(),
		Reconnects:  s.reconnects,
		Pings:       s.pings,
		GapFills:    s.gapFills,
		LastEvent:   s.lastEvent,
		LastError:   s.lastErr,
		LastErrorAt: s.lastErrAt,
	}
	for _, sl := range s.slots {
		st.Channels = append(st.Channels, sl.status())
	}
	return st
}
