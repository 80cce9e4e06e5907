package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/storetest"
)

func openTemp(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "queuewatch.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestContractSynchronousFull(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, WithSynchronousFull()) })
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	storetest.RunReopen(t, func(t *testing.T, name string) store.Store {
		s, err := Open(t.Context(), filepath.Join(dir, name+".db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestMigrationsRunOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "odd ?#% name.db")
	for range 2 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at its path: %v", err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	if err := migrate(ctx, s.w); err != nil {
		t.Errorf("migrating again: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
		sync int
	}{{"default", nil, 1}, {"full", []Option{WithSynchronousFull()}, 2}} {
		t.Run(c.name, func(t *testing.T) {
			s := openTemp(t, c.opts...)
			defer s.Close()
			ctx := t.Context()
			var mode string
			var fk, busy, sync int
			row := func(db *sql.DB, q string, dst any) {
				t.Helper()
				if err := db.QueryRowContext(ctx, q).Scan(dst); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			row(s.w, "PRAGMA journal_mode", &mode)
			row(s.w, "PRAGMA foreign_keys", &fk)
			row(s.w, "PRAGMA busy_timeout", &busy)
			row(s.w, "PRAGMA synchronous", &sync)
			if mode != "wal" || fk != 1 || busy != 5000 || sync != c.sync {
				t.Errorf("writer: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d", mode, fk, busy, sync)
			}
			row(s.r, "PRAGMA busy_timeout", &busy)
			if busy != 5000 {
				t.Errorf("reader: busy_timeout=%d", busy)
			}
			if _, err := s.r.ExecContext(ctx, "DELETE FROM refs"); err == nil {
				t.Error("the read pool accepted a write")
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer version")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"", ":memory:", t.TempDir()} {
		if s, err := Open(ctx, p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPathFromDSN(t *testing.T) {
	for _, c := range []struct {
		dsn, want string
		ok        bool
	}{
		{"sqlite:queuewatch.db", "queuewatch.db", true},
		{"sqlite:/var/lib/queuewatch/q.db", "/var/lib/queuewatch/q.db", true},
		{"sqlite://data/q.db", "data/q.db", true},
		{"sqlite:///var/lib/q.db", "/var/lib/q.db", true},
		{"sqlite:", "", false},
		{"sqlite://", "", false},
		{"sqlite::memory:", "", false},
		{"postgres://u@h/db", "", false},
		{"queuewatch.db", "", false},
	} {
		got, err := PathFromDSN(c.dsn)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("PathFromDSN(%q) = %q, %v; want %q, ok=%v", c.dsn, got, err, c.want, c.ok)
		}
	}
}
