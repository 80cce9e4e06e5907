package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Defaults of Config.
const (
	DefaultMaxBody        = 1 << 20
	DefaultDedupWindow    = 10 * time.Minute
	DefaultDedupSize      = 100_000
	DefaultMaxQueues      = 10_000
	DefaultRetryAfter     = 5 * time.Second
	DefaultObserveTimeout = 30 * time.Second
)

// ErrAuthRequired is returned by New when no credential is configured and
// Insecure is false.
var ErrAuthRequired = errors.New("webhook authentication is required: set webhook.secret or webhook.tokens, or webhook.insecure: true")

// Observer evaluates samples. The alert engine satisfies it: Observe
// returns only once every transition the samples caused is durable.
type Observer interface {
	Observe(ctx context.Context, samples ...metric.Sample) error
}

// Config configures a Handler. Zero values take the defaults.
type Config struct {
	// Secret keys the HMAC-SHA256 of X-Genesys-Cloud-Signature.
	Secret []byte
	// Tokens are the accepted Authorization: Bearer tokens; empty ones are
	// ignored.
	Tokens []string
	// Insecure accepts requests without credentials.
	Insecure bool
	// MaxAge, when positive, refuses events whose timestamp is further than
	// MaxAge from the server clock.
	MaxAge time.Duration
	// MaxBody limits the request body (default 1 MiB).
	MaxBody int64
	// Clock tells the time (default time.Now).
	Clock func() time.Time
	// Logger receives the handler's logs (default slog.Default()).
	Logger *slog.Logger
	// DedupWindow is how long accepted event ids are remembered (default 10m).
	DedupWindow time.Duration
	// DedupSize is how many event ids are remembered at most (default 100k).
	DedupSize int
	// MaxQueues bounds the distinct queue ids whose samples are evaluated
	// (default 10k); samples of further queues are dropped and counted. It
	// also bounds the per-media figures remembered for queue totals, to
	// MaxQueues × genesys.MaxMediaPerQueue.
	MaxQueues int
	// RetryAfter is the Retry-After of a 503 answer (default 5s).
	RetryAfter time.Duration
	// ObserveTimeout bounds one Observe call (default 30s). Observe does not
	// stop when the client goes away, so that its outcome is remembered.
	ObserveTimeout time.Duration
	// OnResult, when set, is called with the result of every request
	// (ResultAccepted, ResultIgnored, …).
	OnResult func(result string)
}

// Handler serves POST {webhook.path}. It is safe for concurrent use.
type Handler struct {
	obs            Observer
	auth           *authenticator
	maxAge         time.Duration
	maxBody        int64
	clock          func() time.Time
	log            *slog.Logger
	dedup          *dedup
	acc            *genesys.Accumulator // per-media figures of at most maxQueues queues
	maxQueues      int
	dropped        atomic.Uint64 // samples of queues beyond maxQueues
	retryAfter     time.Duration
	observeTimeout time.Duration
	onResult       func(string)
	counts         *counters
	capWarned      atomic.Int64 // unix nanoseconds of the last queue-cap warning
}

// New builds a Handler that hands samples to obs.
func New(cfg Config, obs Observer) (*Handler, error) {
	if obs == nil {
		return nil, errors.New("webhook: an Observer is required")
	}
	auth := newAuthenticator(cfg.Secret, cfg.Tokens, cfg.Insecure)
	if !auth.configured() && !cfg.Insecure {
		return nil, ErrAuthRequired
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"max age", int64(cfg.MaxAge)}, {"max body", cfg.MaxBody}, {"dedup window", int64(cfg.DedupWindow)},
		{"dedup size", int64(cfg.DedupSize)}, {"max queues", int64(cfg.MaxQueues)},
		{"retry after", int64(cfg.RetryAfter)}, {"observe timeout", int64(cfg.ObserveTimeout)},
	} {
		if c.v < 0 {
			return nil, fmt.Errorf("webhook: %s must not be negative", c.name)
		}
	}
	h := &Handler{
		obs:            obs,
		auth:           auth,
		maxAge:         cfg.MaxAge,
		maxBody:        orDefault(cfg.MaxBody, DefaultMaxBody),
		clock:          cfg.Clock,
		log:            cfg.Logger,
		dedup:          newDedup(orDefault(cfg.DedupWindow, DefaultDedupWindow), orDefault(cfg.DedupSize, DefaultDedupSize)),
		maxQueues:      orDefault(cfg.MaxQueues, DefaultMaxQueues),
		retryAfter:     orDefault(cfg.RetryAfter, DefaultRetryAfter),
		observeTimeout: orDefault(cfg.ObserveTimeout, DefaultObserveTimeout),
		onResult:       cfg.OnResult,
		counts:         newCounters(),
	}
	if h.clock == nil {
		h.clock = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.acc = genesys.NewBoundedAccumulator(nil, h.maxQueues)
	if cfg.Insecure {
		h.log.Warn("webhook accepts unauthenticated events (webhook.insecure: true)")
	}
	return h, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
