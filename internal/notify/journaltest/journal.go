// Package journaltest provides an in-memory notify.Journal for tests of
// notifiers: one Journal handed to several notifiers in turn stands for the
// store that outlives a crashed process.
package journaltest

import (
	"context"
	"sync"
	"time"
)

// Journal is a notify.Journal kept in memory. The zero value is ready for
// use and safe for concurrent use.
type Journal struct {
	mu    sync.Mutex
	notes map[string]note
}

type note struct {
	value string
	at    time.Time
}

// Put implements notify.Journal.
func (j *Journal) Put(_ context.Context, name, value string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.notes == nil {
		j.notes = map[string]note{}
	}
	j.notes[name] = note{value: value, at: time.Now()}
	return nil
}

// Get implements notify.Journal.
func (j *Journal) Get(_ context.Context, name string) (string, time.Time, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n, ok := j.notes[name]
	return n.value, n.at, ok, nil
}
