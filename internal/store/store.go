// Package store defines the durable storage contract of queuewatch: series
// state, episodes, transition history and the outbox of owed notifications.
// Implementations live in sub-packages (sqlite, postgres) and must pass the
// contract suite in storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// Errors returned by implementations; test with errors.Is.
var (
	// ErrNotFound means the addressed row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrLeaseLost means a delivery is no longer claimed by the caller
	// (its lease expired and another worker took it, or it was finished).
	ErrLeaseLost = errors.New("store: delivery lease lost")
	// ErrConflict means a conditional update lost against a concurrent writer.
	ErrConflict = errors.New("store: conflicting update")
)

// ErrInvalid means an argument was refused before anything was stored, such
// as a transition without a key; retrying the same call cannot succeed.
var ErrInvalid = errors.New("store: invalid argument")

// DefaultLimit is the number of rows ListDeliveries and ClaimDeliveries
// return when the request's Limit is 0 or less.
const DefaultLimit = 100

// DeliveryStatus is the status of one outbox row.
type DeliveryStatus string

// Delivery statuses.
const (
	// StatusPending rows wait for their next attempt time.
	StatusPending DeliveryStatus = "pending"
	// StatusInflight rows are claimed by a worker until their lease ends.
	StatusInflight DeliveryStatus = "inflight"
	// StatusSent rows were accepted by the destination.
	StatusSent DeliveryStatus = "sent"
	// StatusDead rows were refused for good; an operator may retry them.
	StatusDead DeliveryStatus = "dead"
)

// Delivery is one outbox row: one transition owed to one destination.
type Delivery struct {
	ID            int64            `json:"id"`
	Destination   string           `json:"destination"`
	Key           string           `json:"key"`
	EpisodeID     string           `json:"episode_id"`
	Action        alert.Action     `json:"action"`
	Transition    alert.Transition `json:"transition"`
	Status        DeliveryStatus   `json:"status"`
	Attempts      int              `json:"attempts"`
	NextAttemptAt time.Time        `json:"next_attempt_at"`
	LastError     string           `json:"last_error,omitempty"`
	ClaimedBy     string           `json:"claimed_by,omitempty"`
	LeaseUntil    time.Time        `json:"lease_until,omitzero"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	SentAt        time.Time        `json:"sent_at,omitzero"`
}

// ClaimRequest asks for due deliveries.
type ClaimRequest struct {
	// Owner identifies the claiming worker or replica.
	Owner string
	// Destination limits the claim to one destination; empty means any.
	Destination string
	// Now is the claim time: rows with NextAttemptAt after Now are not due.
	Now time.Time
	// Lease is how long the claim holds before another owner may take it.
	Lease time.Duration
	// Limit is the most rows returned.
	Limit int
}

// Outcome is the result of one delivery attempt.
type Outcome struct {
	// Status is StatusSent, StatusPending (retry at NextAttemptAt) or StatusDead.
	Status DeliveryStatus
	At     time.Time
	// NextAttemptAt is when to try again, for StatusPending.
	NextAttemptAt time.Time
	// Error is the reason of a failure, in the vendor's words where possible.
	Error string
	// Code is the HTTP status code of the answer, 0 when there was none.
	Code int
	// Duration is how long the attempt took.
	Duration time.Duration
}

// Attempt is one entry of the delivery log.
type Attempt struct {
	DeliveryID int64          `json:"delivery_id"`
	At         time.Time      `json:"at"`
	Status     DeliveryStatus `json:"status"`
	Error      string         `json:"error,omitempty"`
	Code       int            `json:"code,omitempty"`
	Duration   time.Duration  `json:"duration_ns"`
}

// DeliveryFilter selects deliveries for listing. Zero fields match anything.
type DeliveryFilter struct {
	Status      DeliveryStatus
	Destination string
	Key         string
	EpisodeID   string
	// Limit caps the rows returned (newest first); 0 means 100.
	Limit int
}

// Ref is a destination's handle on an episode's notification, such as a
// Slack channel and message ts, kept so that later changes update it.
type Ref struct {
	Destination string    `json:"destination"`
	EpisodeID   string    `json:"episode_id"`
	Key         string    `json:"key"`
	Value       string    `json:"value"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Silence holds back new pages of the alerts it matches between Starts and
// Ends. Evaluation goes on while an alert is silenced; a breach still open
// when the silence ends pages then.
type Silence struct {
	ID string `json:"id"`
	// Queues are queue names (globs allowed) or queue ids; empty matches
	// every queue.
	Queues []string `json:"queues"`
	// Rule is the name of the rule silenced; empty matches every rule.
	Rule      string    `json:"rule,omitempty"`
	Starts    time.Time `json:"starts_at"`
	Ends      time.Time `json:"ends_at"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether the silence holds notifications back at t.
func (s Silence) Active(t time.Time) bool {
	return !t.Before(s.Starts) && t.Before(s.Ends)
}

// Store is the durable state of queuewatch.
//
// Details every implementation shares (the storetest suite checks them):
//   - Commit validates the whole batch first (see ValidateTransition) and
//     fails with an error wrapping ErrInvalid, storing nothing, when any
//     transition is invalid. Several transitions of one key in a batch are
//     applied in order, so the series state of the last one is kept. A
//     destination named twice in one transition gets one outbox row.
//   - A transition's episode (Transition.Episode, else Series.Episode) is
//     stored by ID; a later transition of the same episode replaces it, so
//     End, Worst and Priority follow the latest transition.
//   - New outbox rows are pending, with NextAttemptAt, CreatedAt and UpdatedAt
//     set to the transition's At (so a transition dated ahead of the
//     claimer's clock is not due before then), and EpisodeID taken from its
//     episode.
//   - Transitions returned by History and in Delivery.Transition do not
//     carry Series (it is not part of their JSON form).
//   - Episodes and History return every row when limit ≤ 0. ListDeliveries
//     and ClaimDeliveries use DefaultLimit when Limit ≤ 0.
//   - Times come back in UTC with nanosecond precision; the zero time is kept.
//   - ClaimDeliveries sets Status to StatusInflight, ClaimedBy to Owner,
//     LeaseUntil to Now+Lease and UpdatedAt to Now; a lease has expired when
//     LeaseUntil ≤ Now. An owner whose lease expired may still finish the
//     delivery as long as no other owner claimed it.
//   - FinishDelivery increments Attempts, sets UpdatedAt to o.At, SentAt to
//     o.At when sent and NextAttemptAt when pending, clears ClaimedBy and
//     LeaseUntil, and sets LastError to o.Error when it is not empty (an
//     earlier error is kept otherwise). Unknown ids give ErrNotFound.
//   - RetryDelivery keeps Attempts and LastError; it sets NextAttemptAt and
//     UpdatedAt to now.
//   - Attempts returns ErrNotFound for an unknown delivery.
//   - Requests that fail ClaimRequest.Validate, Outcome.Validate,
//     Ref.Validate or Silence.Validate are refused with ErrInvalid, as is a
//     zero RetryDelivery or ExpireSilence time.
//   - Silences come back with Queues never nil, newest CreatedAt first (ties
//     by ID).
type Store interface {
	// Commit makes a batch of transitions durable in one transaction: for each,
	// the series state, its episode, a history entry and one pending outbox row
	// per destination. Either all of the batch is stored or none of it.
	Commit(ctx context.Context, ts []alert.Transition) error
	// LoadSeries returns every stored series state that is not OK or whose
	// episode is still open, so an engine can resume after a restart.
	LoadSeries(ctx context.Context) ([]alert.SeriesState, error)
	// Episodes returns the episodes of an alert key, newest first.
	Episodes(ctx context.Context, key string, limit int) ([]alert.Episode, error)
	// History returns the transitions of an alert key, newest first.
	History(ctx context.Context, key string, limit int) ([]alert.Transition, error)

	// ClaimDeliveries claims up to Limit due deliveries, oldest first, for
	// req.Owner until Now+Lease. A delivery is due when it is pending with
	// NextAttemptAt ≤ Now, or in flight with an expired lease, and no older
	// delivery of the same destination and key is pending or in flight, so
	// deliveries of one key are attempted strictly in order. Dead deliveries do
	// not block later ones.
	ClaimDeliveries(ctx context.Context, req ClaimRequest) ([]Delivery, error)
	// FinishDelivery records an attempt's outcome on a delivery claimed by
	// owner, appends it to the delivery log, and releases the claim. It returns
	// ErrLeaseLost when owner no longer holds the claim.
	FinishDelivery(ctx context.Context, id int64, owner string, o Outcome) error
	// RetryDelivery makes a dead delivery pending again, due at now.
	// It returns ErrNotFound for an unknown id and ErrConflict if not dead.
	RetryDelivery(ctx context.Context, id int64, now time.Time) error
	// ListDeliveries returns deliveries matching f, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// Attempts returns the delivery log of one delivery, oldest first.
	Attempts(ctx context.Context, id int64) ([]Attempt, error)
	// PendingCounts returns, per destination, how many deliveries are pending
	// or in flight.
	PendingCounts(ctx context.Context) (map[string]int, error)
	// NextDue returns the earliest NextAttemptAt of pending deliveries (or
	// lease end of in-flight ones); ok is false when nothing is owed.
	NextDue(ctx context.Context) (t time.Time, ok bool, err error)

	// PutRef stores (replaces) a destination's handle on an episode.
	PutRef(ctx context.Context, r Ref) error
	// GetRef returns a destination's handle on an episode, or ErrNotFound.
	GetRef(ctx context.Context, destination, episodeID string) (Ref, error)

	// CreateSilence stores a new silence. It returns ErrConflict when a
	// silence with the same ID exists.
	CreateSilence(ctx context.Context, s Silence) error
	// Silences returns every stored silence, expired ones included.
	Silences(ctx context.Context) ([]Silence, error)
	// ExpireSilence ends a silence at at: Ends becomes at when it was later,
	// and Starts too when the silence had not started yet. Expiring an
	// expired silence changes nothing. Unknown ids give ErrNotFound.
	ExpireSilence(ctx context.Context, id string, at time.Time) error

	// Close releases the store.
	Close() error
}
