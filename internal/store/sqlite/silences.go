package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// CreateSilence implements store.Store.
func (s *Store) CreateSilence(ctx context.Context, sil store.Silence) error {
	if err := sil.Validate(); err != nil {
		return fmt.Errorf("sqlite: create silence: %w", err)
	}
	queues, err := json.Marshal(nonNil(sil.Queues))
	if err != nil {
		return fmt.Errorf("sqlite: create silence %s: %w", sil.ID, err)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO silences
		(id, queues, rule, starts_at, ends_at, comment, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		sil.ID, string(queues), sil.Rule, ns(sil.Starts), ns(sil.Ends), sil.Comment, sil.CreatedBy, ns(sil.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create silence %s: %w", sil.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create silence %s: %w", sil.ID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: create silence %s: id exists: %w", sil.ID, store.ErrConflict)
	}
	s.ckpt.committed()
	return nil
}

// Silences implements store.Store.
func (s *Store) Silences(ctx context.Context) ([]store.Silence, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, queues, rule, starts_at, ends_at, comment, created_by, created_at
		FROM silences ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: silences: %w", err)
	}
	defer rows.Close()
	out := []store.Silence{}
	for rows.Next() {
		var (
			sil                       store.Silence
			queues                    string
			starts, ends, createdAtNS int64
		)
		if err := rows.Scan(&sil.ID, &queues, &sil.Rule, &starts, &ends, &sil.Comment, &sil.CreatedBy, &createdAtNS); err != nil {
			return nil, fmt.Errorf("sqlite: silences: %w", err)
		}
		if err := json.Unmarshal([]byte(queues), &sil.Queues); err != nil {
			return nil, fmt.Errorf("sqlite: silence %s: queues: %w", sil.ID, err)
		}
		sil.Queues = nonNil(sil.Queues)
		sil.Starts, sil.Ends, sil.CreatedAt = fromNS(starts), fromNS(ends), fromNS(createdAtNS)
		out = append(out, sil)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: silences: %w", err)
	}
	return out, nil
}

// ExpireSilence implements store.Store.
func (s *Store) ExpireSilence(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() || !store.TimeInRange(at) {
		return fmt.Errorf("sqlite: expire silence %s: %w: time %v", id, store.ErrInvalid, at)
	}
	t := ns(at)
	res, err := s.w.ExecContext(ctx, `UPDATE silences SET
		starts_at = MIN(starts_at, ?), ends_at = MIN(ends_at, ?) WHERE id = ?`, t, t, id)
	if err != nil {
		return fmt.Errorf("sqlite: expire silence %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: expire silence %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: expire silence %s: %w", id, store.ErrNotFound)
	}
	s.ckpt.committed()
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
