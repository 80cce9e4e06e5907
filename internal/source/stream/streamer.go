package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
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
		"resubscribe_every", s.opts.ResubscribeEvery, "queues_per_channel", s.opts.QueuesPerChannel)
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
		s.opts.Poller.SetStreamHealthy(h)
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
func (s *Streamer) event(m genesys.Message, now time.Time) {
	samples, err := s.acc.Parse(m.Raw, now)
	if err != nil {
		if !errors.Is(err, genesys.ErrUnsupportedTopic) {
			s.log.Warn("unreadable notification", "topic", m.Topic, "err", err)
		}
		return
	}
	s.batch.add(samples)
	s.mu.Lock()
	s.events++
	s.samples += int64(len(samples))
	s.lastEvent = now
	s.mu.Unlock()
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
