// Package silence decides which alerts a stored silence holds back. Its
// Matcher is the engine's Muter: it answers from an in-memory copy of the
// store's silences, refreshed after every local change and periodically, so
// that silences created on another replica apply there too.
package silence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Lister returns every stored silence. store.Store satisfies it.
type Lister interface {
	Silences(ctx context.Context) ([]store.Silence, error)
}

// Matcher holds a copy of the stored silences and matches alerts against
// them. It is safe for concurrent use; Muted takes no locks.
type Matcher struct {
	src  Lister
	now  func() time.Time
	log  *slog.Logger
	list atomic.Pointer[[]store.Silence]
}

// New returns a Matcher that knows no silences until Refresh is called.
// now is the clock of the alerts' times (time.Now when nil); silences that
// ended before it are dropped from the copy.
func New(src Lister, now func() time.Time, log *slog.Logger) *Matcher {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	m := &Matcher{src: src, now: now, log: log}
	m.list.Store(&[]store.Silence{})
	return m
}

// Refresh reloads the silences from the store. Expired silences are dropped
// from the copy; on error the previous copy is kept.
func (m *Matcher) Refresh(ctx context.Context) error {
	all, err := m.src.Silences(ctx)
	if err != nil {
		return fmt.Errorf("silence: loading silences: %w", err)
	}
	now := m.now()
	keep := make([]store.Silence, 0, len(all))
	for _, s := range all {
		if s.Ends.After(now) {
			keep = append(keep, s)
		}
	}
	m.list.Store(&keep)
	return nil
}

// Run refreshes the copy every interval until ctx ends.
func (m *Matcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("refreshing silences failed; keeping the previous ones", "err", err)
			}
		}
	}
}

// Muted implements alert.Muter: it names the first silence that matches the
// alert and is active now, or returns "". The question is whether a page
// may go out now, so a sample dated a little before a silence was made is
// held too; at counts only when it is later than now.
func (m *Matcher) Muted(_, ruleName, queueID, queueName string, at time.Time) string {
	if now := m.now(); now.After(at) {
		at = now
	}
	for _, s := range *m.list.Load() {
		if s.Active(at) && Matches(s, ruleName, queueID, queueName) {
			return Reason(s)
		}
	}
	return ""
}

// Active returns the silences active at t that match a queue and rule; an
// empty ruleName matches silences of any rule.
func (m *Matcher) Active(ruleName, queueID, queueName string, t time.Time) []store.Silence {
	var out []store.Silence
	for _, s := range *m.list.Load() {
		if !s.Active(t) {
			continue
		}
		if ruleName == "" {
			if rule.MatchQueue(queues(s), queueID, queueName) {
				out = append(out, s)
			}
			continue
		}
		if Matches(s, ruleName, queueID, queueName) {
			out = append(out, s)
		}
	}
	return out
}

// Matches reports whether s covers an alert of ruleName on a queue,
// regardless of time. Queue patterns are ids or path.Match globs on the
// name, as in rules; no patterns match every queue, no rule every rule.
func Matches(s store.Silence, ruleName, queueID, queueName string) bool {
	if s.Rule != "" && s.Rule != ruleName {
		return false
	}
	return rule.MatchQueue(queues(s), queueID, queueName)
}

func queues(s store.Silence) []string {
	if len(s.Queues) == 0 {
		return []string{"*"}
	}
	return s.Queues
}

// Reason is the held-back reason the engine records for a silence.
func Reason(s store.Silence) string {
	r := "silence " + s.ID
	if c := strings.TrimSpace(s.Comment); c != "" {
		if len(c) > 80 {
			c = c[:77] + "..."
		}
		r += " (" + c + ")"
	}
	return r
}

// ErrBadPattern means a queue pattern is not a valid glob.
var ErrBadPattern = errors.New("silence: malformed queue pattern")

// CheckPattern returns an error wrapping ErrBadPattern when p is empty or
// not a valid path.Match glob.
func CheckPattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("%w: empty", ErrBadPattern)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%w: %q", ErrBadPattern, p)
	}
	return nil
}
