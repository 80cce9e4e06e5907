package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

var concurrencyTests = []test{
	{"Concurrent/ClaimersGetEachRowOnce", testConcurrentClaimers},
	{"Concurrent/CommitWhileClaiming", testConcurrentCommitAndClaim},
}

// ledger records, across worker goroutines, when each delivery was claimed
// and finished, so that exactly-once and per-key order can be checked.
type ledger struct {
	seq      atomic.Int64
	finished atomic.Int64

	mu        sync.Mutex
	claims    map[int64]int   // times claimed
	claimSeq  map[int64]int64 // sequence number taken after the claim returned
	finishSeq map[int64]int64 // sequence number taken before the finish started
}

func newLedger() *ledger {
	return &ledger{claims: map[int64]int{}, claimSeq: map[int64]int64{}, finishSeq: map[int64]int64{}}
}

// work claims and sends deliveries until total were finished, by any worker.
// The wall-clock deadline only guards against a hang.
func (l *ledger) work(ctx context.Context, s store.Store, owner string, total int64) error {
	now := at(24 * time.Hour) // every row is due; leases never expire
	deadline := time.Now().Add(time.Minute)
	for l.finished.Load() < total {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: timed out with %d of %d finished", owner, l.finished.Load(), total)
		}
		ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: owner, Now: now, Lease: time.Hour, Limit: 4})
		if err != nil {
			return fmt.Errorf("%s: claim: %w", owner, err)
		}
		if len(ds) == 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		l.mu.Lock()
		for _, d := range ds {
			l.claims[d.ID]++
			l.claimSeq[d.ID] = l.seq.Add(1)
			if d.ClaimedBy != owner {
				l.mu.Unlock()
				return fmt.Errorf("%s: claimed delivery %d shows owner %q", owner, d.ID, d.ClaimedBy)
			}
		}
		l.mu.Unlock()
		for _, d := range ds {
			l.mu.Lock()
			l.finishSeq[d.ID] = l.seq.Add(1)
			l.mu.Unlock()
			if err := s.FinishDelivery(ctx, d.ID, owner, sent(now)); err != nil {
				return fmt.Errorf("%s: finish %d: %w", owner, d.ID, err)
			}
			l.finished.Add(1)
		}
	}
	return nil
}

// check fails t unless every delivery of s was claimed once, was sent, and
// no delivery was claimed before the previous one of its destination and
// key was finished.
func (l *ledger) check(t *testing.T, s store.Store, total int) {
	t.Helper()
	ds := all(t, s)
	if len(ds) != total {
		t.Fatalf("%d deliveries, want %d", len(ds), total)
	}
	chains := map[string][]int64{}
	for _, d := range ds {
		if n := l.claims[d.ID]; n != 1 {
			t.Errorf("delivery %d claimed %d times, want once", d.ID, n)
		}
		if d.Status != store.StatusSent || d.Attempts != 1 {
			t.Errorf("delivery %d: status %s, attempts %d; want sent once", d.ID, d.Status, d.Attempts)
		}
		chains[d.Destination+">"+d.Key] = append(chains[d.Destination+">"+d.Key], d.ID)
	}
	for chain, idList := range chains {
		slices.Sort(idList)
		for i := 1; i < len(idList); i++ {
			prev, next := idList[i-1], idList[i]
			if l.claimSeq[next] < l.finishSeq[prev] {
				t.Errorf("%s: delivery %d was claimed before %d was finished", chain, next, prev)
			}
		}
	}
}

func runWorkers(t *testing.T, s store.Store, l *ledger, n int, total int64, also ...func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n+len(also))
	for i := range n {
		wg.Go(func() { errs <- l.work(t.Context(), s, fmt.Sprintf("w%d", i), total) })
	}
	for _, f := range also {
		wg.Go(func() { errs <- f() })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentClaimers(t *testing.T, s store.Store) {
	const keys, perKey = 40, 3
	for round := range perKey {
		var ts []alert.Transition
		for k := range keys {
			ts = append(ts, simple(fmt.Sprintf("q%02d_sla", k), at(time.Duration(round)*time.Minute), "oncall", "slack"))
		}
		mustCommit(t, s, ts...)
	}
	total := keys * perKey * 2
	l := newLedger()
	runWorkers(t, s, l, 8, int64(total))
	l.check(t, s, total)
}

func testConcurrentCommitAndClaim(t *testing.T, s store.Store) {
	const committers, batches, perBatch = 4, 20, 5
	total := committers * batches * perBatch * 2
	var commits []func() error
	for c := range committers {
		commits = append(commits, func() error {
			for b := range batches {
				var ts []alert.Transition
				for i := range perBatch {
					when := at(time.Duration(b*perBatch+i) * time.Millisecond)
					ts = append(ts, simple(fmt.Sprintf("c%d_k%d", c, i), when, "oncall", "slack"))
				}
				if err := s.Commit(t.Context(), ts); err != nil {
					return fmt.Errorf("committer %d: %w", c, err)
				}
			}
			return nil
		})
	}
	l := newLedger()
	runWorkers(t, s, l, 4, int64(total), commits...)
	l.check(t, s, total)
}
