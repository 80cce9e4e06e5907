package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// DownBacklog commits rows owed to destination "down" in batches of 512
// transitions over 1,000 keys until it owes n, then fails the oldest of
// each key as a destination that is down does, to be tried again an hour
// after now; the oldest row of every dueEvery-th key (in id order; none
// when dueEvery is 0) is due again at now instead. The rows are older than
// anything committed afterwards. settle, when not nil, runs once the rows
// are committed (the PostgreSQL store analyzes its tables, as autovacuum
// would).
func DownBacklog(tb testing.TB, s store.Store, n int, now time.Time, dueEvery int, settle func()) {
	tb.Helper()
	ctx := context.Background()
	for r := 0; r*512 < n; r++ {
		ts := BenchBatch(min(512, n-r*512), int64(r))
		for i := range ts {
			ts[i].Destinations = []string{"down"}
		}
		if err := s.Commit(ctx, ts); err != nil {
			tb.Fatal(err)
		}
	}
	if settle != nil {
		settle()
	}
	heads, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "down", Destination: "down", Now: now,
		Lease: time.Hour, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	for i, d := range heads {
		next := now.Add(time.Hour)
		if dueEvery > 0 && i%dueEvery == 0 {
			next = now
		}
		if err := s.FinishDelivery(ctx, d.ID, "down", store.Outcome{Status: store.StatusPending, At: now,
			NextAttemptAt: next, Error: "503 Service Unavailable"}); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchClaimBacklogged measures the store calls of the dispatcher of a
// destination that is down: "down" owes 84,000 rows over 1,000 keys, the
// oldest of each waiting for a retry an hour away except those of 5 keys,
// which are due. claim/due=5 claims up to 10 rows of "down" and takes
// those 5 (each is put back as a retry due at once, not timed, so every
// claim finds them again); claim/due=0 claims a second earlier, when none
// is due, as the dispatcher's claims that find nothing do; next-due is
// NextDue. claim/storm claims 10 rows of "storm", which owes 3 rows to each
// of 1,000 keys, all due, as after a storm. settle is as for DownBacklog,
// and runs again once everything is committed. It reports ms per call.
func BenchClaimBacklogged(b *testing.B, s store.Store, settle func()) {
	now := Base.Add(24 * time.Hour)
	DownBacklog(b, s, 84_000, now, 200, settle)
	var ts []alert.Transition
	for round := range 3 {
		for _, t := range BenchBatch(1000, int64(3000+round)) {
			t.Destinations = []string{"storm"}
			ts = append(ts, t)
		}
	}
	if err := s.Commit(context.Background(), ts); err != nil {
		b.Fatal(err)
	}
	if settle != nil {
		settle()
	}
	for _, c := range []struct {
		name, dest string
		at         time.Time
		want       int
	}{
		{"claim/due=0", "down", now.Add(-time.Second), 0},
		{"claim/due=5", "down", now, 5},
		{"claim/storm", "storm", now, 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			for b.Loop() {
				ds, err := s.ClaimDeliveries(ctx, store.ClaimRequest{Owner: "w", Destination: c.dest, Now: c.at,
					Lease: time.Minute, Limit: 10})
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) != c.want {
					b.Fatalf("claimed %d rows, want %d", len(ds), c.want)
				}
				b.StopTimer()
				for _, d := range ds {
					if err := s.FinishDelivery(ctx, d.ID, "w", store.Outcome{Status: store.StatusPending, At: now,
						NextAttemptAt: now, Error: "retry"}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/claim")
		})
	}
	b.Run("next-due", func(b *testing.B) {
		ctx := b.Context()
		for b.Loop() {
			if _, ok, err := s.NextDue(ctx); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/call")
	})
}
