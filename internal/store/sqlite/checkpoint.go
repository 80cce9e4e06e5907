package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointer copies committed WAL frames into the database file on its own
// connection and goroutine, so that commits do not pay for it: without it
// the committing connection checkpoints whenever the WAL passes
// wal_autocheckpoint pages, which costs a large commit a good part of its
// time. The writer's wal_autocheckpoint stays on, set higher, as a safety net
// for when the checkpointer falls behind.
type checkpointer struct {
	db     *sql.DB
	kick   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	period time.Duration
}

// walAutocheckpoint is the writer's own checkpoint threshold in pages
// (4 KiB each): the WAL may grow to about this size before a commit
// checkpoints by itself.
const walAutocheckpoint = 8192

func startCheckpointer(db *sql.DB, period time.Duration) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), period: period}
	c.wg.Go(c.run)
	return c
}

// committed tells the checkpointer that the WAL grew.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// A passive checkpoint neither waits for nor blocks readers and
		// writers; frames it cannot copy yet are copied next time. Errors
		// are not fatal: the writer's own auto-checkpoint remains.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		select {
		case <-c.stop:
			return
		case <-time.After(c.period):
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.wg.Wait()
	return c.db.Close()
}
