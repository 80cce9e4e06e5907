package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store/postgres"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
)

// BenchmarkTransitionsToPostgres is BenchmarkTransitionsToSQLite on
// PostgreSQL, through serve's committer: the elected leader's commits,
// fenced on its lease.
func BenchmarkTransitionsToPostgres(b *testing.B) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h, err := newHA(st, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx, func(ctx context.Context, _ int64) { <-ctx.Done() }) }()
	defer func() { cancel(); <-done }()
	waitFor(b, 10*time.Second, "the lease", func() bool { return h.role() == "leader" }, nil)
	benchEngineTransitions(b, h)
}
