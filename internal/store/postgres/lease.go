package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Acquire takes the lease row name for holder until ttl from now, on the
// database's clock, when the row is free, expired or already holder's. When
// the holder changes (or the row is new) the epoch grows by one and the
// previous holder's advertised URL is cleared (see Advertise). It returns
// the epoch held and true, or false when another holder's lease is still
// running.
func (s *Store) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	var epoch int64
	err := s.pool.QueryRow(ctx, `INSERT INTO leader_lease AS l (name, holder, epoch, expires_at)
		VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE
			SET holder = excluded.holder, expires_at = excluded.expires_at,
				epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END,
				advertise_url = CASE WHEN l.holder = excluded.holder THEN l.advertise_url END
			WHERE l.holder = excluded.holder OR l.expires_at <= clock_timestamp()
		RETURNING epoch`, name, holder, ttl.Microseconds()).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: acquire lease %s: %w", name, err)
	}
	return epoch, true, nil
}

// Renew extends holder's lease at epoch to ttl from now. It returns false
// when the lease is no longer holder's at that epoch.
func (s *Store) Renew(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE leader_lease
		SET expires_at = clock_timestamp() + $4 * interval '1 microsecond'
		WHERE name = $1 AND holder = $2 AND epoch = $3`, name, holder, epoch, ttl.Microseconds())
	if err != nil {
		return false, fmt.Errorf("postgres: renew lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Release ends holder's lease at epoch now, so another replica may take it
// without waiting for it to expire. The holder and epoch stay, so a later
// fenced commit of that epoch still succeeds until another replica acquires
// the lease.
func (s *Store) Release(ctx context.Context, name, holder string, epoch int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE leader_lease SET expires_at = clock_timestamp()
		WHERE name = $1 AND holder = $2 AND epoch = $3`, name, holder, epoch)
	if err != nil {
		return fmt.Errorf("postgres: release lease %s: %w", name, err)
	}
	return nil
}

// Holder returns the current holder, epoch and expiry of the lease row name.
func (s *Store) Holder(ctx context.Context, name string) (holder string, epoch int64, expires time.Time, err error) {
	err = s.pool.QueryRow(ctx, `SELECT holder, epoch, expires_at FROM leader_lease WHERE name = $1`, name).
		Scan(&holder, &epoch, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, time.Time{}, nil
	}
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	return holder, epoch, expires.UTC(), nil
}

// Advertise publishes url as the base URL at which holder, leading at
// epoch, is reached by the other replicas; an empty url withdraws it. It
// returns false when the lease is no longer holder's at that epoch.
func (s *Store) Advertise(ctx context.Context, name, holder string, epoch int64, url string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE leader_lease SET advertise_url = NULLIF($4, '')
		WHERE name = $1 AND holder = $2 AND epoch = $3`, name, holder, epoch, url)
	if err != nil {
		return false, fmt.Errorf("postgres: advertise lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// LeaderInfo is what the lease row says about the current leader.
type LeaderInfo struct {
	// Holder and Epoch name the last replica to take the lease; "" and 0
	// when none ever did.
	Holder string
	Epoch  int64
	// Live is true while the lease has not expired, on the database's
	// clock.
	Live bool
	// URL is the base URL the holder advertised, or "" when it published
	// none.
	URL string
}

// Leader returns the holder of the lease row name, whether its lease is
// still running and the URL it advertised.
func (s *Store) Leader(ctx context.Context, name string) (LeaderInfo, error) {
	var li LeaderInfo
	var url *string
	err := s.pool.QueryRow(ctx, `SELECT holder, epoch, expires_at > clock_timestamp(), advertise_url
		FROM leader_lease WHERE name = $1`, name).Scan(&li.Holder, &li.Epoch, &li.Live, &url)
	if errors.Is(err, pgx.ErrNoRows) {
		return LeaderInfo{}, nil
	}
	if err != nil {
		return LeaderInfo{}, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	if url != nil {
		li.URL = *url
	}
	return li, nil
}
