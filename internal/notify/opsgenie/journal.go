package opsgenie

import (
	"context"
	"fmt"
	"strings"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// UseJournal implements notify.Journaled: with a journal, the request id
// OpsGenie accepted each step of a delivery as is written down right after
// the 202, so that an attempt in another process (after a crash or a
// failover) confirms that request instead of making it again.
func (n *Notifier) UseJournal(j notify.Journal) { n.journal = j }

// journalName names the note of step i of p.
func journalName(p *pending, i int) string { return fmt.Sprintf("opsgenie/%d/%d", p.id, i) }

// noteFailed is the note of a step whose request failed: it is made again.
const noteFailed = "failed"

// recall fills in the request ids that earlier attempts of p, perhaps in
// another process, noted for steps not yet accepted in this one.
func (n *Notifier) recall(ctx context.Context, p *pending) error {
	if n.journal == nil || p.id == 0 {
		return nil
	}
	for i, s := range p.steps {
		if s.done || s.requestID != "" {
			continue
		}
		v, _, ok, err := n.journal.Get(ctx, journalName(p, i))
		if err != nil {
			return &notify.Error{Reason: s.what + ": read the noted request id", Retryable: true, Err: err}
		}
		id, sig, _ := strings.Cut(v, "\n")
		if !ok || id == noteFailed || id == "" || sig != p.sig {
			continue
		}
		s.requestID, s.code = id, 202
		s.status = requestStatus{Status: "accepted by an earlier attempt; not confirmed yet"}
	}
	return nil
}

// note writes down the request id step i of p was accepted as, or that
// its request failed. A note that cannot be written is logged: the
// process's own memory still resumes the step; only a crash would repeat it.
func (n *Notifier) note(ctx context.Context, p *pending, i int, requestID string) {
	if n.journal == nil || p.id == 0 {
		return
	}
	v := noteFailed
	if requestID != "" {
		v = requestID + "\n" + p.sig
	}
	if err := n.journal.Put(ctx, journalName(p, i), v); err != nil {
		n.cfg.Logger.Warn("opsgenie: noting the accepted request failed; a crash before its confirmation would send it again",
			"destination", n.cfg.Name, "delivery", p.id, "step", p.steps[i].what, "err", err)
	}
}
