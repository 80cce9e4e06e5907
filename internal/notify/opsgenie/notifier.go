package opsgenie

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

var (
	_ notify.Notifier   = (*Notifier)(nil)
	_ notify.Confirming = (*Notifier)(nil)
)

// Notify sends one delivery and waits for OpsGenie to confirm it: a create
// opens the alert (or bumps the count of the open alert with the same
// alias), an update changes its priority and adds a note, a resolve closes
// it. A create's receipt carries the alert id as Ref. The alias is the
// delivery's key; prev is not needed. Notify is Begin followed by Confirm.
func (n *Notifier) Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (notify.Receipt, error) {
	ctx, cancel := n.bound(ctx)
	defer cancel()
	p, err := n.Begin(ctx, d, prev)
	if err != nil {
		return notify.Receipt{}, err
	}
	return p.Confirm(ctx)
}

// Begin makes the requests of one delivery (see Notify) and returns once
// OpsGenie accepted them; the returned Pending confirms them.
//
// A delivery whose earlier attempt got some requests accepted resumes it:
// requests confirmed done are not made again, and requests accepted but not
// yet confirmed are confirmed instead of being repeated, so that a retried
// update adds its note once. This memory lasts as long as the Notifier.
func (n *Notifier) Begin(ctx context.Context, d store.Delivery, prev *store.Ref) (notify.Pending, error) {
	ctx, cancel := n.bound(ctx)
	defer cancel()
	t := d.Transition
	key := d.Key
	if key == "" {
		key = t.Key
	}
	if key == "" {
		return nil, &notify.Error{Reason: "the delivery has no alert key to use as alias"}
	}
	action := d.Action
	if action == alert.ActionNone {
		action = t.Action
	}
	p := &pending{n: n, id: d.ID, sig: signature(key, action, t), action: action}
	switch action {
	case alert.ActionCreate:
		body, note := n.createBody(key, t)
		p.steps = []*step{{what: "create alert", method: http.MethodPost, path: "/v2/alerts", body: body}}
		p.note = note
	case alert.ActionUpdate:
		base := "/v2/alerts/" + url.PathEscape(alias(key))
		if pr := validPriority(t.Priority); t.PrevPriority != "" && pr != "" {
			p.steps = append(p.steps, &step{what: "update priority", label: "priority " + pr + ": ", method: http.MethodPut,
				path: base + "/priority?identifierType=alias", body: priorityPayload{Priority: pr}})
		}
		p.steps = append(p.steps, &step{what: "add note", method: http.MethodPost, path: base + "/notes?identifierType=alias",
			body: actionPayload{User: truncate(n.cfg.Source, maxUser), Source: n.cfg.Source, Note: updateNote(t)}})
	case alert.ActionResolve:
		p.steps = []*step{{what: "close alert", method: http.MethodPost, closing: true,
			path: "/v2/alerts/" + url.PathEscape(alias(key)) + "/close?identifierType=alias",
			body: actionPayload{User: truncate(n.cfg.Source, maxUser), Source: n.cfg.Source, Note: n.closeNote(t)}}}
	default:
		return nil, &notify.Error{Reason: fmt.Sprintf("unsupported action %q", action)}
	}
	if !n.progress.resume(p) {
		if err := n.recall(ctx, p); err != nil {
			return nil, err
		}
	}
	for i, s := range p.steps {
		if s.done || s.requestID != "" {
			continue
		}
		if err := n.accept(ctx, s); err != nil {
			n.progress.keep(p)
			return nil, err
		}
		if s.requestID != "" {
			n.note(ctx, p, i, s.requestID)
		}
	}
	return p, nil
}

// signature identifies what a delivery asks for, so that remembered steps
// are resumed only by the same delivery.
func signature(key string, action alert.Action, t alert.Transition) string {
	return key + "|" + string(action) + "|" + t.At.UTC().Format(time.RFC3339Nano) + "|" + t.Reason
}

// pending is a delivery whose requests OpsGenie accepted; Confirm waits for
// their outcome.
type pending struct {
	n      *Notifier
	id     int64 // the delivery's id, 0 when not known
	sig    string
	action alert.Action
	steps  []*step
	note   string // a remark on the texts sent (a template that failed)
}

// step is one request of a delivery and what became of it.
type step struct {
	what         string // e.g. "create alert"
	label        string // prefix of its receipt note
	method, path string
	body         any
	closing      bool // a close: "does not exist" counts as done

	requestID string // set once accepted
	waits     int    // attempts that ended with requestID unconfirmed
	code      int
	done      bool // processed successfully (or nothing left to do)
	status    requestStatus
	// unconfirmed says why the request's fate is unknown although it was
	// accepted and counts as done, "" when it was confirmed.
	unconfirmed string
}

// Confirm waits until OpsGenie processed every accepted request of the
// delivery. All are checked together: after PollInterval, then at doubling
// waits up to PollMax, while OpsGenie answers "not processed yet".
func (p *pending) Confirm(ctx context.Context) (notify.Receipt, error) {
	n := p.n
	ctx, cancel := n.bound(ctx)
	defer cancel()
	wait := n.cfg.PollInterval
	for {
		open := p.open()
		if len(open) == 0 {
			break
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			n.progress.keep(p)
			s := open[0]
			return notify.Receipt{}, &notify.Error{
				Reason: fmt.Sprintf("%s: accepted as request %s but not confirmed before the deadline (%s)",
					s.what, s.requestID, s.status.Status),
				Code: http.StatusAccepted, Retryable: true, Err: ctx.Err(),
			}
		case <-timer.C:
		}
		wait = min(2*wait, n.cfg.PollMax)
		for _, s := range open {
			more, err := n.check(ctx, s)
			if err != nil {
				if s.requestID == "" { // the request failed: make it again
					n.note(ctx, p, slices.Index(p.steps, s), "")
				}
				n.progress.keep(p)
				return notify.Receipt{}, err
			}
			wait = max(wait, more)
		}
	}
	n.progress.forget(p)
	return p.receipt(), nil
}

// open returns the accepted steps not yet confirmed.
func (p *pending) open() []*step {
	var out []*step
	for _, s := range p.steps {
		if !s.done {
			out = append(out, s)
		}
	}
	return out
}

// receipt describes the confirmed delivery.
func (p *pending) receipt() notify.Receipt {
	var notes []string
	rc := notify.Receipt{}
	for _, s := range p.steps {
		notes = append(notes, s.label+p.n.receiptNote(s))
		rc.Code = s.code
	}
	if p.action == alert.ActionCreate {
		rc.Ref = p.steps[0].status.AlertID
	}
	if p.note != "" {
		notes = append(notes, p.note)
	}
	rc.Note = strings.Join(notes, "; ")
	return rc
}

// receiptNote is the delivery log's remark on a done request.
func (n *Notifier) receiptNote(s *step) string {
	if s.unconfirmed != "" {
		return "accepted, unconfirmed: " + s.unconfirmed
	}
	st := s.status.Status
	if st == "" {
		st = "done"
	}
	if s.status.AlertID != "" {
		st += " (alert " + s.status.AlertID + ")"
	}
	return n.redact(st)
}
