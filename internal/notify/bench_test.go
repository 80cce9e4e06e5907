package notify

import (
	"context"
	"fmt"
	"testing"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// finishCounter passes a Store through and reports each recorded outcome.
type finishCounter struct {
	Store
	finished chan struct{}
}

func (f *finishCounter) FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error {
	err := f.Store.FinishDelivery(ctx, id, owner, o)
	f.finished <- struct{}{}
	return err
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, store.Delivery, *store.Ref) (Receipt, error) {
	return Receipt{Code: 202}, nil
}

// BenchmarkDispatch measures deliveries per second through the dispatcher
// with a no-op notifier on SQLite: claim, ref lookup, send, outcome. Each
// iteration commits a batch of creates of distinct keys (not timed), wakes
// the dispatcher and waits until every outcome is recorded.
func BenchmarkDispatch(b *testing.B) {
	for _, workers := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const batch = 256
			st := openStore(b)
			fc := &finishCounter{Store: st, finished: make(chan struct{}, batch)}
			d := NewDispatcher(fc, []Destination{{Name: "bench", Notifier: nopNotifier{}}},
				Options{Workers: workers, Logger: quietLogger()})
			start(b, d)
			b.ReportAllocs()
			round, total := 0, 0
			for b.Loop() {
				b.StopTimer()
				ts := make([]alert.Transition, batch)
				for i := range ts {
					key := fmt.Sprintf("q%d-%d_sla", round, i)
					ts[i] = tr(key, key+"/e", alert.ActionCreate, base, "bench")
				}
				commit(b, st, ts...)
				round++
				b.StartTimer()
				d.Wake()
				for range batch {
					<-fc.finished
				}
				total += batch
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
