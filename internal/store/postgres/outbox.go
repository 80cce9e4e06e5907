package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// deliveryCols are the outbox columns scanDelivery reads, in order.
// The transition is read from its history row.
const deliveryCols = `o.id, o.destination, o.key, o.episode_id, o.action,
	(SELECT data FROM transitions WHERE transitions.id = o.transition_id), o.status, o.attempts,
	o.next_attempt_at, o.last_error, o.claimed_by, o.lease_until, o.created_at, o.updated_at, o.sent_at`

func scanDelivery(row pgx.CollectableRow) (store.Delivery, error) { return codec.ScanDelivery(row) }

// sqlFirstOwed holds for an owed outbox row o when no older row of its
// destination and key is still owed (pending or in flight): only the first
// owed delivery of an alert may be claimed. OFFSET 0 keeps it a subquery,
// evaluated as one probe of outbox_open per row: PostgreSQL may otherwise
// turn it into a join, and an anti join planned on a row estimate of one (a
// storm's rows not yet analyzed) rescanned all of the destination's owed
// rows for each row; a claim over 84,000 rows took minutes.
const sqlFirstOwed = `NOT EXISTS (
	SELECT 1 FROM outbox p
	WHERE p.destination = o.destination AND p.key = o.key AND p.id < o.id
		AND p.status IN ('pending', 'inflight')
	OFFSET 0)`

// sqlDue holds for an owed outbox row o that may be claimed at $3: pending
// and not before its next attempt, or in flight with an expired lease, and
// the first owed of its destination and key.
const sqlDue = `((o.status = 'pending' AND o.next_attempt_at <= $3)
		OR (o.status = 'inflight' AND o.lease_until <= $3))
	AND ` + sqlFirstOwed

// sqlClaimSet is the end of the claim statements: the rows of the CTE due
// are claimed for $1 until $2 at $3 and returned.
const sqlClaimSet = `
	UPDATE outbox o SET status = 'inflight', claimed_by = $1, lease_until = $2, updated_at = $3
	FROM due WHERE o.id = due.id
	RETURNING ` + deliveryCols

// sqlDueNow holds for an outbox row o that is pending and not before its
// next attempt at $3, or in flight with a lease that expired by then.
const sqlDueNow = `((o.status = 'pending' AND o.next_attempt_at <= $3)
		OR (o.status = 'inflight' AND o.lease_until <= $3))`

// sqlClaim claims up to $4 due rows of destination $5 among its $6 oldest
// owed rows, oldest first, in one statement. It reads those rows in id
// order (outbox_claim, which only a statement stating that the destination
// is not empty can use) and checks each that is due for an older owed row
// of its key (one probe of outbox_open). After a storm, the due rows are
// among the oldest and this is all a claim reads; when the oldest rows are
// in flight or wait for a retry, with later rows of their keys queued
// behind them (a destination that is down), ClaimDeliveries goes on with
// sqlClaimHeads.
//
// That needs a plan made for the destination at hand. A plan made once for
// any destination (PostgreSQL's generic plan of a prepared statement, which
// it may switch to after five executions) estimates every destination to
// own the average share of the rows; when one destination owns nearly all
// of them (it is down and its rows pile up) that share is everything, and
// the plan walks outbox_open_id past all of that destination's rows to find
// another's: 84,000 rows, about 12 ms, at every claim. ClaimDeliveries
// therefore sends this statement unnamed (claimMode), planned at each call,
// and the destination is a plain equality rather than an optional filter.
//
// The ids chosen are passed to the locking scan as an array, so that it
// probes them by primary key. FOR UPDATE SKIP LOCKED passes over rows
// another claimer is taking right now, so claimers never wait for each
// other or take the same row. A row another transaction changed since the
// statement's snapshot is checked again as it is now (it is due no longer
// once claimed, sent or dead). The order check reads the snapshot, in which
// a row being claimed or finished by another transaction still counts as
// owed, so it can only hold a row back, never let one overtake.
const sqlClaim = `WITH due AS (
		SELECT o.id FROM outbox o
		WHERE o.id = ANY (ARRAY(
				SELECT o.id FROM (
					SELECT o.id, o.destination, o.key, o.status, o.next_attempt_at, o.lease_until FROM outbox o
					WHERE o.destination = $5 AND o.destination <> '' AND o.status IN ('pending', 'inflight')
					ORDER BY o.id
					LIMIT $6) o
				WHERE ` + sqlDue + `
				ORDER BY o.id
				LIMIT $4))
			AND o.status IN ('pending', 'inflight') AND ` + sqlDueNow + `
		FOR UPDATE SKIP LOCKED)` + sqlClaimSet

// claimWindow is how many of a destination's oldest owed rows sqlClaim
// reads for a claim of up to limit rows.
func claimWindow(limit int) int { return 4*limit + 64 }

// sqlClaimHeads claims up to $4 due rows of destination $5, oldest first,
// reading one row per key of the destination: the head of each key, its
// oldest owed row, which is the only one that may be claimed (deliveries of
// one alert go out strictly in order). A recursive query walks the
// destination's distinct keys on outbox_open (destination, key, id), one
// index probe per key for the first owed row after the previous key, so
// the claim costs the number of keys, not of rows: a destination that is
// down owes tens of thousands of rows over a few hundred or thousand
// alerts, and every later row of a key waits behind its head.
//
// Every probe is an equality on the destination, so the plan does not
// depend on how the rows are spread over destinations, and the statement
// is prepared once per connection. Locking is as in sqlClaim; the heads are
// those of the snapshot.
const sqlClaimHeads = `WITH RECURSIVE heads (key, id, status, next_attempt_at, lease_until) AS (
		(SELECT o.key, o.id, o.status, o.next_attempt_at, o.lease_until FROM outbox o
		WHERE o.destination = $5 AND o.status IN ('pending', 'inflight')
		ORDER BY o.key, o.id
		LIMIT 1)
		UNION ALL
		SELECT n.* FROM heads h CROSS JOIN LATERAL (
			SELECT o.key, o.id, o.status, o.next_attempt_at, o.lease_until FROM outbox o
			WHERE o.destination = $5 AND o.status IN ('pending', 'inflight') AND o.key > h.key
			ORDER BY o.key, o.id
			LIMIT 1) n),
	due AS (
		SELECT o.id FROM outbox o
		WHERE o.id = ANY (ARRAY(SELECT o.id FROM heads o WHERE ` + sqlDueNow + ` ORDER BY o.id LIMIT $4))
			AND o.status IN ('pending', 'inflight') AND ` + sqlDueNow + `
		FOR UPDATE SKIP LOCKED)` + sqlClaimSet

// sqlClaimAny is sqlClaim across all destinations: it walks every owed row
// in id order (outbox_open_id).
const sqlClaimAny = `WITH due AS (
		SELECT o.id FROM outbox o
		WHERE o.status IN ('pending', 'inflight') AND ` + sqlDue + `
		ORDER BY o.id
		LIMIT $4
		FOR UPDATE SKIP LOCKED)` + sqlClaimSet

// ClaimDeliveries implements store.Store; Limit ≤ 0 means store.DefaultLimit.
//
// A claim of one destination first claims the due rows among its oldest
// (sqlClaim) and, when those are fewer than the limit, the oldest due heads
// of its keys (sqlClaimHeads), in a second transaction: together they are
// the oldest due rows, since those of the first statement are older than
// any due row it did not read, and are in flight when the second one
// reads. When the second statement fails, the rows the first one claimed
// are returned without error.
func (s *Store) ClaimDeliveries(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	limit := *limitArg(req.Limit, store.DefaultLimit)
	args := []any{req.Owner, codec.NS(req.Now.Add(req.Lease)), codec.NS(req.Now), limit}
	if req.Destination == "" {
		return s.claim(ctx, sqlClaimAny, args...)
	}
	args = append(args, req.Destination)
	window := claimWindow(limit)
	if s.claimWindow != nil {
		window = s.claimWindow(limit)
	}
	ds, err := s.claim(ctx, sqlClaim, append([]any{s.claimMode}, append(args, window)...)...)
	if err != nil || len(ds) >= limit {
		return ds, err
	}
	args[3] = limit - len(ds)
	more, err := s.claim(ctx, sqlClaimHeads, args...)
	if err != nil && len(ds) > 0 {
		return ds, nil
	}
	if err != nil {
		return nil, err
	}
	ds = append(ds, more...)
	slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return ds, nil
}

// claim runs claim statement q and returns the rows it claimed in id order.
func (s *Store) claim(ctx context.Context, q string, args ...any) ([]store.Delivery, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	ds, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return ds, nil
}

// FinishDelivery implements store.Store.
func (s *Store) FinishDelivery(ctx context.Context, id int64, owner string, o store.Outcome) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("postgres: finish delivery %d: %w", id, err)
	}
	at := codec.NS(o.At)
	var sentAt, next *int64
	if o.Status == store.StatusSent {
		sentAt = &at
	}
	if o.Status == store.StatusPending {
		n := codec.NS(o.NextAttemptAt)
		next = &n
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = $1, attempts = attempts + 1,
				next_attempt_at = COALESCE($2, next_attempt_at),
				last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END,
				claimed_by = '', lease_until = 0, updated_at = $4, sent_at = COALESCE($5, sent_at)
			WHERE id = $6 AND status = 'inflight' AND claimed_by = $7`,
			string(o.Status), next, o.Error, at, sentAt, id, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return missing(ctx, tx, id, store.ErrLeaseLost)
		}
		_, err = tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, at, status, error, code, duration_ns)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, at, string(o.Status), o.Error, o.Code, int64(o.Duration))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: finish delivery %d: %w", id, err)
	}
	return nil
}

// missing explains why a conditional update of delivery id matched no row:
// ErrNotFound when there is no such delivery, otherwise orElse.
func missing(ctx context.Context, tx pgx.Tx, id int64, orElse error) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return orElse
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, id int64, now time.Time) error {
	if now.IsZero() || !store.TimeInRange(now) {
		return fmt.Errorf("postgres: retry delivery %d: %w: time %v", id, store.ErrInvalid, now)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = $1, updated_at = $1,
			claimed_by = '', lease_until = 0 WHERE id = $2 AND status = 'dead'`, codec.NS(now), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return missing(ctx, tx, id, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: retry delivery %d: %w", id, err)
	}
	return nil
}

// ListDeliveries implements store.Store.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range []struct{ col, val string }{
		{"status", string(f.Status)}, {"destination", f.Destination}, {"key", f.Key}, {"episode_id", f.EpisodeID},
	} {
		if c.val != "" {
			where = append(where, "o."+c.col+" = "+arg(c.val))
		}
	}
	q := `SELECT ` + deliveryCols + ` FROM outbox o`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY o.id DESC LIMIT ` + arg(*limitArg(f.Limit, store.DefaultLimit))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	ds, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	return ds, nil
}

// Attempts implements store.Store.
func (s *Store) Attempts(ctx context.Context, id int64) ([]store.Attempt, error) {
	found := false
	out := []store.Attempt{}
	rows, err := s.pool.Query(ctx, `SELECT a.at, a.status, a.error, a.code, a.duration_ns
		FROM outbox o LEFT JOIN delivery_attempts a ON a.delivery_id = o.id
		WHERE o.id = $1 ORDER BY a.id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts of %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		found = true
		var (
			at, dur, code *int64
			status, msg   *string
		)
		if err := rows.Scan(&at, &status, &msg, &code, &dur); err != nil {
			return nil, fmt.Errorf("postgres: attempts of %d: %w", id, err)
		}
		if at == nil {
			continue // the delivery exists but has no attempt yet
		}
		out = append(out, store.Attempt{DeliveryID: id, At: codec.FromNS(*at), Status: store.DeliveryStatus(*status),
			Error: *msg, Code: int(*code), Duration: time.Duration(*dur)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: attempts of %d: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("postgres: attempts of %d: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// PendingCounts implements store.Store.
func (s *Store) PendingCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT destination, COUNT(*) FROM outbox
		WHERE status IN ('pending', 'inflight') GROUP BY destination`)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending counts: %w", err)
	}
	out := map[string]int{}
	var d string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&d, &n}, func() error { out[d] = n; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: pending counts: %w", err)
	}
	return out, nil
}

// sqlNextDue returns the earliest time from which an owed row may be
// claimed, read from the first entry of outbox_due_at (migration 0004),
// whose expression and condition it repeats.
const sqlNextDue = `SELECT MIN(CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END)
	FROM outbox WHERE status IN ('pending', 'inflight')`

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next *int64
	err := s.pool.QueryRow(ctx, sqlNextDue).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: next due: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return codec.FromNS(*next), true, nil
}
