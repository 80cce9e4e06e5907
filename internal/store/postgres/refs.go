package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/queuewatch/queuewatch/internal/store"
	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// PutRef implements store.Store.
func (s *Store) PutRef(ctx context.Context, r store.Ref) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("postgres: put ref: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO refs (destination, episode_id, key, value, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (destination, episode_id) DO UPDATE SET key = excluded.key, value = excluded.value,
			updated_at = excluded.updated_at`,
		r.Destination, r.EpisodeID, r.Key, r.Value, codec.NS(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("postgres: put ref %s/%s: %w", r.Destination, r.EpisodeID, err)
	}
	return nil
}

// GetRef implements store.Store.
func (s *Store) GetRef(ctx context.Context, destination, episodeID string) (store.Ref, error) {
	r := store.Ref{Destination: destination, EpisodeID: episodeID}
	var updated int64
	err := s.pool.QueryRow(ctx, `SELECT key, value, updated_at FROM refs
		WHERE destination = $1 AND episode_id = $2`, destination, episodeID).Scan(&r.Key, &r.Value, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Ref{}, fmt.Errorf("postgres: get ref %s/%s: %w", destination, episodeID, err)
	}
	r.UpdatedAt = codec.FromNS(updated)
	return r, nil
}

// CreateSilence implements store.Store.
func (s *Store) CreateSilence(ctx context.Context, sil store.Silence) error {
	if err := sil.Validate(); err != nil {
		return fmt.Errorf("postgres: create silence: %w", err)
	}
	queues, err := json.Marshal(nonNil(sil.Queues))
	if err != nil {
		return fmt.Errorf("postgres: create silence %s: %w", sil.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO silences
		(id, queues, rule, starts_at, ends_at, comment, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		sil.ID, string(queues), sil.Rule, codec.NS(sil.Starts), codec.NS(sil.Ends), sil.Comment, sil.CreatedBy,
		codec.NS(sil.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create silence %s: %w", sil.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create silence %s: id exists: %w", sil.ID, store.ErrConflict)
	}
	return nil
}

// Silences implements store.Store.
func (s *Store) Silences(ctx context.Context) ([]store.Silence, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, queues, rule, starts_at, ends_at, comment, created_by, created_at
		FROM silences ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: silences: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Silence, error) {
		var (
			sil                   store.Silence
			queues                string
			starts, ends, created int64
		)
		if err := row.Scan(&sil.ID, &queues, &sil.Rule, &starts, &ends, &sil.Comment, &sil.CreatedBy, &created); err != nil {
			return sil, err
		}
		if err := json.Unmarshal([]byte(queues), &sil.Queues); err != nil {
			return sil, fmt.Errorf("silence %s: queues: %w", sil.ID, err)
		}
		sil.Queues = nonNil(sil.Queues)
		sil.Starts, sil.Ends, sil.CreatedAt = codec.FromNS(starts), codec.FromNS(ends), codec.FromNS(created)
		return sil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: silences: %w", err)
	}
	if out == nil {
		out = []store.Silence{}
	}
	return out, nil
}

// ExpireSilence implements store.Store.
func (s *Store) ExpireSilence(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() || !store.TimeInRange(at) {
		return fmt.Errorf("postgres: expire silence %s: %w: time %v", id, store.ErrInvalid, at)
	}
	t := codec.NS(at)
	tag, err := s.pool.Exec(ctx, `UPDATE silences SET
		starts_at = LEAST(starts_at, $1), ends_at = LEAST(ends_at, $1) WHERE id = $2`, t, id)
	if err != nil {
		return fmt.Errorf("postgres: expire silence %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: expire silence %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
