// Package sqlite implements store.Store on an embedded SQLite database file,
// using the pure-Go modernc.org/sqlite driver (no cgo).
//
// The database runs in WAL mode with foreign keys on and a 5 s busy timeout.
// All writes go through one connection (SQLite has a single writer anyway),
// so concurrent callers in this process queue in Go instead of failing with
// SQLITE_BUSY; reads use a separate pool of read-only connections that WAL
// lets run next to the writer.
//
// Checkpoints (copying the WAL into the database file) run on a connection
// and goroutine of their own, so that commits do not wait for them.
//
// Durability: by default synchronous=NORMAL. In WAL mode that keeps every
// committed transaction across a crash of the process (the WAL is in the
// operating system's hands once Commit returns), which is what queuewatch
// needs; a power loss or kernel crash may roll back the transactions
// committed since the last checkpoint, but never corrupts the database.
// WithSynchronousFull makes every commit wait for fsync, which survives
// those too at the cost of commit latency.
//
// Times are stored as int64 nanoseconds since the Unix epoch and come back in
// UTC. Migrations are embedded and applied by Open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/queuewatch/queuewatch/internal/store"
)

// Store is a store.Store backed by one SQLite database file.
type Store struct {
	w     *sql.DB // the single writer connection
	r     *sql.DB // read-only connections
	ckpt  *checkpointer
	stmts stmts
	// claimWindow, when set, replaces the function of that name (tests).
	claimWindow func(limit int) int

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

type options struct {
	syncFull  bool
	readConns int
	cacheKiB  int // writer page cache; benchmarks compare sizes
}

// Option changes how Open opens the database.
type Option func(*options)

// WithSynchronousFull sets synchronous=FULL, so that every commit is fsynced
// and survives a power loss, not only a process crash; commits are slower.
func WithSynchronousFull() Option {
	return func(o *options) { o.syncFull = true }
}

// WithReadConns sets how many read-only connections may be open at once;
// the default is the larger of 4 and GOMAXPROCS.
func WithReadConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readConns = n
		}
	}
}

// writerCacheKiB is the writer connection's page cache in KiB. The cache is
// memory outside the Go heap (the pure-Go SQLite allocates it itself, each
// 4 KiB page in an 8 KiB block) that, once filled, is never handed back, so
// it counts in full, and twice over, in the process's resident memory. A
// commit's hot pages are the indexes' upper levels and the pages it appends
// to, which fit in a few MiB: 64 MiB cost a burst of 40,000 transitions about
// 110 MiB of RSS for no measurable commit speed (docs/benchmarks.md, "Memory
// of the scale burst").
const writerCacheKiB = 8192

// Open opens (creating if needed) the SQLite database at path, applies the
// embedded migrations and prepares the statements. The path ":memory:" is
// refused: queuewatch needs a durable store (use a temporary file instead).
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{readConns: max(4, runtime.GOMAXPROCS(0)), cacheKiB: writerCacheKiB}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: in-memory databases are not durable; use a file", path)
	}
	syncMode := "NORMAL"
	if o.syncFull {
		syncMode = "FULL"
	}
	w, err := sql.Open("sqlite", dsn(path,
		"_txlock=immediate",
		"_pragma=busy_timeout(5000)",
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous("+syncMode+")",
		fmt.Sprintf("_pragma=cache_size(-%d)", o.cacheKiB),
		fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", walAutocheckpoint),
	))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path,
		"_pragma=busy_timeout(5000)",
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	s.r = r
	c, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(5000)"))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	s.ckpt = startCheckpointer(c, 100*time.Millisecond)
	if err := s.stmts.prepare(ctx, w); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// dsn returns a file: URI for path with the driver's query parameters.
// The characters SQLite's URI parser treats specially are escaped, so any
// file name works.
func dsn(path string, params ...string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + strings.Join(params, "&")
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		errs := []error{s.stmts.close()}
		if s.ckpt != nil {
			errs = append(errs, s.ckpt.close())
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		errs = append(errs, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// PathFromDSN returns the file path of a store DSN of the form sqlite:PATH
// (as in the configuration's "store: sqlite:queuewatch.db"); sqlite://PATH is
// accepted as well, so sqlite:///var/lib/q.db names /var/lib/q.db. In-memory
// databases are refused because they are not durable.
func PathFromDSN(dsn string) (string, error) {
	rest, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return "", fmt.Errorf("sqlite: dsn %q does not start with sqlite:", dsn)
	}
	rest = strings.TrimPrefix(rest, "//")
	switch {
	case rest == "":
		return "", fmt.Errorf("sqlite: dsn %q has no path", dsn)
	case rest == ":memory:":
		return "", fmt.Errorf("sqlite: dsn %q: in-memory databases are not durable; use a file", dsn)
	}
	return rest, nil
}
