package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// stmts are the statements Commit runs many times per batch, and those the
// dispatcher runs for every delivery (claim, finish, ref), prepared once on
// the writer connection and bound to each transaction with Tx.Stmt.
type stmts struct {
	insTransition *sql.Stmt
	insOutbox     *sql.Stmt
	upsSeries     *sql.Stmt
	upsEpisode    *sql.Stmt
	claim         *sql.Stmt
	claimWindow   *sql.Stmt
	pendingBeyond *sql.Stmt
	finish        *sql.Stmt
	insAttempt    *sql.Stmt
	putRef        *sql.Stmt
}

const (
	sqlInsTransition = `INSERT INTO transitions (key, at, data) VALUES (?, ?, ?)`
	sqlInsOutbox     = `INSERT INTO outbox (destination, key, episode_id, action, transition_id, status,
		next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`
	sqlUpsSeries = `INSERT INTO series (key, state, episode_open, episode_id, version, updated_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET state = excluded.state, episode_open = excluded.episode_open,
			episode_id = excluded.episode_id, version = excluded.version, updated_at = excluded.updated_at,
			data = excluded.data`
	// An episode's key, rule, queue and start never change; updating only
	// the rest leaves the indexes alone.
	sqlUpsEpisode = `INSERT INTO episodes (id, key, rule, queue_id, start_at, end_at, worst, priority, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET end_at = excluded.end_at, worst = excluded.worst,
			priority = excluded.priority, data = excluded.data`
)

func (s *stmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.insTransition, sqlInsTransition},
		{&s.insOutbox, sqlInsOutbox},
		{&s.upsSeries, sqlUpsSeries},
		{&s.upsEpisode, sqlUpsEpisode},
		{&s.claim, sqlClaim},
		{&s.claimWindow, sqlClaimWindow},
		{&s.pendingBeyond, sqlPendingBeyond},
		{&s.finish, sqlFinish},
		{&s.insAttempt, sqlInsAttempt},
		{&s.putRef, sqlPutRef},
	} {
		st, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return err
		}
		*p.dst = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insTransition, s.insOutbox, s.upsSeries, s.upsEpisode, s.claim, s.claimWindow, s.pendingBeyond, s.finish, s.insAttempt, s.putRef} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// limitArg turns a caller's limit into SQLite's LIMIT, where -1 means none.
func limitArg(limit, dflt int) int {
	if limit > 0 {
		return limit
	}
	return dflt
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
