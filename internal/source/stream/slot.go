package stream

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

// slot is one channel and its socket, with the queues assigned to it. Its
// goroutine connects, reads and reconnects until the slot is stopped.
type slot struct {
	s       *Streamer
	changed chan struct{} // the queues changed
	cancel  context.CancelFunc
	done    chan struct{}

	mu             sync.Mutex
	queues         map[string]bool
	version        int // bumped when the queues change
	subVersion     int // version the channel is subscribed to; -1 none
	ch             genesys.Channel
	subscribedAt   time.Time
	rejected       int
	connected      bool
	connectedSince time.Time
	lastMsg        time.Time
	connects       int
	pings          int
	lastErr        string
}

func newSlot(s *Streamer) *slot {
	return &slot{s: s, changed: make(chan struct{}, 1), queues: map[string]bool{}, subVersion: -1}
}

func (sl *slot) add(id string) {
	sl.mu.Lock()
	sl.queues[id] = true
	sl.mu.Unlock()
}

func (sl *slot) remove(id string) {
	sl.mu.Lock()
	delete(sl.queues, id)
	sl.mu.Unlock()
}

func (sl *slot) size() int {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return len(sl.queues)
}

// bump records that the queues changed and wakes the subscriber.
func (sl *slot) bump() {
	sl.mu.Lock()
	sl.version++
	sl.mu.Unlock()
	select {
	case sl.changed <- struct{}{}:
	default:
	}
}

// topics returns the topics of the slot's queues, in order, and the
// version they belong to.
func (sl *slot) topics() ([]string, int) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	ids := make([]string, 0, len(sl.queues))
	for id := range sl.queues {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return genesys.StreamTopics(ids, sl.s.opts.ActivityTopics), sl.version
}

func (sl *slot) channel() genesys.Channel {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.ch
}

// healthy reports whether the slot's current topics are all permitted on
// an open socket.
func (sl *slot) healthy() bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.connected && sl.subVersion == sl.version && sl.rejected == 0
}

func (sl *slot) status() ChannelStatus {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return ChannelStatus{
		Channel: sl.ch, Queues: len(sl.queues), Topics: genesys.TopicsPerQueue(sl.s.opts.ActivityTopics) * len(sl.queues), Rejected: sl.rejected,
		Subscribed: sl.subVersion == sl.version, SubscribedAt: sl.subscribedAt,
		Connected: sl.connected, ConnectedSince: sl.connectedSince, LastMessage: sl.lastMsg,
		Connects: sl.connects, Pings: sl.pings, LastError: sl.lastErr,
	}
}

// start runs the slot's goroutine.
func (sl *slot) start(ctx context.Context) {
	ctx, sl.cancel = context.WithCancel(ctx)
	sl.done = make(chan struct{})
	go sl.run(ctx)
}

// stop ends the slot's goroutine and waits for it.
func (sl *slot) stop() {
	if sl.cancel == nil {
		return
	}
	sl.cancel()
	<-sl.done
}

// run connects and reconnects until ctx ends: at once after
// v2.system.socket_closing (unless the previous one was recent), else
// after a backoff that grows with each session that failed or did not
// last half the heartbeat timeout.
func (sl *slot) run(ctx context.Context) {
	defer close(sl.done)
	s := sl.s
	fails := 0
	var lastClosing time.Time
	for ctx.Err() == nil {
		lived, err := sl.session(ctx)
		sl.disconnected(err)
		s.updateHealth()
		if ctx.Err() != nil {
			return
		}
		now := s.clock.Now()
		if lived >= s.opts.HeartbeatTimeout/2 {
			fails = 0
		}
		if errors.Is(err, errSocketClosing) && (lastClosing.IsZero() || now.Sub(lastClosing) >= s.opts.HeartbeatTimeout) {
			lastClosing = now
			s.log.Info("Genesys is closing the notification socket; reconnecting", "channel", sl.channel().ID)
			continue
		}
		fails++
		wait := backoff(fails, s.opts.MinBackoff, s.opts.MaxBackoff, rand.Float64)
		s.log.Warn("notification socket lost; reconnecting", "channel", sl.channel().ID, "err", err,
			"failures", fails, "retry_in", wait)
		s.recordErr(err)
		if genesys.SleepUntil(ctx, s.clock, now.Add(wait), nil) != nil {
			return
		}
	}
}

// connectedNow marks the socket open.
func (sl *slot) connectedNow(now time.Time) {
	sl.mu.Lock()
	reconnect := sl.connects > 0
	sl.connected, sl.connectedSince, sl.lastMsg = true, now, now
	sl.connects++
	sl.mu.Unlock()
	if reconnect {
		sl.s.mu.Lock()
		sl.s.reconnects++
		sl.s.mu.Unlock()
	}
}

// disconnected marks the socket closed, for err.
func (sl *slot) disconnected(err error) {
	sl.mu.Lock()
	sl.connected = false
	if err != nil {
		sl.lastErr = err.Error()
	}
	sl.mu.Unlock()
}

// touch records that a message came.
func (sl *slot) touch(now time.Time) {
	sl.mu.Lock()
	sl.lastMsg = now
	sl.mu.Unlock()
}

func (sl *slot) lastMessage() time.Time {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.lastMsg
}

// forgetChannel drops a channel that no longer exists, so that the next
// session takes another.
func (sl *slot) forgetChannel() {
	sl.mu.Lock()
	sl.ch, sl.subVersion = genesys.Channel{}, -1
	sl.mu.Unlock()
}

// backoff is the pause before attempt n+1 after n failures: lo doubled per
// failure up to hi, with equal jitter (between half and all of it).
func backoff(n int, lo, hi time.Duration, rnd func() float64) time.Duration {
	d := min(lo<<min(max(n-1, 0), 20), hi)
	return d/2 + time.Duration(rnd()*float64(d/2))
}
