package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// Journal keeps a destination's durable notes about sends in flight, such
// as "a post of delivery 42 may have reached Slack" or "OpsGenie accepted
// step 0 of delivery 42 as request abc". A note written before (or right
// after) a request survives a crash, so the attempt that follows, in this
// process or another, can look the earlier send up instead of repeating it.
type Journal interface {
	// Put stores (replaces) the note called name.
	Put(ctx context.Context, name, value string) error
	// Get returns the note called name and when it was written; ok is
	// false when there is none.
	Get(ctx context.Context, name string) (value string, at time.Time, ok bool, err error)
}

// Journaled is implemented by notifiers that keep notes in a Journal. The
// dispatcher hands each such notifier its destination's journal before the
// first send.
type Journaled interface {
	UseJournal(j Journal)
}

// journalPrefix marks a journal note among a destination's refs, whose
// other rows are keyed by episode id.
const journalPrefix = "journal:"

// refJournal keeps one destination's notes as store refs.
type refJournal struct {
	st    Store
	dest  string
	clock Clock
}

// Put implements Journal.
func (j refJournal) Put(ctx context.Context, name, value string) error {
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := j.st.PutRef(qctx, store.Ref{Destination: j.dest, EpisodeID: journalPrefix + name, Key: name,
		Value: value, UpdatedAt: j.clock.Now()})
	if err != nil {
		return fmt.Errorf("journal %s: %w", name, err)
	}
	return nil
}

// Get implements Journal.
func (j refJournal) Get(ctx context.Context, name string) (string, time.Time, bool, error) {
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	r, err := j.st.GetRef(qctx, j.dest, journalPrefix+name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", time.Time{}, false, nil
	case err != nil:
		return "", time.Time{}, false, fmt.Errorf("journal %s: %w", name, err)
	}
	return r.Value, r.UpdatedAt, true, nil
}
