package alert

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// slowCommitter makes each commit take a while, so concurrent callers pile up
// behind it and must be grouped.
type slowCommitter struct {
	memCommitter
	gate chan struct{}
}

func (s *slowCommitter) Commit(ctx context.Context, ts []Transition) error {
	<-s.gate
	return s.memCommitter.Commit(ctx, ts)
}

func TestObserveIsDurableAndGroupCommits(t *testing.T) {
	sc := &slowCommitter{gate: make(chan struct{})}
	e, err := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: sc, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	const callers = 64
	var wg sync.WaitGroup
	returned := make(chan int, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			q := fmt.Sprintf("q%d", i)
			if err := e.Observe(context.Background(), metric.Sample{QueueID: q, Metric: metric.ServiceLevel, Value: 10, At: t0}); err != nil {
				t.Error(err)
			}
			returned <- i
		}(i)
	}
	// No caller may return before its transition is committed.
	select {
	case i := <-returned:
		t.Fatalf("caller %d returned before any commit", i)
	case <-time.After(50 * time.Millisecond):
	}
	go func() {
		for {
			select {
			case sc.gate <- struct{}{}:
			case <-time.After(5 * time.Second):
				return
			}
		}
	}()
	wg.Wait()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.ts) != callers {
		t.Fatalf("committed %d transitions, want %d", len(sc.ts), callers)
	}
	if sc.commits >= callers {
		t.Fatalf("%d commits for %d callers: no group commit", sc.commits, callers)
	}
	t.Logf("%d transitions in %d commits", len(sc.ts), sc.commits)
}

func TestCommitFailureIsRetriedNotLost(t *testing.T) {
	mc := &memCommitter{fail: 2}
	e, _ := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: mc})
	defer e.Close(context.Background())
	if err := e.Observe(context.Background(), metric.Sample{QueueID: "q", Metric: metric.ServiceLevel, Value: 1, At: t0}); err != nil {
		t.Fatal(err)
	}
	if got := len(mc.all()); got != 1 {
		t.Fatalf("committed %d, want 1", got)
	}
	if s := e.Stats(); s.CommitFails != 2 || s.Commits != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSubscribeSnapshotAndClose(t *testing.T) {
	e, _ := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: &memCommitter{}, Shards: 3})
	ch, cancel := e.Subscribe(16)
	defer cancel()
	ctx := context.Background()
	samples := []metric.Sample{
		{QueueID: "a", QueueName: "Alpha", Metric: metric.ServiceLevel, Value: 50, At: t0},
		{QueueID: "b", QueueName: "Beta", Metric: metric.ServiceLevel, Value: 95, At: t0},
		{QueueID: "b", QueueName: "Beta", Metric: metric.Waiting, Value: 3, At: t0},
	}
	if err := e.Observe(ctx, samples...); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-ch:
		if tr.QueueID != "a" || tr.Action != ActionCreate {
			t.Fatalf("published %+v", tr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no transition published")
	}
	series, queues, err := e.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || len(queues) != 2 {
		t.Fatalf("snapshot: %d series %d queues", len(series), len(queues))
	}
	for _, q := range queues {
		if q.QueueID == "b" && (q.Values[metric.Waiting] != 3 || q.Values[metric.ServiceLevel] != 95) {
			t.Fatalf("queue view %+v", q)
		}
	}
	for _, s := range series {
		if s.QueueID == "a" && (s.State != Firing || s.Threshold != 80) {
			t.Fatalf("series view %+v", s)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Observe(ctx, samples...); err != ErrClosed {
		t.Fatalf("Observe after Close: %v", err)
	}
}

// TestShardedOrderPerQueue checks that samples of one queue are evaluated in
// order however the engine is sharded.
func TestShardedOrderPerQueue(t *testing.T) {
	for _, shards := range []int{1, 2, 7} {
		mc := &memCommitter{}
		e, _ := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: mc, Shards: shards})
		var batch []metric.Sample
		for i := 0; i < 200; i++ {
			for q := 0; q < 10; q++ {
				v := 90.0
				if i%2 == 0 {
					v = 70
				}
				batch = append(batch, metric.Sample{QueueID: fmt.Sprint("q", q), Metric: metric.ServiceLevel, Value: v, At: t0.Add(time.Duration(i) * time.Second)})
			}
		}
		if err := e.Observe(context.Background(), batch...); err != nil {
			t.Fatal(err)
		}
		_ = e.Close(context.Background())
		perQueue := map[string]int{}
		for _, tr := range mc.all() {
			perQueue[tr.QueueID]++
			want := ActionCreate
			if perQueue[tr.QueueID]%2 == 0 {
				want = ActionResolve
			}
			if tr.Action != want {
				t.Fatalf("shards=%d queue %s transition %d: %s, want %s", shards, tr.QueueID, perQueue[tr.QueueID], tr.Action, want)
			}
		}
		if len(perQueue) != 10 || perQueue["q3"] != 200 {
			t.Fatalf("shards=%d per-queue counts %v", shards, perQueue)
		}
	}
}

func TestInvalidSamplesAreIgnored(t *testing.T) {
	mc := &memCommitter{}
	e, _ := New(Options{Rules: []*rule.Rule{below("sla", 80, 80)}, Committer: mc})
	defer e.Close(context.Background())
	nan := 0.0
	nan = nan / nan
	bad := []metric.Sample{
		{QueueID: "q", Metric: metric.ServiceLevel, Value: nan, At: t0},
		{QueueID: "", Metric: metric.ServiceLevel, Value: 1, At: t0},
		{QueueID: "q", Metric: metric.ServiceLevel, Value: 1},
	}
	if err := e.Observe(context.Background(), bad...); err != nil {
		t.Fatal(err)
	}
	if got := e.Stats().Invalid; got != 3 || len(mc.all()) != 0 {
		t.Fatalf("invalid=%d transitions=%d", got, len(mc.all()))
	}
}
