package genesys_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

func TestBudgetSlidingWindow(t *testing.T) {
	clock := fakegenesys.NewManualClock(t0)
	b := genesys.NewBudget(3, clock)
	steps := []struct {
		advance time.Duration
		ok      bool
		wait    time.Duration
		inUse   int
	}{
		{0, true, 0, 1},
		{10 * time.Second, true, 0, 2},
		{10 * time.Second, true, 0, 3},
		{10 * time.Second, false, 31 * time.Second, 3}, // the first leaves at t0+61s (a minute and the margin)
		{30 * time.Second, false, time.Second, 3},      // a minute after the first: still counted
		{time.Second, true, 0, 3},
		{0, false, 10 * time.Second, 3},
		{70 * time.Second, true, 0, 1},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		ok, wait := b.TryAcquire()
		if ok != s.ok || wait != s.wait || b.InUse() != s.inUse {
			t.Errorf("step %d: TryAcquire = %v, %v with %d in use; want %v, %v with %d", i, ok, wait, b.InUse(), s.ok, s.wait, s.inUse)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for b.InUse() < 3 {
		_, _ = b.TryAcquire()
	}
	if err := b.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with an ended context = %v, want context.Canceled", err)
	}
}

func TestBudgetNeverExceededAtTheServer(t *testing.T) {
	for _, limit := range []int{7, 20} {
		t.Run("", func(t *testing.T) {
			specs := sim.DefaultQueues(5, 3)
			e := newEnv(t, fakegenesys.Options{Queues: specs}, genesys.Options{RequestBudget: limit})
			ctx := testCtx(t)
			if err := e.client.Authenticate(ctx); err != nil {
				t.Fatal(err)
			}
			const workers, each = 6, 17
			var failures atomic.Int64
			drive(t, e.clock, workers, func(i int) {
				for j := range each {
					if _, err := e.client.GetQueue(ctx, specs[(i+j)%len(specs)].ID); err != nil {
						failures.Add(1)
					}
				}
			})
			if n := failures.Load(); n != 0 {
				t.Fatalf("%d requests failed", n)
			}
			total := workers*each + 1
			if n := e.fake.Requests(""); n != total {
				t.Fatalf("the fake saw %d requests, want %d", n, total)
			}
			if n := e.fake.MaxRequestsInWindow("", time.Minute); n > limit {
				t.Errorf("%d requests within one minute, budget %d", n, limit)
			}
			for minute, n := range e.fake.RequestsPerMinute("") {
				if n > limit {
					t.Errorf("%d requests in the minute from %s, budget %d", n, minute, limit)
				}
			}
			// The work takes as many minutes as the budget forces, no more.
			elapsed := e.clock.Now().Sub(t0)
			want := time.Duration((total-1)/limit) * (genesys.BudgetWindow + genesys.BudgetMargin)
			if elapsed != want {
				t.Errorf("took %s of virtual time, want %s", elapsed, want)
			}
			if e.client.Budget().InUse() > limit {
				t.Errorf("InUse = %d over the limit %d", e.client.Budget().InUse(), limit)
			}
		})
	}
}

func TestRateLimitedAnswerPausesEveryCaller(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{}, genesys.Options{})
	ctx := testCtx(t)
	qs, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.RateLimitAnalytics(1, 7*time.Second)
	_, err = e.client.QueueObservations(ctx, genesys.QueueIDs(qs))
	var ae *genesys.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if ae.Status != http.StatusTooManyRequests || ae.Code != "too.many.requests.retry.after" || ae.RetryAfter != 7*time.Second || !ae.Temporary() {
		t.Errorf("APIError = %+v", ae)
	}
	if got := e.client.Budget().PausedUntil(); !got.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("PausedUntil = %s, want t0+7s", got)
	}
	// Every caller now waits for Retry-After before sending anything.
	before := e.fake.Requests("")
	drive(t, e.clock, 2, func(int) {
		if _, err := e.client.GetQueue(ctx, qs[0].ID); err != nil {
			t.Error(err)
		}
	})
	if got := e.clock.Now(); !got.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("requests resumed at %s, want t0+7s", got)
	}
	if n := e.fake.Requests("") - before; n != 2 {
		t.Errorf("%d requests after the pause, want 2", n)
	}
}

func TestServerRateLimitAnswersRetryAfter(t *testing.T) {
	// A client allowed more than the server's limit meets its 429.
	e := newEnv(t, fakegenesys.Options{RateLimit: 5}, genesys.Options{RequestBudget: 300})
	ctx := testCtx(t)
	for i := range 5 {
		e.clock.Advance(time.Second)
		if _, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	ra, ok := genesys.RetryAfter(err)
	if !ok || ra != 56*time.Second {
		t.Fatalf("RetryAfter(%v) = %s, %v; want 56s", err, ra, ok)
	}
	var ae *genesys.APIError
	if errors.As(err, &ae) && (ae.CorrelationID == "" || ae.Message == "") {
		t.Errorf("APIError = %+v, want a message and a correlation id", ae)
	}
	drive(t, e.clock, 1, func(int) {
		if _, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{}); err != nil {
			t.Error(err)
		}
	})
}
