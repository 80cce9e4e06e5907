package opsgenie

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

var _ notify.Notifier = (*Notifier)(nil)

// Notify sends one delivery: a create opens the alert (or bumps the count of
// the open alert with the same alias), an update changes its priority and
// adds a note, a resolve closes it. Each request is confirmed through the
// request-status endpoint; a create's receipt carries the alert id as Ref.
// The alias is the delivery's key; prev is not needed.
func (n *Notifier) Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (notify.Receipt, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.Timeout)
		defer cancel()
	}
	t := d.Transition
	key := d.Key
	if key == "" {
		key = t.Key
	}
	if key == "" {
		return notify.Receipt{}, &notify.Error{Reason: "the delivery has no alert key to use as alias"}
	}
	action := d.Action
	if action == alert.ActionNone {
		action = t.Action
	}
	switch action {
	case alert.ActionCreate:
		return n.create(ctx, key, t)
	case alert.ActionUpdate:
		return n.update(ctx, key, t)
	case alert.ActionResolve:
		return n.resolve(ctx, key, t)
	}
	return notify.Receipt{}, &notify.Error{Reason: fmt.Sprintf("unsupported action %q", action)}
}

// create opens the alert.
func (n *Notifier) create(ctx context.Context, key string, t alert.Transition) (notify.Receipt, error) {
	body, tnote := n.createBody(key, t)
	o, err := n.send(ctx, "create alert", http.MethodPost, "/v2/alerts", body)
	if err != nil {
		return notify.Receipt{}, err
	}
	if err := n.failed("create alert", o); err != nil {
		return notify.Receipt{}, err
	}
	note := n.receiptNote(o)
	if tnote != "" {
		note += "; " + tnote
	}
	return notify.Receipt{Ref: o.status.AlertID, Code: o.code, Note: note}, nil
}

// update changes the priority of the open alert when it changed, and adds a
// note saying why.
func (n *Notifier) update(ctx context.Context, key string, t alert.Transition) (notify.Receipt, error) {
	base := "/v2/alerts/" + url.PathEscape(alias(key))
	var notes []string
	if p := validPriority(t.Priority); t.PrevPriority != "" && p != "" {
		o, err := n.send(ctx, "update priority", http.MethodPut, base+"/priority?identifierType=alias", priorityPayload{Priority: p})
		if err != nil {
			return notify.Receipt{}, err
		}
		if err := n.failed("update priority", o); err != nil {
			return notify.Receipt{}, err
		}
		notes = append(notes, "priority "+p+": "+n.receiptNote(o))
	}
	body := actionPayload{User: truncate(n.cfg.Source, maxUser), Source: n.cfg.Source, Note: updateNote(t)}
	o, err := n.send(ctx, "add note", http.MethodPost, base+"/notes?identifierType=alias", body)
	if err != nil {
		return notify.Receipt{}, err
	}
	if err := n.failed("add note", o); err != nil {
		return notify.Receipt{}, err
	}
	notes = append(notes, n.receiptNote(o))
	return notify.Receipt{Code: o.code, Note: strings.Join(notes, "; ")}, nil
}

// resolve closes the alert. Closing an alert that does not exist (never
// created, or deleted by hand) leaves nothing to do and counts as done.
func (n *Notifier) resolve(ctx context.Context, key string, t alert.Transition) (notify.Receipt, error) {
	path := "/v2/alerts/" + url.PathEscape(alias(key)) + "/close?identifierType=alias"
	body := actionPayload{User: truncate(n.cfg.Source, maxUser), Source: n.cfg.Source, Note: n.closeNote(t)}
	o, err := n.send(ctx, "close alert", http.MethodPost, path, body)
	if err != nil {
		return notify.Receipt{}, err
	}
	if o.unconfirmed == "" && !o.status.ok() && strings.Contains(strings.ToLower(o.status.Status), "does not exist") {
		return notify.Receipt{Code: o.code, Note: n.redact("nothing to close: " + o.status.Status)}, nil
	}
	if err := n.failed("close alert", o); err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{Code: o.code, Note: n.receiptNote(o)}, nil
}

// failed turns a request that OpsGenie processed without success into a
// retryable error with its status text, e.g. "Alert does not exist".
func (n *Notifier) failed(what string, o outcome) error {
	if o.unconfirmed != "" || o.status.ok() {
		return nil
	}
	status := o.status.Status
	if status == "" {
		status = "failed without a status"
	}
	return &notify.Error{
		Reason:    n.redact(fmt.Sprintf("%s: request %s was accepted but failed: %s", what, o.requestID, status)),
		Code:      o.code,
		Retryable: true,
	}
}

// receiptNote is the delivery log's remark on a done request.
func (n *Notifier) receiptNote(o outcome) string {
	if o.unconfirmed != "" {
		return "accepted, unconfirmed: " + o.unconfirmed
	}
	s := o.status.Status
	if s == "" {
		s = "done"
	}
	if o.status.AlertID != "" {
		s += " (alert " + o.status.AlertID + ")"
	}
	return n.redact(s)
}
