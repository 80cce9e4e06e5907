package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// EventType is the metadata event type of every message queuewatch posts;
// its payload names the delivery, so that a message an earlier attempt
// posted can be recognized (see conversations.history).
const EventType = "queuewatch_alert"

// Steps of a delivery that post a message, as named in the metadata.
const (
	stepPost  = "post"  // the episode's own message
	stepReply = "reply" // the resolve's thread reply
)

// Bounds of a lookup of an earlier attempt's message.
const (
	// lookupMargin is how long before its marker a message is searched for:
	// the marker is written just before the post, but clocks differ.
	lookupMargin = 5 * time.Minute
	// lookupPageSize and lookupPages bound how many messages are read.
	lookupPageSize = 200
	lookupPages    = 5
)

// Default pacing of conversations.history and conversations.replies,
// Slack's Tier 3 (50 a minute per workspace).
const (
	DefaultReadRate  = 50.0 / 60
	DefaultReadBurst = 5
)

// metadata is the message metadata chat.postMessage stores with a message.
type metadata struct {
	EventType string      `json:"event_type"`
	Payload   metaPayload `json:"event_payload"`
}

// metaPayload identifies the delivery and step that posted a message.
type metaPayload struct {
	EpisodeID  string `json:"episode_id,omitempty"`
	Key        string `json:"key,omitempty"`
	Action     string `json:"action"`
	Step       string `json:"step"`
	DeliveryID string `json:"delivery_id"`
}

// historyRequest is the body of conversations.history and
// conversations.replies.
type historyRequest struct {
	Channel            string `json:"channel"`
	TS                 string `json:"ts,omitempty"`
	Oldest             string `json:"oldest,omitempty"`
	Limit              int    `json:"limit"`
	Cursor             string `json:"cursor,omitempty"`
	IncludeAllMetadata bool   `json:"include_all_metadata"`
}

// historyAnswer is the part of their answer the notifier reads.
type historyAnswer struct {
	Messages []struct {
		TS       string    `json:"ts"`
		Metadata *metadata `json:"metadata"`
	} `json:"messages"`
	HasMore bool `json:"has_more"`
	Meta    struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
}

// UseJournal implements notify.Journaled: with a journal, a post is
// preceded by a durable marker, and an attempt that finds the marker of an
// earlier one looks for that attempt's message before posting again.
func (n *Notifier) UseJournal(j notify.Journal) { n.journal = j }

// meta returns the metadata of step of delivery d.
func meta(d store.Delivery, step string) *metadata {
	return &metadata{EventType: EventType, Payload: metaPayload{
		EpisodeID: d.EpisodeID, Key: d.Key, Action: string(d.Action), Step: step,
		DeliveryID: strconv.FormatInt(d.ID, 10),
	}}
}

// postOnce posts req with v as step of delivery d, unless an earlier
// attempt already did: before the post a marker is written to the journal;
// an attempt that finds the marker searches the channel (or, for a reply,
// the thread) for the message carrying d's metadata and adopts it. found
// reports an adopted message. Without a journal, or when Slack refuses the
// search (a missing history scope), it simply posts.
func (n *Notifier) postOnce(ctx context.Context, d store.Delivery, step string, req chatRequest, v view) (a answer, code int, found bool, err error) {
	req.Metadata = meta(d, step)
	if n.journal == nil || d.ID == 0 {
		a, code, err = n.send(ctx, "chat.postMessage", req, v)
		return a, code, false, err
	}
	name := fmt.Sprintf("slack-%s/%d", step, d.ID)
	val, _, ok, err := n.journal.Get(ctx, name)
	if err != nil {
		return answer{}, 0, false, &notify.Error{Reason: "read the post marker", Retryable: true, Err: err}
	}
	if since, posting := parseMarker(val); ok && posting {
		ts, lerr := n.lookup(ctx, req, since, req.Metadata.Payload)
		switch {
		case lerr == nil && ts != "":
			return answer{Channel: req.Channel, TS: ts}, http.StatusOK, true, nil
		case lerr != nil && retryable(lerr):
			return answer{}, 0, false, fmt.Errorf("look for the message of an earlier attempt: %w", lerr)
		case lerr != nil:
			n.cfg.Logger.Warn("slack: cannot look for the message an earlier attempt may have posted; posting again, which may repeat it",
				"destination", n.cfg.Name, "delivery", d.ID, "err", lerr,
				"fix", "add the channels:history scope (groups:history for private channels) and configure the channel by ID")
		}
	}
	if err := n.journal.Put(ctx, name, "posting "+strconv.FormatInt(n.now().Unix(), 10)); err != nil {
		return answer{}, 0, false, &notify.Error{Reason: "write the post marker", Retryable: true, Err: err}
	}
	a, code, err = n.send(ctx, "chat.postMessage", req, v)
	if err != nil && definite(err) {
		// Slack answered and posted nothing: the next attempt need not look.
		if perr := n.journal.Put(ctx, name, "refused"); perr != nil {
			n.cfg.Logger.Warn("slack: clearing the post marker failed", "destination", n.cfg.Name, "delivery", d.ID, "err", perr)
		}
	}
	return a, code, false, err
}

// parseMarker reads a post marker: "posting <unix seconds>" while a post
// may be in flight.
func parseMarker(v string) (since time.Time, posting bool) {
	rest, ok := strings.CutPrefix(v, "posting ")
	if !ok {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return time.Time{}, true // search from the start of the bounded pages
	}
	return time.Unix(secs, 0), true
}

// definite reports whether err is an answer of Slack's that posted
// nothing: a refusal (ok:false) or a 429.
func definite(err error) bool {
	var ne *notify.Error
	if !errors.As(err, &ne) {
		return false
	}
	return ne.Code == http.StatusTooManyRequests || (ne.Code == http.StatusOK && ne.Reason != "" && !strings.ContainsAny(ne.Reason, " :"))
}

// lookup searches req's channel (conversations.history) or, for a thread
// reply, the thread (conversations.replies) for a message with payload p,
// reading at most lookupPages pages. It returns "" when there is none.
func (n *Notifier) lookup(ctx context.Context, req chatRequest, since time.Time, p metaPayload) (string, error) {
	method := "conversations.history"
	hr := historyRequest{Channel: req.Channel, Limit: lookupPageSize, IncludeAllMetadata: true}
	if req.ThreadTS != "" {
		method, hr.TS = "conversations.replies", req.ThreadTS
	}
	if !since.IsZero() {
		hr.Oldest = strconv.FormatInt(since.Add(-lookupMargin).Unix(), 10) + ".000000"
	}
	for range lookupPages {
		if err := n.reads.Load().Wait(ctx); err != nil {
			return "", &notify.Error{Reason: method + ": not sent: the deadline came while it waited for Slack's rate limit",
				Retryable: true, Err: err}
		}
		var h historyAnswer
		if _, _, err := n.callInto(ctx, method, hr, &h); err != nil {
			return "", err
		}
		for _, m := range h.Messages {
			if m.Metadata != nil && m.Metadata.EventType == EventType && m.Metadata.Payload.DeliveryID == p.DeliveryID &&
				m.Metadata.Payload.Step == p.Step {
				return m.TS, nil
			}
		}
		if !h.HasMore || h.Meta.NextCursor == "" {
			return "", nil
		}
		hr.Cursor = h.Meta.NextCursor
	}
	return "", nil
}
