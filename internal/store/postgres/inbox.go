package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// inboxChannel is the NOTIFY channel announcing new inbox rows; the payload
// is the schema, so several queuewatch schemas can share a database.
const inboxChannel = "queuewatch_inbox"

// InboxEntry is one accepted request's samples waiting for the leader.
type InboxEntry struct {
	ID      int64
	Samples []metric.Sample
}

// AppendInbox stores samples for the leader to evaluate and announces them
// with NOTIFY: when it returns nil the samples are durable. Calls made at
// the same time share one transaction (group commit), so concurrent webhook
// requests do not each wait for their own flush to disk.
func (s *Store) AppendInbox(ctx context.Context, samples []metric.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	data, err := json.Marshal(samples)
	if err != nil {
		return fmt.Errorf("postgres: inbox: %w", err)
	}
	s.inboxOnce.Do(func() {
		s.inboxCh = make(chan inboxReq)
		go s.inboxWriter()
	})
	done := make(chan error, 1)
	select {
	case s.inboxCh <- inboxReq{data: string(data), done: done}:
	case <-ctx.Done():
		return fmt.Errorf("postgres: inbox: %w", ctx.Err())
	case <-s.closed:
		return errors.New("postgres: inbox: store closed")
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("postgres: inbox: %w", ctx.Err())
	}
}

// inboxReq is one AppendInbox call waiting for its group's transaction.
type inboxReq struct {
	data string
	done chan<- error
}

// maxInboxGroup caps the requests written in one transaction.
const maxInboxGroup = 256

// inboxWriter writes the inbox requests queued while the previous group's
// transaction ran in the next one, until the store closes.
func (s *Store) inboxWriter() {
	for {
		var group []inboxReq
		select {
		case r := <-s.inboxCh:
			group = append(group, r)
		case <-s.closed:
			return
		}
	fill:
		for len(group) < maxInboxGroup {
			select {
			case r := <-s.inboxCh:
				group = append(group, r)
			default:
				break fill
			}
		}
		data := make([]string, len(group))
		for i, r := range group {
			data[i] = r.data
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO inbox (samples) SELECT unnest($1::text[])`, data); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, inboxChannel, s.schema)
			return err
		})
		cancel()
		if err != nil {
			err = fmt.Errorf("postgres: inbox: %w", err)
		}
		for _, r := range group {
			r.done <- err
		}
	}
}

// ReadInbox returns up to limit inbox entries, oldest first. Entries stay
// until DeleteInbox removes them.
func (s *Store) ReadInbox(ctx context.Context, limit int) ([]InboxEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, samples FROM inbox ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read inbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboxEntry, error) {
		var e InboxEntry
		var data string
		if err := row.Scan(&e.ID, &data); err != nil {
			return e, err
		}
		return e, json.Unmarshal([]byte(data), &e.Samples)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read inbox: %w", err)
	}
	return out, nil
}

// DeleteInbox removes the inbox entries with the given ids.
func (s *Store) DeleteInbox(ctx context.Context, ids []int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM inbox WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("postgres: delete inbox: %w", err)
	}
	return nil
}

// ListenInbox calls wake whenever another transaction appends to this
// schema's inbox, until ctx ends. It holds one connection of its own and
// reconnects after errors, waiting retry in between; wake is also called
// after every reconnection, since announcements may have been missed.
func (s *Store) ListenInbox(ctx context.Context, retry time.Duration, wake func()) {
	for ctx.Err() == nil {
		err := s.listen(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		_ = err // the caller also polls; there is nothing to do but retry
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

func (s *Store) listen(ctx context.Context, wake func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection's LISTEN state must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+inboxChannel); err != nil {
		return err
	}
	wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == s.schema {
			wake()
		}
	}
}
