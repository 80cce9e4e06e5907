package store

import (
	"fmt"
	"math"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// Times are stored as int64 nanoseconds since the Unix epoch, so only the
// instants between these two bounds (about 1678 to 2262) can be kept.
var (
	minTime = time.Unix(0, math.MinInt64+1).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// TimeInRange reports whether t is the zero time or can be stored as int64
// nanoseconds since the Unix epoch.
func TimeInRange(t time.Time) bool {
	return t.IsZero() || (!t.Before(minTime) && !t.After(maxTime))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func checkTime(what string, t time.Time, required bool) error {
	if required && t.IsZero() {
		return invalid("%s is zero", what)
	}
	if !TimeInRange(t) {
		return invalid("%s %s is out of range", what, t.Format(time.RFC3339Nano))
	}
	return nil
}

func checkFinite(what string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid("%s is %v", what, v)
	}
	return nil
}

// ValidateTransition reports why a store must refuse t, wrapping ErrInvalid,
// or returns nil. A transition needs a Key, a non-zero At, Series.Key equal to
// Key, an episode (if any) with an ID and the same Key, non-empty destination
// names, finite values and storable times.
func ValidateTransition(t alert.Transition) error {
	if t.Key == "" {
		return invalid("transition has no key")
	}
	if err := checkTime("transition at", t.At, true); err != nil {
		return err
	}
	if t.Series.Key != t.Key {
		return invalid("transition %q: series key %q differs", t.Key, t.Series.Key)
	}
	for _, v := range []struct {
		what string
		v    float64
	}{
		{"value", t.Value}, {"threshold", t.Threshold}, {"clear", t.Clear},
		{"target", t.Target}, {"series last value", t.Series.LastValue},
	} {
		if err := checkFinite(fmt.Sprintf("transition %q: %s", t.Key, v.what), v.v); err != nil {
			return err
		}
	}
	for _, e := range []*alert.Episode{t.Episode, t.Series.Episode} {
		if e == nil {
			continue
		}
		if err := validateEpisode(t.Key, e); err != nil {
			return err
		}
	}
	for _, d := range t.Destinations {
		if d == "" {
			return invalid("transition %q: empty destination name", t.Key)
		}
	}
	return nil
}

func validateEpisode(key string, e *alert.Episode) error {
	if e.ID == "" {
		return invalid("transition %q: episode has no id", key)
	}
	if e.Key != key {
		return invalid("transition %q: episode %q has key %q", key, e.ID, e.Key)
	}
	if err := checkFinite(fmt.Sprintf("episode %q: worst", e.ID), e.Worst); err != nil {
		return err
	}
	for _, tt := range []struct {
		what string
		t    time.Time
	}{{"start", e.Start}, {"end", e.End}, {"worst at", e.WorstAt}} {
		if err := checkTime(fmt.Sprintf("episode %q: %s", e.ID, tt.what), tt.t, false); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports why a store must refuse the claim request, wrapping
// ErrInvalid: it needs an Owner, a non-zero Now and a positive Lease.
func (r ClaimRequest) Validate() error {
	if r.Owner == "" {
		return invalid("claim has no owner")
	}
	if err := checkTime("claim now", r.Now, true); err != nil {
		return err
	}
	if r.Lease <= 0 {
		return invalid("claim lease %v is not positive", r.Lease)
	}
	if err := checkTime("claim lease end", r.Now.Add(r.Lease), true); err != nil {
		return err
	}
	return nil
}

// Validate reports why a store must refuse the outcome, wrapping ErrInvalid:
// Status must be StatusSent, StatusPending (with a NextAttemptAt) or
// StatusDead, and At must be set.
func (o Outcome) Validate() error {
	switch o.Status {
	case StatusSent, StatusDead:
	case StatusPending:
		if err := checkTime("outcome next attempt", o.NextAttemptAt, true); err != nil {
			return err
		}
	default:
		return invalid("outcome status %q is not sent, pending or dead", o.Status)
	}
	return checkTime("outcome at", o.At, true)
}

// Validate reports why a store must refuse the ref, wrapping ErrInvalid: it
// needs a Destination and an EpisodeID.
func (r Ref) Validate() error {
	if r.Destination == "" || r.EpisodeID == "" {
		return invalid("ref needs a destination and an episode id")
	}
	return checkTime("ref updated at", r.UpdatedAt, false)
}

// Validate reports why a store must refuse the silence, wrapping ErrInvalid:
// it needs an ID, non-empty queue patterns, a non-zero start and creation
// time, and an end after its start.
func (s Silence) Validate() error {
	if s.ID == "" {
		return invalid("silence has no id")
	}
	for _, q := range s.Queues {
		if q == "" {
			return invalid("silence %q: empty queue pattern", s.ID)
		}
	}
	for _, tt := range []struct {
		what string
		t    time.Time
	}{{"starts at", s.Starts}, {"ends at", s.Ends}, {"created at", s.CreatedAt}} {
		if err := checkTime(fmt.Sprintf("silence %q: %s", s.ID, tt.what), tt.t, true); err != nil {
			return err
		}
	}
	if !s.Ends.After(s.Starts) {
		return invalid("silence %q: ends at %s, not after it starts at %s", s.ID,
			s.Ends.Format(time.RFC3339), s.Starts.Format(time.RFC3339))
	}
	return nil
}
