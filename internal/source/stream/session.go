package stream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

// dialTimeout bounds connecting a socket.
const dialTimeout = 30 * time.Second

// Why a session ended.
var (
	errSocketClosing = errors.New("stream: Genesys sent v2.system.socket_closing")
	errSilent        = errors.New("stream: the socket went silent")
	errChannelGone   = errors.New("stream: the channel no longer exists")
)

// session takes a channel, subscribes it when needed, connects its socket
// and reads it until it fails. It returns how long the socket was open and
// why the session ended.
func (sl *slot) session(ctx context.Context) (time.Duration, error) {
	s := sl.s
	ch := sl.channel()
	if ch.ID == "" {
		var reused bool
		var err error
		if ch, reused, err = s.takeChannel(ctx); err != nil {
			return 0, err
		}
		sl.mu.Lock()
		sl.ch, sl.subVersion = ch, -1
		sl.mu.Unlock()
		s.log.Info("notification channel ready", "channel", ch.ID, "reused", reused, "expires", ch.Expires)
	}
	if err := sl.subscribeIfNeeded(ctx); err != nil {
		return 0, err
	}
	dctx, cancelDial := context.WithTimeout(ctx, dialTimeout)
	sock, err := s.client.Dial(dctx, ch)
	cancelDial()
	if err != nil {
		if ok, herr := s.client.ChannelExists(ctx, ch.ID); herr == nil && !ok {
			sl.forgetChannel()
			return 0, fmt.Errorf("%w: %w", errChannelGone, err)
		}
		return 0, fmt.Errorf("stream: channel %s: %w", ch.ID, err)
	}
	defer func() { _ = sock.CloseNow() }()
	opened := s.clock.Now()
	sl.connectedNow(opened)
	s.log.Info("notification socket connected", "channel", ch.ID)
	s.updateHealth()
	s.gapFill(ctx)

	sctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sl.watch(sctx, cancel, sock) })
	wg.Go(func() { sl.maintain(sctx, cancel) })
	err = sl.read(sctx, sock)
	cancel(err)
	_ = sock.CloseNow()
	wg.Wait()
	return s.clock.Now().Sub(opened), err
}

// read reads messages until the socket fails, Genesys warns it will
// close it, or the watchers end the session.
func (sl *slot) read(ctx context.Context, sock *genesys.Socket) error {
	s := sl.s
	for {
		m, err := sock.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		now := s.clock.Now()
		sl.touch(now)
		switch m.Kind {
		case genesys.KindEvent:
			s.event(m, now)
		case genesys.KindSocketClosing:
			return errSocketClosing
		case genesys.KindSystem:
			s.log.Info("notification system message", "channel", sl.channel().ID, "topic", m.Topic, "body", string(m.Body))
		}
	}
}

// watch pings a socket silent for half the heartbeat timeout and ends the
// session when it stays silent for the whole timeout.
func (sl *slot) watch(ctx context.Context, end context.CancelCauseFunc, sock *genesys.Socket) {
	s := sl.s
	timeout := s.opts.HeartbeatTimeout
	var pingedAt time.Time
	for {
		last, now := sl.lastMessage(), s.clock.Now()
		pinged := pingedAt.After(last)
		switch idle := now.Sub(last); {
		case idle >= timeout:
			end(fmt.Errorf("%w: nothing for %s", errSilent, idle))
			return
		case idle >= timeout/2 && !pinged:
			if err := sock.Ping(ctx); err != nil {
				end(fmt.Errorf("stream: %w", err))
				return
			}
			pingedAt, pinged = now, true
			sl.mu.Lock()
			sl.pings++
			sl.mu.Unlock()
			s.mu.Lock()
			s.pings++
			s.mu.Unlock()
			s.log.Debug("notification socket silent; ping sent", "channel", sl.channel().ID, "idle", idle)
		}
		next := last.Add(timeout / 2)
		if pinged {
			next = last.Add(timeout)
		}
		if genesys.SleepUntil(ctx, s.clock, next, nil) != nil {
			return
		}
	}
}

// maintain keeps the channel's subscription current while the socket is
// open: it replaces the topics when the queues change and subscribes
// again every ResubscribeEvery to keep the channel alive. A channel that
// no longer exists ends the session.
func (sl *slot) maintain(ctx context.Context, end context.CancelCauseFunc) {
	s := sl.s
	fails := 0
	for ctx.Err() == nil {
		sl.mu.Lock()
		due := sl.subscribedAt.Add(s.opts.ResubscribeEvery)
		pending := sl.subVersion != sl.version
		sl.mu.Unlock()
		if !pending && s.clock.Now().Before(due) {
			_ = genesys.SleepUntil(ctx, s.clock, due, sl.changed)
			continue
		}
		err := sl.subscribe(ctx)
		switch {
		case err == nil:
			fails = 0
		case ctx.Err() != nil:
			return
		case genesys.StatusOf(err) == http.StatusNotFound:
			sl.forgetChannel()
			end(fmt.Errorf("%w: %w", errChannelGone, err))
			return
		default:
			fails++
			wait := backoff(fails, 5*time.Second, 5*time.Minute, func() float64 { return 1 })
			s.log.Warn("subscribing failed; retrying", "channel", sl.channel().ID, "err", err, "retry_in", wait)
			s.recordErr(err)
			_ = genesys.SleepUntil(ctx, s.clock, s.clock.Now().Add(wait), nil)
		}
	}
}

// subscribeIfNeeded subscribes the channel before connecting when its
// topics are not current or a resubscription is due.
func (sl *slot) subscribeIfNeeded(ctx context.Context) error {
	sl.mu.Lock()
	pending := sl.subVersion != sl.version || !sl.s.clock.Now().Before(sl.subscribedAt.Add(sl.s.opts.ResubscribeEvery))
	sl.mu.Unlock()
	if !pending {
		return nil
	}
	err := sl.subscribe(ctx)
	if genesys.StatusOf(err) == http.StatusNotFound {
		sl.forgetChannel()
		return fmt.Errorf("%w: %w", errChannelGone, err)
	}
	return err
}

// subscribe replaces the channel's topics with those of the slot's queues,
// which also keeps the channel for another 24 hours.
func (sl *slot) subscribe(ctx context.Context) error {
	s := sl.s
	topics, version := sl.topics()
	id := sl.channel().ID
	states, err := s.client.Subscribe(ctx, id, topics, true)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	rejected, reason := 0, ""
	for _, t := range states {
		if t.State == "Rejected" {
			rejected++
			if reason == "" {
				reason = fmt.Sprintf("%s: %s %v", t.ID, t.RejectionReason, t.MissingPermissions)
			}
		}
	}
	sl.mu.Lock()
	sl.subVersion, sl.subscribedAt, sl.rejected = version, s.clock.Now(), rejected
	sl.mu.Unlock()
	if rejected > 0 {
		s.log.Warn("Genesys refused some topics; their queues are only polled", "channel", id,
			"rejected", rejected, "topics", len(topics), "first", reason)
	}
	s.log.Debug("channel subscribed", "channel", id, "topics", len(topics))
	s.updateHealth()
	return nil
}
