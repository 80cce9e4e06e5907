package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// Commit implements store.Store. The batch is validated first; then one
// immediate transaction writes, per transition, a history row and one outbox
// row per destination, and per key and episode the state after the last
// transition of the batch. Large batches are encoded to JSON on another
// goroutine while the transaction writes.
func (s *Store) Commit(ctx context.Context, ts []alert.Transition) error {
	if len(ts) == 0 {
		return nil
	}
	for i, t := range ts {
		if err := store.ValidateTransition(t); err != nil {
			return fmt.Errorf("sqlite: commit: transition %d: %w", i, err)
		}
	}
	if err := s.commit(ctx, ts); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.ckpt.committed()
	return nil
}

func (s *Store) commit(ctx context.Context, ts []alert.Transition) error {
	next, stop := codec.Encoder(ts)
	defer stop()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The driver watches a cancellable context with a goroutine per
	// statement, which costs more than the statement: the statements run
	// without it and the context is checked once per transition instead.
	sctx := context.WithoutCancel(ctx)
	w := txStmts{
		insT: tx.StmtContext(sctx, s.stmts.insTransition),
		insO: tx.StmtContext(sctx, s.stmts.insOutbox),
		upsS: tx.StmtContext(sctx, s.stmts.upsSeries),
		upsE: tx.StmtContext(sctx, s.stmts.upsEpisode),
	}
	for i := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := next()
		if err != nil {
			return fmt.Errorf("transition %d (%s): %w: %w", i, ts[i].Key, store.ErrInvalid, err)
		}
		if err := w.write(sctx, &e); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// txStmts are the commit statements bound to one transaction.
type txStmts struct{ insT, insO, upsS, upsE *sql.Stmt }

// write stores one transition: its history row, its outbox rows (which
// refer to the history row for the transition itself) and, when it is the
// last of its batch to touch them, its episode and series state.
func (w txStmts) write(ctx context.Context, e *codec.Encoded) error {
	t := &e.T
	at := ns(t.At)
	res, err := w.insT.ExecContext(ctx, t.Key, at, e.Data)
	if err != nil {
		return fmt.Errorf("history of %s: %w", t.Key, err)
	}
	if len(t.Destinations) > 0 {
		tid, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("history of %s: %w", t.Key, err)
		}
		for _, d := range t.Destinations {
			if _, err := w.insO.ExecContext(ctx, d, t.Key, e.EpisodeID, string(t.Action), tid, at, at, at); err != nil {
				return fmt.Errorf("outbox of %s to %s: %w", t.Key, d, err)
			}
		}
	}
	if e.LastEp {
		ep := e.Episode
		if _, err := w.upsE.ExecContext(ctx, ep.ID, ep.Key, ep.Rule, ep.QueueID, ns(ep.Start), ns(ep.End),
			ep.Worst, string(ep.Priority), e.EpisodeData); err != nil {
			return fmt.Errorf("episode %s: %w", ep.ID, err)
		}
	}
	if e.LastSeries {
		open := t.Series.Episode != nil && t.Series.Episode.Open()
		if _, err := w.upsS.ExecContext(ctx, t.Key, string(t.Series.State), boolInt(open), e.SeriesEpisode,
			t.Series.Version, at, e.Series); err != nil {
			return fmt.Errorf("series %s: %w", t.Key, err)
		}
	}
	return nil
}

// LoadSeries implements store.Store.
func (s *Store) LoadSeries(ctx context.Context) ([]alert.SeriesState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.data, e.data FROM series s
		LEFT JOIN episodes e ON s.episode_id <> '' AND e.id = s.episode_id
		WHERE s.state <> 'ok' OR s.episode_open = 1 ORDER BY s.key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load series: %w", err)
	}
	defer rows.Close()
	var out []alert.SeriesState
	for rows.Next() {
		var data string
		var ep sql.NullString
		if err := rows.Scan(&data, &ep); err != nil {
			return nil, fmt.Errorf("sqlite: load series: %w", err)
		}
		var st alert.SeriesState
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			return nil, fmt.Errorf("sqlite: load series: %w", err)
		}
		if ep.Valid {
			st.Episode = new(alert.Episode)
			if err := json.Unmarshal([]byte(ep.String), st.Episode); err != nil {
				return nil, fmt.Errorf("sqlite: load series %s: episode: %w", st.Key, err)
			}
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load series: %w", err)
	}
	return out, nil
}

// scanJSON decodes rows of one JSON column and closes rows.
func scanJSON[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Episodes implements store.Store; limit ≤ 0 returns every episode.
func (s *Store) Episodes(ctx context.Context, key string, limit int) ([]alert.Episode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT data FROM episodes WHERE key = ?
		ORDER BY start_at DESC, id DESC LIMIT ?`, key, limitArg(limit, -1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: episodes of %s: %w", key, err)
	}
	out, err := scanJSON[alert.Episode](rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: episodes of %s: %w", key, err)
	}
	return out, nil
}

// History implements store.Store; limit ≤ 0 returns every transition.
func (s *Store) History(ctx context.Context, key string, limit int) ([]alert.Transition, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT data FROM transitions WHERE key = ? ORDER BY at DESC, id DESC LIMIT ?`, key, limitArg(limit, -1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of %s: %w", key, err)
	}
	out, err := scanJSON[alert.Transition](rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of %s: %w", key, err)
	}
	return out, nil
}
