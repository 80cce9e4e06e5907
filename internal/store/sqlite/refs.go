package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/queuewatch/queuewatch/internal/store"
)

// PutRef implements store.Store.
func (s *Store) PutRef(ctx context.Context, r store.Ref) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlite: put ref: %w", err)
	}
	_, err := s.stmts.putRef.ExecContext(ctx, r.Destination, r.EpisodeID, r.Key, r.Value, ns(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: put ref %s/%s: %w", r.Destination, r.EpisodeID, err)
	}
	s.ckpt.committed()
	return nil
}

// sqlPutRef stores (replaces) a ref.
const sqlPutRef = `INSERT INTO refs (destination, episode_id, key, value, updated_at)
	VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (destination, episode_id) DO UPDATE SET key = excluded.key, value = excluded.value,
		updated_at = excluded.updated_at`

// GetRef implements store.Store.
func (s *Store) GetRef(ctx context.Context, destination, episodeID string) (store.Ref, error) {
	r := store.Ref{Destination: destination, EpisodeID: episodeID}
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT key, value, updated_at FROM refs
		WHERE destination = ? AND episode_id = ?`, destination, episodeID).Scan(&r.Key, &r.Value, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Ref{}, fmt.Errorf("sqlite: get ref %s/%s: %w", destination, episodeID, err)
	}
	r.UpdatedAt = fromNS(updated)
	return r, nil
}
