package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// Committer makes transitions durable. store.Store satisfies it.
type Committer interface {
	Commit(ctx context.Context, ts []Transition) error
}

// Muter says why notifications of an alert are held back at a time (for
// example a silence), or returns "" when they are not.
type Muter interface {
	Muted(key, ruleName, queueID, queueName string, at time.Time) string
}

// ErrClosed is returned by calls on a closed engine.
var ErrClosed = errors.New("alert: engine closed")

// Options configures an Engine.
type Options struct {
	Rules     []*rule.Rule
	Committer Committer
	// Shards is the number of evaluation goroutines; default GOMAXPROCS.
	Shards int
	// Muter is consulted before a create is sent; optional.
	Muter Muter
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxBatch caps the transitions written in one commit; default 4096.
	MaxBatch int
}

// Stats are counters of an engine's work.
type Stats struct {
	Samples     uint64 // samples evaluated
	OutOfOrder  uint64 // samples older than their series' latest, ignored
	Invalid     uint64 // samples without a queue id or time, or with a non-finite value, ignored
	NoTarget    uint64 // evaluations skipped because the queue's target is unknown
	Transitions uint64 // transitions committed
	Commits     uint64 // store transactions
	CommitFails uint64 // failed commit attempts (retried)
	Dropped     uint64 // transitions not delivered to a slow subscriber
}

// Engine evaluates samples against rules. Series are spread over shards by
// queue id; each shard is owned by one goroutine, so evaluation takes no locks.
// Transitions of all shards are written by one committer in group commits.
type Engine struct {
	rules    []*rule.Rule
	shards   []*shard
	commitCh chan commitReq
	store    Committer
	log      *slog.Logger
	maxBatch int

	closing  chan struct{}
	finished chan struct{}
	closeMu  sync.Once
	shardWG  sync.WaitGroup

	subMu sync.Mutex
	subs  map[*subscriber]struct{}

	samples, outOfOrder, invalid, noTarget, transitions, commits, commitFails, dropped atomic.Uint64
}

type commitReq struct {
	ts   []Transition
	done chan<- error
}

// New builds an engine and starts its goroutines. Call Close to stop it.
func New(opts Options) (*Engine, error) {
	if opts.Committer == nil {
		return nil, errors.New("alert: Options.Committer is required")
	}
	n := opts.Shards
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	e := &Engine{
		rules:    opts.Rules,
		store:    opts.Committer,
		log:      opts.Logger,
		maxBatch: opts.MaxBatch,
		commitCh: make(chan commitReq, 1024), // deep enough that shards never wait while a commit runs
		closing:  make(chan struct{}),
		finished: make(chan struct{}),
		subs:     map[*subscriber]struct{}{},
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.maxBatch <= 0 {
		e.maxBatch = 4096
	}
	for i := 0; i < n; i++ {
		sh := &shard{
			e:      e,
			in:     make(chan shardReq, 64),
			queues: map[queueKey]*queueInfo{},
			muter:  opts.Muter,
		}
		sh.held = sh.heldReason
		e.shards = append(e.shards, sh)
		e.shardWG.Add(1)
		go sh.run()
	}
	go e.commitLoop()
	go func() {
		e.shardWG.Wait()
		close(e.commitCh)
	}()
	return e, nil
}

// Observe evaluates samples and returns once every transition they caused is
// durable. Samples of one queue are evaluated in the order given.
func (e *Engine) Observe(ctx context.Context, samples ...metric.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	if len(e.shards) == 1 {
		return e.call(ctx, []*shard{e.shards[0]}, []shardReq{{kind: reqObserve, samples: samples}})
	}
	first := e.shardOf(samples[0].QueueID)
	same := true
	for i := range samples[1:] {
		if e.shardOf(samples[i+1].QueueID) != first {
			same = false
			break
		}
	}
	if same {
		return e.call(ctx, []*shard{e.shards[first]}, []shardReq{{kind: reqObserve, samples: samples}})
	}
	parts := make([][]metric.Sample, len(e.shards))
	for _, s := range samples {
		i := e.shardOf(s.QueueID)
		parts[i] = append(parts[i], s)
	}
	var shards []*shard
	var reqs []shardReq
	for i, p := range parts {
		if len(p) > 0 {
			shards = append(shards, e.shards[i])
			reqs = append(reqs, shardReq{kind: reqObserve, samples: p})
		}
	}
	return e.call(ctx, shards, reqs)
}

// Advance moves every series' clock to now: pending breaches and resolving
// clears that have held long enough complete, silent series are noted stale,
// and held notifications are released. It returns once the transitions are durable.
func (e *Engine) Advance(ctx context.Context, now time.Time) error {
	reqs := make([]shardReq, len(e.shards))
	for i := range reqs {
		reqs[i] = shardReq{kind: reqAdvance, now: now}
	}
	return e.call(ctx, e.shards, reqs)
}

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

// RunTicker calls Advance with clock.Now() every interval until ctx ends.
func (e *Engine) RunTicker(ctx context.Context, clock Clock, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.closing:
			return
		case <-t.C:
			if err := e.Advance(ctx, clock.Now()); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
				e.log.Error("advancing series clocks", "err", err)
			}
		}
	}
}

// Restore loads stored series states, typically once after start. Series
// whose rule was removed or no longer applies to the queue are resolved (if
// open) with a reason saying so, so no alert is left open for ever.
func (e *Engine) Restore(ctx context.Context, states []SeriesState) error {
	parts := make([][]SeriesState, len(e.shards))
	for _, st := range states {
		i := e.shardOf(st.QueueID)
		parts[i] = append(parts[i], st)
	}
	var shards []*shard
	var reqs []shardReq
	for i, p := range parts {
		if len(p) > 0 {
			shards = append(shards, e.shards[i])
			reqs = append(reqs, shardReq{kind: reqRestore, restore: p})
		}
	}
	return e.call(ctx, shards, reqs)
}

// SeriesView is a read-only snapshot of one series for the web layer.
type SeriesView struct {
	SeriesState
	Threshold float64 `json:"threshold"`
	Clear     float64 `json:"clear"`
	// Target is the queue's service-level target when known.
	Target     float64 `json:"target,omitempty"`
	HaveTarget bool    `json:"have_target"`
	// WaitingForTarget is true when the rule needs a target that is unknown.
	WaitingForTarget bool `json:"waiting_for_target,omitempty"`
}

// QueueView is a read-only snapshot of one queue's latest figures.
type QueueView struct {
	QueueID   string                    `json:"queue_id"`
	QueueName string                    `json:"queue_name"`
	MediaType string                    `json:"media_type,omitempty"`
	Values    map[metric.Name]float64   `json:"values"`
	At        map[metric.Name]time.Time `json:"at"`
}

// Snapshot returns copies of every series and queue the engine tracks.
func (e *Engine) Snapshot(ctx context.Context) ([]SeriesView, []QueueView, error) {
	reply := make(chan snapshot, len(e.shards))
	reqs := make([]shardReq, len(e.shards))
	for i := range reqs {
		reqs[i] = shardReq{kind: reqSnapshot, snap: reply}
	}
	if err := e.call(ctx, e.shards, reqs); err != nil {
		return nil, nil, err
	}
	var series []SeriesView
	var queues []QueueView
	for range e.shards {
		s := <-reply
		series = append(series, s.series...)
		queues = append(queues, s.queues...)
	}
	return series, queues, nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Samples: e.samples.Load(), OutOfOrder: e.outOfOrder.Load(), Invalid: e.invalid.Load(), NoTarget: e.noTarget.Load(),
		Transitions: e.transitions.Load(), Commits: e.commits.Load(), CommitFails: e.commitFails.Load(),
		Dropped: e.dropped.Load(),
	}
}

// Close stops accepting work, finishes what was accepted, writes every
// transition already made and stops the goroutines. It waits at most until
// ctx ends.
func (e *Engine) Close(ctx context.Context) error {
	e.closeMu.Do(func() { close(e.closing) })
	select {
	case <-e.finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("alert: closing engine: %w", ctx.Err())
	}
}

// call sends one request per shard and waits for all answers.
func (e *Engine) call(ctx context.Context, shards []*shard, reqs []shardReq) error {
	done := make(chan error, len(shards))
	for i, sh := range shards {
		reqs[i].done = done
		select {
		case sh.in <- reqs[i]:
		case <-e.closing:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var errs []error
	for range shards {
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-e.finished:
			return ErrClosed
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) shardOf(queueID string) int {
	if len(e.shards) == 1 {
		return 0
	}
	// FNV-1a, inline to avoid allocating a hasher.
	h := uint32(2166136261)
	for i := 0; i < len(queueID); i++ {
		h ^= uint32(queueID[i])
		h *= 16777619
	}
	return int(h % uint32(len(e.shards)))
}

// commitLoop writes transitions in group commits: everything queued while the
// previous commit ran goes into the next transaction. A failed commit is
// retried with backoff until it succeeds, because the shards' memory already
// holds its state: dropping it would forget what is owed.
func (e *Engine) commitLoop() {
	defer close(e.finished)
	var batch []commitReq
	var ts []Transition
	for first := range e.commitCh {
		batch = append(batch[:0], first)
		ts = append(ts[:0], first.ts...)
	fill:
		for len(ts) < e.maxBatch {
			select {
			case r, ok := <-e.commitCh:
				if !ok {
					break fill
				}
				batch = append(batch, r)
				ts = append(ts, r.ts...)
			default:
				break fill
			}
		}
		e.commitWithRetry(ts)
		// Publish before answering, so a caller of Observe finds its
		// transitions in its subscription when Observe returns.
		e.publish(ts)
		for _, r := range batch {
			r.done <- nil
		}
	}
}

func (e *Engine) commitWithRetry(ts []Transition) {
	backoff := 50 * time.Millisecond
	for {
		err := e.store.Commit(context.Background(), ts)
		if err == nil {
			e.commits.Add(1)
			e.transitions.Add(uint64(len(ts)))
			return
		}
		e.commitFails.Add(1)
		e.log.Error("committing transitions failed; retrying", "transitions", len(ts), "retry_in", backoff, "err", err)
		time.Sleep(backoff) // no condition to wait on: the store gives no signal when it recovers
		backoff = min(2*backoff, 5*time.Second)
	}
}
