// Package notify delivers owed notifications from the store's outbox to
// destinations: a dispatcher that claims due deliveries, rate-limits them per
// destination, sends them through a Notifier, and records the outcome with
// retries, backoff and dead letters. Vendor notifiers live in sub-packages.
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/store"
)

// Notifier sends notifications to one configured destination. Each vendor
// package (opsgenie, slack, pagerduty, webhook) provides one.
type Notifier interface {
	// Notify sends one delivery. prev is the destination's stored handle on
	// the delivery's episode (for example a Slack channel and ts), or nil.
	// On success it returns a Receipt; on failure an error, which should be
	// (or wrap) an *Error so the dispatcher can tell retryable from permanent.
	Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (Receipt, error)
}

// Receipt is what a destination answered to a successful send.
type Receipt struct {
	// Ref, when not empty, replaces the destination's stored handle on the
	// episode (see store.Ref), e.g. "C0123/1700000000.000100" for Slack.
	Ref string
	// Code is the HTTP status of the answer.
	Code int
	// Note is a short human-readable remark for the delivery log (optional).
	Note string
}

// Error is a failed send, classified.
type Error struct {
	// Reason is why, in the vendor's own words where it gave any
	// (e.g. Slack "not_in_channel", OpsGenie's "message" field).
	Reason string
	// Hint is what an operator can do about it (optional),
	// e.g. "invite the bot to #channel".
	Hint string
	// Code is the HTTP status, 0 for transport errors.
	Code int
	// Retryable is true for transport errors, 5xx, 429 and vendor answers
	// that mean "try later"; false means the destination refused for good.
	Retryable bool
	// RetryAfter is the server's requested wait (Retry-After), 0 if none.
	RetryAfter time.Duration
	// Err is the underlying error, if any. It must not contain secrets.
	Err error
}

func (e *Error) Error() string {
	s := e.Reason
	if e.Code != 0 {
		s = fmt.Sprintf("HTTP %d: %s", e.Code, s)
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// BatchNotifier is implemented by notifiers that can send several deliveries
// in one go, such as Slack rolling many alerts for one channel into a single
// summary message during a storm. The dispatcher hands a BatchNotifier all
// due deliveries of its destination that it claimed together (at most one per
// alert key, so per-key order holds).
type BatchNotifier interface {
	Notifier
	// NotifyBatch sends ds and returns one result per delivery, in order.
	// prev[i] is the stored handle of ds[i]'s episode, or nil.
	NotifyBatch(ctx context.Context, ds []store.Delivery, prev []*store.Ref) []Result
}

// Result is the outcome of one delivery of a batch.
type Result struct {
	Receipt Receipt
	Err     error
}

// Confirming is implemented by notifiers whose destination accepts a request
// at once and carries it out later, such as OpsGenie (202, then a
// request-status endpoint). The dispatcher sends with Begin, which returns
// once the destination accepted, and then confirms the send apart from its
// workers: a worker is free for other alerts while the delivery waits for
// its confirmation. The delivery stays claimed until it is confirmed, so the
// next delivery of its alert key still waits for it.
type Confirming interface {
	Notifier
	// Begin makes the requests of one delivery and returns once the
	// destination accepted them. Its error is classified like Notify's.
	Begin(ctx context.Context, d store.Delivery, prev *store.Ref) (Pending, error)
}

// Pending is a send its destination accepted but has not confirmed yet.
type Pending interface {
	// Confirm waits until the destination carried the send out and returns
	// its Receipt, or an error (classified like Notify's) when it failed or
	// ctx ended first.
	Confirm(ctx context.Context) (Receipt, error)
}
