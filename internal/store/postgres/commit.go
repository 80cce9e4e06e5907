package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// Fence is the leadership a commit is conditional on: the lease row Name
// must still be held by Holder at Epoch (see Store.Acquire).
type Fence struct {
	Name   string
	Holder string
	Epoch  int64
}

// ErrFenced means a fenced commit was refused because its fence's epoch is
// no longer current: another replica took the leadership. It wraps
// store.ErrConflict.
var ErrFenced = fmt.Errorf("%w: leadership lost to another replica", store.ErrConflict)

// Commit implements store.Store. The batch is validated first; then one
// transaction writes, per transition, a history row and one outbox row per
// destination, and per key and episode the state after the last transition
// of the batch. The statements are sent in one pipelined batch.
func (s *Store) Commit(ctx context.Context, ts []alert.Transition) error {
	return s.commit(ctx, nil, ts)
}

// CommitFenced is Commit made conditional on f: in the same transaction it
// takes a share lock on f's lease row and fails with ErrFenced, storing
// nothing, unless the row still names f.Holder at f.Epoch. A replica taking
// the leadership updates that row, so it waits for a fenced commit in
// flight, and every fenced commit after it fails.
func (s *Store) CommitFenced(ctx context.Context, f Fence, ts []alert.Transition) error {
	return s.commit(ctx, &f, ts)
}

func (s *Store) commit(ctx context.Context, f *Fence, ts []alert.Transition) error {
	if len(ts) == 0 {
		return nil
	}
	for i, t := range ts {
		if err := store.ValidateTransition(t); err != nil {
			return fmt.Errorf("postgres: commit: transition %d: %w", i, err)
		}
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.write(ctx, tx, f, ts) }); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// write queues the batch's statements after the commit lock (and the fence
// check) and sends them in one round trip.
func (s *Store) write(ctx context.Context, tx pgx.Tx, f *Fence, ts []alert.Transition) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.commitLock); err != nil {
		return err
	}
	if f != nil {
		if err := checkFence(ctx, tx, *f); err != nil {
			return err
		}
	}
	next, stop := codec.Encoder(ts)
	defer stop()
	es := make([]codec.Encoded, len(ts))
	for i := range ts {
		e, err := next()
		if err != nil {
			return fmt.Errorf("transition %d (%s): %w: %w", i, ts[i].Key, store.ErrInvalid, err)
		}
		es[i] = e
	}
	if len(es) >= s.bulkFrom {
		return writeBulk(ctx, tx, es)
	}
	b := &pgx.Batch{}
	for i := range es {
		queueWrite(b, &es[i])
	}
	return tx.SendBatch(ctx, b).Close()
}

// writeBulk writes a large batch in a fixed number of round trips: the
// history rows' ids are taken from their sequence first (the commit lock
// keeps them in commit order), history and outbox rows are copied in, and
// episodes and series are upserted from arrays, one statement each.
func writeBulk(ctx context.Context, tx pgx.Tx, es []codec.Encoded) error {
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('transitions', 'id'))
		FROM generate_series(1, $1)`, len(es))
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	slices.Sort(ids)
	hist := make([][]any, len(es))
	var outbox [][]any
	var ep episodeCols
	var se seriesCols
	for i := range es {
		e := &es[i]
		t := &e.T
		at := codec.NS(t.At)
		hist[i] = []any{ids[i], t.Key, at, e.Data}
		for _, d := range t.Destinations {
			outbox = append(outbox, []any{d, t.Key, e.EpisodeID, string(t.Action), ids[i], "pending", at, at, at})
		}
		if e.LastEp {
			ep.add(e.Episode, e.EpisodeData)
		}
		if e.LastSeries {
			open := t.Series.Episode != nil && t.Series.Episode.Open()
			se.add(t.Key, string(t.Series.State), open, e.SeriesEpisode, t.Series.Version, at, e.Series)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"transitions"}, []string{"id", "key", "at", "data"},
		pgx.CopyFromRows(hist)); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if len(outbox) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"destination", "key", "episode_id", "action",
			"transition_id", "status", "next_attempt_at", "created_at", "updated_at"}, pgx.CopyFromRows(outbox)); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	b := &pgx.Batch{}
	if len(ep.id) > 0 {
		b.Queue(`INSERT INTO episodes (id, key, rule, queue_id, start_at, end_at, worst, priority, data)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
				$7::float8[], $8::text[], $9::text[])
			ON CONFLICT (id) DO UPDATE SET end_at = excluded.end_at, worst = excluded.worst,
				priority = excluded.priority, data = excluded.data`,
			ep.id, ep.key, ep.rule, ep.queue, ep.start, ep.end, ep.worst, ep.priority, ep.data)
	}
	b.Queue(`INSERT INTO series (key, state, episode_open, episode_id, version, updated_at, data)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
		ON CONFLICT (key) DO UPDATE SET state = excluded.state, episode_open = excluded.episode_open,
			episode_id = excluded.episode_id, version = excluded.version, updated_at = excluded.updated_at,
			data = excluded.data`,
		se.key, se.state, se.open, se.episode, se.version, se.updated, se.data)
	return tx.SendBatch(ctx, b).Close()
}

// episodeCols are the episodes rows of a bulk write, column by column.
type episodeCols struct {
	id, key, rule, queue, priority, data []string
	start, end                           []int64
	worst                                []float64
}

func (c *episodeCols) add(ep *alert.Episode, data string) {
	c.id, c.key, c.rule, c.queue = append(c.id, ep.ID), append(c.key, ep.Key), append(c.rule, ep.Rule), append(c.queue, ep.QueueID)
	c.start, c.end, c.worst = append(c.start, codec.NS(ep.Start)), append(c.end, codec.NS(ep.End)), append(c.worst, ep.Worst)
	c.priority, c.data = append(c.priority, string(ep.Priority)), append(c.data, data)
}

// seriesCols are the series rows of a bulk write, column by column.
type seriesCols struct {
	key, state, episode, data []string
	open                      []bool
	version, updated          []int64
}

func (c *seriesCols) add(key, state string, open bool, episode string, version, updated int64, data string) {
	c.key, c.state, c.open, c.episode = append(c.key, key), append(c.state, state), append(c.open, open), append(c.episode, episode)
	c.version, c.updated, c.data = append(c.version, version), append(c.updated, updated), append(c.data, data)
}

// checkFence fails with ErrFenced unless the lease row of f names f's holder
// and epoch, and keeps the row share-locked until the transaction ends.
func checkFence(ctx context.Context, tx pgx.Tx, f Fence) error {
	var holder string
	var epoch int64
	err := tx.QueryRow(ctx, `SELECT holder, epoch FROM leader_lease WHERE name = $1 FOR SHARE`, f.Name).
		Scan(&holder, &epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: no lease %q", ErrFenced, f.Name)
	}
	if err != nil {
		return err
	}
	if holder != f.Holder || epoch != f.Epoch {
		return fmt.Errorf("%w: lease %q is at epoch %d of %s, not %d of %s", ErrFenced, f.Name, epoch, holder, f.Epoch, f.Holder)
	}
	return nil
}

// queueWrite queues the statements of one transition: its history row and
// outbox rows in one statement, and when it is the last of its batch to
// touch them, its episode and series state.
func queueWrite(b *pgx.Batch, e *codec.Encoded) {
	t := &e.T
	at := codec.NS(t.At)
	if len(t.Destinations) > 0 {
		b.Queue(`WITH h AS (INSERT INTO transitions (key, at, data) VALUES ($1, $2, $3) RETURNING id)
			INSERT INTO outbox (destination, key, episode_id, action, transition_id, status,
				next_attempt_at, created_at, updated_at)
			SELECT d, $1, $4, $5, h.id, 'pending', $2, $2, $2 FROM h, unnest($6::text[]) WITH ORDINALITY AS u(d, n)
			ORDER BY n`, t.Key, at, e.Data, e.EpisodeID, string(t.Action), t.Destinations)
	} else {
		b.Queue(`INSERT INTO transitions (key, at, data) VALUES ($1, $2, $3)`, t.Key, at, e.Data)
	}
	if e.LastEp {
		ep := e.Episode
		b.Queue(`INSERT INTO episodes (id, key, rule, queue_id, start_at, end_at, worst, priority, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO UPDATE SET end_at = excluded.end_at, worst = excluded.worst,
				priority = excluded.priority, data = excluded.data`,
			ep.ID, ep.Key, ep.Rule, ep.QueueID, codec.NS(ep.Start), codec.NS(ep.End), ep.Worst, string(ep.Priority),
			e.EpisodeData)
	}
	if e.LastSeries {
		open := t.Series.Episode != nil && t.Series.Episode.Open()
		b.Queue(`INSERT INTO series (key, state, episode_open, episode_id, version, updated_at, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (key) DO UPDATE SET state = excluded.state, episode_open = excluded.episode_open,
				episode_id = excluded.episode_id, version = excluded.version, updated_at = excluded.updated_at,
				data = excluded.data`,
			t.Key, string(t.Series.State), open, e.SeriesEpisode, t.Series.Version, at, e.Series)
	}
}

// LoadSeries implements store.Store.
func (s *Store) LoadSeries(ctx context.Context) ([]alert.SeriesState, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.data, e.data FROM series s
		LEFT JOIN episodes e ON s.episode_id <> '' AND e.id = s.episode_id
		WHERE s.state <> 'ok' OR s.episode_open ORDER BY s.key`)
	if err != nil {
		return nil, fmt.Errorf("postgres: load series: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (alert.SeriesState, error) {
		var data string
		var ep *string
		var st alert.SeriesState
		if err := row.Scan(&data, &ep); err != nil {
			return st, err
		}
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			return st, err
		}
		if ep != nil {
			st.Episode = new(alert.Episode)
			if err := json.Unmarshal([]byte(*ep), st.Episode); err != nil {
				return st, fmt.Errorf("series %s: episode: %w", st.Key, err)
			}
		}
		return st, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: load series: %w", err)
	}
	return out, nil
}

// scanJSON decodes rows of one JSON text column.
func scanJSON[T any](rows pgx.Rows) ([]T, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var data string
		var v T
		if err := row.Scan(&data); err != nil {
			return v, err
		}
		return v, json.Unmarshal([]byte(data), &v)
	})
}

// Episodes implements store.Store; limit ≤ 0 returns every episode.
func (s *Store) Episodes(ctx context.Context, key string, limit int) ([]alert.Episode, error) {
	rows, err := s.pool.Query(ctx, `SELECT data FROM episodes WHERE key = $1
		ORDER BY start_at DESC, id DESC LIMIT $2`, key, limitArg(limit, 0))
	if err == nil {
		var out []alert.Episode
		if out, err = scanJSON[alert.Episode](rows); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("postgres: episodes of %s: %w", key, err)
}

// History implements store.Store; limit ≤ 0 returns every transition.
func (s *Store) History(ctx context.Context, key string, limit int) ([]alert.Transition, error) {
	rows, err := s.pool.Query(ctx, `SELECT data FROM transitions WHERE key = $1
		ORDER BY at DESC, id DESC LIMIT $2`, key, limitArg(limit, 0))
	if err == nil {
		var out []alert.Transition
		if out, err = scanJSON[alert.Transition](rows); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("postgres: history of %s: %w", key, err)
}

// limitArg turns a caller's limit into a LIMIT argument: dflt when limit is
// not positive, where a dflt of 0 means no limit (NULL).
func limitArg(limit, dflt int) *int {
	switch {
	case limit > 0:
		return &limit
	case dflt > 0:
		return &dflt
	}
	return nil
}
