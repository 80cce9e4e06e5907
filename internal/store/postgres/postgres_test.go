package postgres

import (
	"context"
	"testing"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

func openTest(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	pgtest.BaseDSN(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, pgtest.DSN(t)) })
}

// TestContractBulk runs the contract with every commit, however small,
// taking the bulk path that large batches take.
func TestContractBulk(t *testing.T) {
	pgtest.BaseDSN(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s := openTest(t, pgtest.DSN(t))
		s.bulkFrom = 1
		return s
	})
}

func TestReopen(t *testing.T) {
	dsn := pgtest.DSN(t)
	storetest.RunReopen(t, func(t *testing.T, name string) store.Store { return openTest(t, dsn) })
}
