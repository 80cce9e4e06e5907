package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// deliveryCols are the outbox columns scanDelivery reads, in order.
// The transition is read from its history row.
const deliveryCols = `id, destination, key, episode_id, action,
	(SELECT data FROM transitions WHERE transitions.id = outbox.transition_id), status, attempts,
	next_attempt_at, last_error, claimed_by, lease_until, created_at, updated_at, sent_at`

// scanDeliveries reads the deliveries of a query's rows; it takes the
// query's error too, so that a call reads scanDeliveries(db.Query(…)).
func scanDeliveries(rows *sql.Rows, err error) ([]store.Delivery, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := codec.ScanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// sqlFirstOwed holds for an outbox row o when no older row of its
// destination and key is still owed (pending or in flight): only the first
// owed delivery of an alert may be claimed.
const sqlFirstOwed = `NOT EXISTS (
	SELECT 1 FROM outbox p INDEXED BY outbox_open
	WHERE p.destination = o.destination AND p.key = o.key AND p.id < o.id
		AND p.status IN ('pending', 'inflight'))`

// sqlClaimAny claims due rows in one statement, so that two claimers can
// never take the same row, across all destinations. A row is due when
// pending and not before its next attempt, or in flight with an expired
// lease, and it is the first owed of its destination and key.
const sqlClaimAny = `UPDATE outbox SET status = 'inflight', claimed_by = ?1, lease_until = ?2, updated_at = ?3
	WHERE id IN (
		SELECT o.id FROM outbox o INDEXED BY outbox_open
		WHERE o.status IN ('pending', 'inflight')
			AND (?4 = '' OR o.destination = ?4)
			AND ((o.status = 'pending' AND o.next_attempt_at <= ?3)
				OR (o.status = 'inflight' AND o.lease_until <= ?3))
			AND ` + sqlFirstOwed + `
		ORDER BY o.id
		LIMIT ?5)
	RETURNING ` + deliveryCols

// sqlClaimWindow claims like sqlClaimAny, for one destination, reading at
// most ?6 of its pending rows (the window, oldest first from outbox_due)
// and its rows in flight by lease (outbox_leased) older than the first
// pending row past the window, so that what it claims are the oldest due
// rows below that row. After a storm, and
// whenever little is owed, the due rows are all there: this short
// statement is the whole claim. (The SQLite driver compiles a statement's
// text at each run, so the common claim is kept short.) When it finds
// fewer due rows than the limit while more rows are pending than the
// window holds, ClaimDeliveries goes on with sqlClaim.
const sqlClaimWindow = `UPDATE outbox SET status = 'inflight', claimed_by = ?1, lease_until = ?2, updated_at = ?3
	WHERE id IN (
		SELECT id FROM (
			SELECT id FROM (
				SELECT o.id FROM (
					SELECT o.id, o.destination, o.key, o.next_attempt_at FROM outbox o INDEXED BY outbox_due
					WHERE o.status = 'pending' AND o.destination = ?4
					ORDER BY o.id
					LIMIT ?6) o
				WHERE o.next_attempt_at <= ?3 AND ` + sqlFirstOwed + `
				ORDER BY o.id
				LIMIT ?5)
			UNION ALL
			SELECT id FROM (
				SELECT o.id FROM outbox o INDEXED BY outbox_leased
				WHERE o.status = 'inflight' AND o.destination = ?4 AND o.lease_until <= ?3
					AND o.id < coalesce((SELECT p.id FROM outbox p INDEXED BY outbox_due
						WHERE p.status = 'pending' AND p.destination = ?4
						ORDER BY p.id
						LIMIT 1 OFFSET ?6), 9223372036854775807)
					AND ` + sqlFirstOwed + `
				ORDER BY o.id
				LIMIT ?5))
		ORDER BY id
		LIMIT ?5)
	RETURNING ` + deliveryCols

// sqlPendingBeyond reports whether destination ?1 has more than ?2 pending
// rows.
const sqlPendingBeyond = `SELECT EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_due
	WHERE status = 'pending' AND destination = ?1 ORDER BY id LIMIT 1 OFFSET ?2)`

// sqlClaim claims like sqlClaimAny, for one destination, reading at most
// ?6 of its pending rows plus one row per key, however many rows it owes.
//
// Pending rows are read oldest first from outbox_due, at most ?6 of them
// (the window), and rows in flight by lease from outbox_leased. After a
// storm the due rows are among the oldest and that is all a claim reads.
// When the window holds fewer due rows than the limit and did not hold
// every pending row (its oldest rows wait for a retry, and later rows of
// their keys queue behind them, as while the destination is down), the
// claim also walks the heads of the destination's keys (each key's oldest owed row, the only one that may be
// claimed) on outbox_open: keys finds each next key with one probe, heads
// its oldest owed row with another. Those due are all the due rows; with
// ?5 of them in the window, the oldest due rows are there, since the rows
// it did not read are newer. When the window held every pending row, every
// due pending head was in it and the expired leases are read apart, so the
// walk, whose cost is the number of keys owed (rows in flight included:
// thousands while OpsGenie confirms a storm's creates), is skipped.
const sqlClaim = `UPDATE outbox SET status = 'inflight', claimed_by = ?1, lease_until = ?2, updated_at = ?3
	WHERE id IN (
		WITH RECURSIVE
		win (id) AS MATERIALIZED (
			SELECT o.id FROM (
				SELECT o.id, o.destination, o.key, o.next_attempt_at FROM outbox o INDEXED BY outbox_due
				WHERE o.status = 'pending' AND o.destination = ?4
				ORDER BY o.id
				LIMIT ?6) o
			WHERE o.next_attempt_at <= ?3 AND ` + sqlFirstOwed + `
			ORDER BY o.id
			LIMIT ?5),
		keys (key) AS (
			SELECT (SELECT o.key FROM outbox o INDEXED BY outbox_open
				WHERE o.destination = ?4 AND o.status IN ('pending', 'inflight')
				ORDER BY o.key
				LIMIT 1)
			WHERE (SELECT count(*) FROM win) < ?5
				AND EXISTS (SELECT 1 FROM outbox o INDEXED BY outbox_due
					WHERE o.status = 'pending' AND o.destination = ?4
					ORDER BY o.id
					LIMIT 1 OFFSET ?6)
			UNION ALL
			SELECT (SELECT o.key FROM outbox o INDEXED BY outbox_open
				WHERE o.destination = ?4 AND o.status IN ('pending', 'inflight') AND o.key > k.key
				ORDER BY o.key
				LIMIT 1)
			FROM keys k WHERE k.key IS NOT NULL),
		heads (id) AS (
			SELECT (SELECT o.id FROM outbox o INDEXED BY outbox_open
				WHERE o.destination = ?4 AND o.key = k.key AND o.status IN ('pending', 'inflight')
				ORDER BY o.id
				LIMIT 1)
			FROM keys k WHERE k.key IS NOT NULL)
		SELECT id FROM (
			SELECT id FROM win
			UNION
			SELECT id FROM (
				SELECT o.id FROM outbox o INDEXED BY outbox_leased
				WHERE o.status = 'inflight' AND o.destination = ?4 AND o.lease_until <= ?3
					AND ` + sqlFirstOwed + `
				ORDER BY o.id
				LIMIT ?5)
			UNION
			SELECT o.id FROM heads h JOIN outbox o ON o.id = h.id
			WHERE (o.status = 'pending' AND o.next_attempt_at <= ?3)
				OR (o.status = 'inflight' AND o.lease_until <= ?3))
		ORDER BY id
		LIMIT ?5)
	RETURNING ` + deliveryCols

// claimWindow is how many of a destination's oldest pending rows sqlClaim
// reads for a claim of up to limit rows.
func claimWindow(limit int) int { return 4*limit + 64 }

// ClaimDeliveries implements store.Store; Limit ≤ 0 means store.DefaultLimit.
func (s *Store) ClaimDeliveries(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	limit := limitArg(req.Limit, store.DefaultLimit)
	args := []any{req.Owner, ns(req.Now.Add(req.Lease)), ns(req.Now), req.Destination, limit}
	if req.Destination != "" {
		return s.claimDestination(ctx, args, limit)
	}
	ds, err := scanDeliveries(s.w.QueryContext(ctx, sqlClaimAny, args...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	return s.claimed(ds), nil
}

// claimDestination claims up to limit due rows of one destination: those
// of its window (sqlClaimWindow) and, when they are fewer than limit while
// more rows are pending than the window holds, the oldest due heads of its
// keys (sqlClaim). The rows of the first statement are older than any due
// row it did not read and are in flight when the second one reads.
func (s *Store) claimDestination(ctx context.Context, args []any, limit int) ([]store.Delivery, error) {
	window := claimWindow(limit)
	if s.claimWindow != nil {
		window = s.claimWindow(limit)
	}
	args = append(args, window)
	ds, err := scanDeliveries(s.stmts.claimWindow.QueryContext(ctx, args...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	if len(ds) < limit {
		// The rows just claimed left the pending rows; what the window
		// did not hold is pending beyond window-len(ds) now (or beyond
		// more, when some of them were leased: then the walk runs for
		// nothing, which is only a cost).
		more, err := s.claimHeads(ctx, args, max(window-len(ds), 0), limit-len(ds))
		if err != nil && len(ds) == 0 {
			return nil, err
		}
		// After a failure the rows claimed so far still go out; the next
		// claim walks the heads again.
		ds = append(ds, more...)
	}
	return s.claimed(ds), nil
}

// claimHeads runs sqlClaim for up to n rows when the destination has more
// than seen pending rows.
func (s *Store) claimHeads(ctx context.Context, args []any, seen, n int) ([]store.Delivery, error) {
	var beyond bool
	if err := s.stmts.pendingBeyond.QueryRowContext(ctx, args[3], seen).Scan(&beyond); err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	if !beyond {
		return nil, nil
	}
	args[4] = n
	ds, err := scanDeliveries(s.stmts.claim.QueryContext(ctx, args...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	return ds, nil
}

// claimed sorts claimed rows oldest first and notes the write.
func (s *Store) claimed(ds []store.Delivery) []store.Delivery {
	slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	if len(ds) > 0 {
		s.ckpt.committed()
	}
	return ds
}

// sqlFinish records an attempt's outcome on a delivery claimed by ?7, and
// sqlInsAttempt logs the attempt.
const (
	sqlFinish = `UPDATE outbox SET status = ?1, attempts = attempts + 1,
			next_attempt_at = COALESCE(?2, next_attempt_at),
			last_error = CASE WHEN ?3 = '' THEN last_error ELSE ?3 END,
			claimed_by = '', lease_until = 0, updated_at = ?4, sent_at = COALESCE(?5, sent_at)
		WHERE id = ?6 AND status = 'inflight' AND claimed_by = ?7`
	sqlInsAttempt = `INSERT INTO delivery_attempts (delivery_id, at, status, error, code, duration_ns)
		VALUES (?, ?, ?, ?, ?, ?)`
)

// FinishDelivery implements store.Store.
func (s *Store) FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("sqlite: finish delivery %d: %w", id, err)
	}
	if err := s.finish(ctx, id, owner, o); err != nil {
		return fmt.Errorf("sqlite: finish delivery %d: %w", id, err)
	}
	s.ckpt.committed()
	return nil
}

func (s *Store) finish(ctx context.Context, id int64, owner string, o store.Outcome) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	at := ns(o.At)
	var sentAt any
	if o.Status == store.StatusSent {
		sentAt = at
	}
	var next any
	if o.Status == store.StatusPending {
		next = ns(o.NextAttemptAt)
	}
	res, err := tx.StmtContext(ctx, s.stmts.finish).ExecContext(ctx, string(o.Status), next, o.Error, at, sentAt, id, owner)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return missing(ctx, tx, id, store.ErrLeaseLost)
	}
	if _, err := tx.StmtContext(ctx, s.stmts.insAttempt).ExecContext(ctx, id, at, string(o.Status), o.Error, o.Code,
		int64(o.Duration)); err != nil {
		return err
	}
	return tx.Commit()
}

// missing explains why a conditional update of delivery id matched no row:
// ErrNotFound when there is no such delivery, otherwise orElse.
func missing(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64, orElse error) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return orElse
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, id int64, now time.Time) error {
	if now.IsZero() || !store.TimeInRange(now) {
		return fmt.Errorf("sqlite: retry delivery %d: %w: time %v", id, store.ErrInvalid, now)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: retry delivery %d: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = ?1, updated_at = ?1,
		claimed_by = '', lease_until = 0 WHERE id = ?2 AND status = 'dead'`, ns(now), id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = missing(ctx, tx, id, store.ErrConflict)
		}
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("sqlite: retry delivery %d: %w", id, err)
	}
	s.ckpt.committed()
	return nil
}

// ListDeliveries implements store.Store. Filters by key, episode or dead
// status use indexes; others scan the outbox newest first until Limit rows
// match.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{
		{"status", string(f.Status)}, {"destination", f.Destination}, {"key", f.Key}, {"episode_id", f.EpisodeID},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	// A key's (or an episode's) deliveries are found through its
	// transitions; every delivery's episode is stored with it.
	switch {
	case f.Key != "":
		where = append(where, "transition_id IN (SELECT id FROM transitions WHERE key = ?)")
		args = append(args, f.Key)
	case f.EpisodeID != "":
		where = append(where, `transition_id IN (SELECT id FROM transitions
			WHERE key IN (SELECT key FROM episodes WHERE id = ?))`)
		args = append(args, f.EpisodeID)
	}
	q := `SELECT ` + deliveryCols + ` FROM outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limitArg(f.Limit, store.DefaultLimit))
	ds, err := scanDeliveries(s.r.QueryContext(ctx, q, args...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list deliveries: %w", err)
	}
	return ds, nil
}

// Attempts implements store.Store.
func (s *Store) Attempts(ctx context.Context, id int64) ([]store.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, a.at, a.status, a.error, a.code, a.duration_ns
		FROM outbox o LEFT JOIN delivery_attempts a ON a.delivery_id = o.id
		WHERE o.id = ? ORDER BY a.id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts of %d: %w", id, err)
	}
	defer rows.Close()
	found := false
	out := []store.Attempt{}
	for rows.Next() {
		found = true
		var (
			a       store.Attempt
			at, dur sql.NullInt64
			status  sql.NullString
			msg     sql.NullString
			code    sql.NullInt64
		)
		if err := rows.Scan(&a.DeliveryID, &at, &status, &msg, &code, &dur); err != nil {
			return nil, fmt.Errorf("sqlite: attempts of %d: %w", id, err)
		}
		if !at.Valid {
			continue // the delivery exists but has no attempt yet
		}
		a.At, a.Status, a.Error = fromNS(at.Int64), store.DeliveryStatus(status.String), msg.String
		a.Code, a.Duration = int(code.Int64), time.Duration(dur.Int64)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: attempts of %d: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("sqlite: attempts of %d: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// PendingCounts implements store.Store.
func (s *Store) PendingCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT destination, COUNT(*) FROM outbox INDEXED BY outbox_open
		WHERE status IN ('pending', 'inflight') GROUP BY destination`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var d string
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("sqlite: pending counts: %w", err)
		}
		out[d] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending counts: %w", err)
	}
	return out, nil
}

// sqlNextDue returns the earliest time from which an owed row may be
// claimed, the first entry of outbox_due_at (migration 0004), whose
// expression and condition it repeats.
const sqlNextDue = `SELECT MIN(CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END)
	FROM outbox INDEXED BY outbox_due_at WHERE status IN ('pending', 'inflight')`

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.r.QueryRowContext(ctx, sqlNextDue).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromNS(next.Int64), true, nil
}
