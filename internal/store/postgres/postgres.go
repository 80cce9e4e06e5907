// Package postgres implements store.Store on PostgreSQL with pgx, for
// several queuewatch replicas sharing one database.
//
// Rows are those of the SQLite store (package codec encodes them): times are
// BIGINT nanoseconds since the Unix epoch and come back in UTC, states and
// transitions are JSON text. Migrations are embedded and applied by Open
// under a transaction-scoped advisory lock, so replicas starting at once
// apply each exactly once.
//
// Concurrency between replicas:
//   - Commit serialises on a transaction-scoped advisory lock, so outbox ids
//     become visible in commit order and the per-key order of deliveries
//     cannot be overtaken by a slower concurrent commit.
//   - ClaimDeliveries locks the rows it takes with FOR UPDATE SKIP LOCKED:
//     claimers on any replica never wait for each other and never take the
//     same row; an expired lease makes a row claimable again.
//   - CommitFenced adds a check of the leader lease (see Lease) to the same
//     transaction, so a replica that lost the leadership cannot write.
//
// The schema is the connection's search_path: put search_path=NAME in the
// DSN's query to keep queuewatch in a schema of its own.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/queuewatch/queuewatch/internal/store"
)

// Store is a store.Store backed by a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// schema is the schema the tables live in (the search_path's first).
	schema string
	// commitLock is the advisory lock key commits of this schema take.
	commitLock int64
	// bulkFrom is the batch size from which Commit copies rows in.
	bulkFrom int
	// claimMode is how a claim of one destination is sent (see sqlClaim).
	claimMode pgx.QueryExecMode
	// claimWindow, when set, replaces the function of that name (tests).
	claimWindow func(limit int) int

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	inboxOnce sync.Once
	inboxCh   chan inboxReq // AppendInbox calls for the group writer
}

var _ store.Store = (*Store)(nil)

type options struct {
	maxConns int32
	bulkFrom int
}

// defaultBulkFrom is the batch size from which a commit's fixed number of
// round trips beats one pipelined statement per row.
const defaultBulkFrom = 16

// Option changes how Open connects.
type Option func(*options)

// WithMaxConns sets the most connections the store opens; the default is
// the larger of 4 and GOMAXPROCS.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = int32(n)
		}
	}
}

// IsDSN reports whether dsn names a PostgreSQL database (postgres:// or
// postgresql://).
func IsDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database named by dsn (postgres://user@host/db?...),
// applies the embedded migrations and returns the store.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{maxConns: int32(max(4, runtime.GOMAXPROCS(0))), bulkFrom: defaultBulkFrom}
	for _, opt := range opts {
		opt(&o)
	}
	if !IsDSN(dsn) {
		return nil, fmt.Errorf("postgres: open %s: the DSN must start with postgres:// or postgresql://", Redact(dsn))
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), err)
	}
	cfg.MaxConns = o.maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), err)
	}
	s := &Store{pool: pool, bulkFrom: o.bulkFrom, claimMode: claimMode(cfg.ConnConfig.DefaultQueryExecMode),
		closed: make(chan struct{})}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), err)
	}
	return s, nil
}

// claimMode returns how to send a claim of one destination given the
// connections' default mode: pgx's default prepares each statement once per
// connection and PostgreSQL may then reuse one generic plan for all
// arguments, which for the claim can walk other destinations' rows (see
// sqlClaim). The claim is then sent as an unnamed statement, whose
// description pgx caches but which PostgreSQL plans for its arguments at
// every call. The other modes (for PgBouncer and the like) already do.
func claimMode(dflt pgx.QueryExecMode) pgx.QueryExecMode {
	if dflt == pgx.QueryExecModeCacheStatement {
		return pgx.QueryExecModeCacheDescribe
	}
	return dflt
}

func (s *Store) init(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errors.New("no schema of the search_path exists; create it first")
	}
	s.schema = *schema
	s.commitLock = lockKey("commit", s.schema)
	return migrate(ctx, s.pool, lockKey("migrate", s.schema))
}

// lockKey is the advisory lock key of purpose in schema, so that databases
// holding several queuewatch schemas do not contend.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("queuewatch:" + purpose + ":" + schema))
	return int64(h.Sum64())
}

// Close closes the connections. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.pool.Close()
	})
	return nil
}

// Redact hides the password of a DSN, in its user information or its
// password query parameter.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
