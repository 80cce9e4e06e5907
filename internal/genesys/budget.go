package genesys

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// BudgetWindow is the window Genesys limits requests per token over.
const BudgetWindow = time.Minute

// BudgetMargin lengthens the window a Budget counts requests over: Genesys
// counts a request when it arrives, up to about a second after it left here
// (a connection being set up, a busy network), so a budget counted over
// exactly a minute at departure could put Limit+1 requests into one minute
// of arrivals. Counting over BudgetWindow+BudgetMargin keeps every minute of
// arrivals within Limit for any delay up to the margin, at a cost of under
// 2% of the rate.
const BudgetMargin = time.Second

// budgetSpan is the window a Budget counts over.
const budgetSpan = BudgetWindow + BudgetMargin

// Budget limits the requests a process sends to Genesys to Limit per
// sliding minute (counted with BudgetMargin to spare), shared by every caller. It also holds every caller back
// while Genesys has asked, with a 429 and Retry-After, to wait. A Budget
// is safe for concurrent use.
type Budget struct {
	limit int
	clock Clock

	mu     sync.Mutex
	sent   []time.Time // times of the requests in the window, oldest first
	paused time.Time   // no request before this time
}

// NewBudget returns a budget of limit requests per minute (at least 1) on
// clock (SystemClock when nil).
func NewBudget(limit int, clock Clock) *Budget {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Budget{limit: max(limit, 1), clock: clock}
}

// Limit returns the number of requests allowed per minute.
func (b *Budget) Limit() int { return b.limit }

// InUse returns how many requests were sent in the last minute.
func (b *Budget) InUse() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(b.clock.Now())
	return len(b.sent)
}

// PausedUntil returns the time before which no request may be sent because
// of a Retry-After, or the zero time.
func (b *Budget) PausedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.paused.After(b.clock.Now()) {
		return time.Time{}
	}
	return b.paused
}

// PauseUntil holds every request back until t.
func (b *Budget) PauseUntil(t time.Time) {
	b.mu.Lock()
	if t.After(b.paused) {
		b.paused = t
	}
	b.mu.Unlock()
}

func (b *Budget) prune(now time.Time) {
	cut := 0
	for cut < len(b.sent) && !b.sent[cut].After(now.Add(-budgetSpan)) {
		cut++
	}
	if cut > 0 {
		b.sent = append(b.sent[:0], b.sent[cut:]...)
	}
}

// TryAcquire takes one request from the budget if it can at once, and
// otherwise returns how long to wait before trying again.
func (b *Budget) TryAcquire() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	b.prune(now)
	if wait := b.paused.Sub(now); wait > 0 {
		return false, wait
	}
	if len(b.sent) < b.limit {
		b.sent = append(b.sent, now)
		return true, 0
	}
	// The oldest request leaves the window just after oldest+window.
	return false, b.sent[0].Add(budgetSpan).Sub(now)
}

// Acquire takes one request from the budget, waiting while the last minute
// already holds Limit requests or Genesys asked to pause. It returns an
// error only when ctx ends first.
func (b *Budget) Acquire(ctx context.Context) error {
	for {
		ok, wait := b.TryAcquire()
		if ok {
			return nil
		}
		if err := b.clock.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("genesys: waiting for the request budget: %w", err)
		}
	}
}
