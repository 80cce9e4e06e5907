package stream

import (
	"context"
	"log/slog"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Observer evaluates samples. The alert engine satisfies it: Observe
// returns only once every transition the samples caused is durable.
type Observer interface {
	Observe(ctx context.Context, samples ...metric.Sample) error
}

// Poller is the polling source as the streamer needs it; *poll.Poller
// satisfies it (and Seeder).
type Poller interface {
	// PollNow polls every watched queue once, to fill the gap of events
	// missed while a socket was down.
	PollNow(ctx context.Context) error
	// SetStreamHealthy tells the poller whether the stream delivers every
	// queue's events, so that it can poll less often. The streamer says
	// true only with Options.ActivityTopics, when events carry every
	// figure a poll gives.
	SetStreamHealthy(healthy bool)
}

// Seeder is implemented by a Poller that can give the figures of its
// latest poll; after each gap fill the streamer seeds its accumulator
// with them, so that queue totals of later per-media events start from
// every media type's figures.
type Seeder interface {
	LastReports() []genesys.Report
}

// Defaults of Options.
const (
	DefaultHeartbeatTimeout = 90 * time.Second
	DefaultResubscribeEvery = 23 * time.Hour
	DefaultRefreshEvery     = 30 * time.Second
	DefaultMinBackoff       = time.Second
	DefaultMaxBackoff       = 2 * time.Minute
	DefaultMaxPending       = 100000
	// QueuesPerChannel is how many queues one channel holds with the
	// observations topic alone: 1,000 topics per channel.
	QueuesPerChannel = genesys.MaxTopicsPerChannel
)

// Options configures a Streamer. Zero values take the defaults.
type Options struct {
	// Poller, when set, fills the gap after every (re)connect and is told
	// when the stream is healthy.
	Poller Poller
	// Clock is the time source (default genesys.SystemClock); tests pass
	// the client's manual clock.
	Clock genesys.Clock
	// Logger receives the streamer's logs (default slog.Default()).
	Logger *slog.Logger
	// HeartbeatTimeout is how long a socket may stay silent: after half
	// of it the streamer pings, after all of it reconnects (default 90s;
	// Genesys sends a heartbeat about every 30s).
	HeartbeatTimeout time.Duration
	// ResubscribeEvery is how often a channel's topics are subscribed
	// again, to keep the channel past its 24-hour expiry (default 23h).
	ResubscribeEvery time.Duration
	// OnState, when set, is called when the stream becomes healthy
	// (true) or stops being so (false).
	OnState func(connected bool)
	// RefreshEvery is how often the queue ids are read again to update
	// the subscriptions (default 30s); Refresh asks at once.
	RefreshEvery time.Duration
	// MinBackoff and MaxBackoff bound the pause before reconnecting after
	// a failure; it doubles per failure in a row, with jitter (defaults
	// 1s and 2m).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// ActivityTopics subscribes each queue's .activity topic as well as
	// its .observations topic. The activity topic is the only push source
	// of the longest wait (oLongestWaiting); the observations topic
	// carries waiting, agents and the interval's service level. With it
	// a channel holds 500 queues instead of 1,000, and the poller is told
	// the stream is healthy (and so may slow to its reconciliation rate)
	// only when it is set: without it, the longest wait comes from polls.
	ActivityTopics bool
	// QueuesPerChannel is how many queues share a channel (default and
	// maximum: 1,000 topics divided by the topics per queue).
	QueuesPerChannel int
	// Channels are channels of a previous run (Status().Channels) to
	// reuse when they still exist. Never share them between replicas: a
	// second socket on a channel disconnects the first.
	Channels []genesys.Channel
	// MaxPending bounds the samples waiting for the Observer; beyond it
	// the oldest are dropped and counted (default 100,000).
	MaxPending int
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = genesys.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.HeartbeatTimeout, DefaultHeartbeatTimeout)
	def(&o.ResubscribeEvery, DefaultResubscribeEvery)
	def(&o.RefreshEvery, DefaultRefreshEvery)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	if most := genesys.MaxTopicsPerChannel / genesys.TopicsPerQueue(o.ActivityTopics); o.QueuesPerChannel <= 0 || o.QueuesPerChannel > most {
		o.QueuesPerChannel = most
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	return o
}

// Status is the state of a Streamer, for health checks and the dashboard.
type Status struct {
	Running bool
	// Connected is true while the stream is healthy: every watched
	// queue's topics subscribed, permitted and on an open socket.
	Connected bool
	// Queues is the number of queues streamed; Unstreamed those left to
	// polling because 20 channels are full.
	Queues     int
	Unstreamed int
	Channels   []ChannelStatus
	Events     int64 // queue events read
	Samples    int64 // samples given to the Observer
	Dropped    int64 // samples dropped because the Observer fell behind
	Reconnects int64 // sockets lost and connected again
	Pings      int64
	GapFills   int64 // gap-fill polls done
	LastEvent  time.Time

	LastError   string
	LastErrorAt time.Time
}

// ChannelStatus is the state of one channel and its socket.
type ChannelStatus struct {
	// Channel is the notification channel; save it (Options.Channels) to
	// reuse it after a restart.
	Channel  genesys.Channel
	Queues   int
	Topics   int
	Rejected int // topics Genesys refused (missing permissions)
	// Subscribed is true when the channel holds the current topics.
	Subscribed     bool
	SubscribedAt   time.Time
	Connected      bool
	ConnectedSince time.Time
	LastMessage    time.Time
	Connects       int
	Pings          int
	LastError      string
}
