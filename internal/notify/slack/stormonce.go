package slack

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// A storm summary is posted on behalf of many deliveries at once, so its
// crash window is kept in one journal note per destination rather than one
// per delivery: before the post, the note names the summary (an id carried
// in the message's metadata) and the deliveries it shows. Summaries are
// posted one at a time (flushStorm holds stormMu), and a new one is posted
// only once the previous storm is over, so one note is enough.
const (
	stormNoteName = "slack-storm"
	stepStorm     = "storm" // the metadata step of a storm summary
)

// stormMarker is the decoded storm note: a summary post that may have
// reached Slack without its handle being stored.
type stormMarker struct {
	since   time.Time
	id      string
	members map[int64]bool
}

// formatStormMarker encodes the note written before a summary is posted:
// "posting <unix seconds> <summary id> <delivery id>,<delivery id>,…".
func formatStormMarker(at time.Time, id string, members []int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "posting %d %s ", at.Unix(), id)
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(m, 10))
	}
	return b.String()
}

// parseStormMarker decodes a storm note; ok is false when no post may be in
// flight (no note, a refused post, or an unreadable note).
func parseStormMarker(v string) (m stormMarker, ok bool) {
	f := strings.Fields(v)
	if len(f) != 4 || f[0] != "posting" {
		return stormMarker{}, false
	}
	secs, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return stormMarker{}, false
	}
	m = stormMarker{since: time.Unix(secs, 0), id: f[2], members: map[int64]bool{}}
	for _, s := range strings.Split(f[3], ",") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return stormMarker{}, false
		}
		m.members[id] = true
	}
	return m, true
}

// stormMeta returns the metadata of the summary post called id.
func stormMeta(id string) *metadata {
	return &metadata{EventType: EventType, Payload: metaPayload{Action: "summary", Step: stepStorm, DeliveryID: id}}
}

// markStormPost writes the storm note before s's summary is posted for the
// deliveries ds[idx] and returns the metadata the post must carry.
func (n *Notifier) markStormPost(ctx context.Context, ds []store.Delivery, idx []int) (*metadata, error) {
	ids := make([]int64, 0, len(idx))
	for _, i := range idx {
		if ds[i].ID != 0 {
			ids = append(ids, ds[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	at := n.now()
	id := fmt.Sprintf("%d-%d", ids[0], at.UnixNano())
	note := formatStormMarker(at, id, ids)
	if err := n.journal.Put(ctx, stormNoteName, note); err != nil {
		return nil, &notify.Error{Reason: "write the storm summary's post marker", Retryable: true, Err: err}
	}
	n.setStormNote(note)
	return stormMeta(id), nil
}

// The storm note is read from the journal once per notifier and then kept
// in memory with the notifier's own writes: only the process that sends
// writes it (one leader at a time, and a replica that loses the lead
// exits), so after that first read nobody else changes it. That spares
// every delivery without a message a read of the store.

// setStormNote records the note as this notifier wrote it.
func (n *Notifier) setStormNote(v string) {
	m, posting := parseStormMarker(v)
	n.noteMu.Lock()
	defer n.noteMu.Unlock()
	n.note, n.notePosting, n.noteLoaded = m, posting, true
}

// stormNote returns the storm note, read from the journal the first time.
func (n *Notifier) stormNote(ctx context.Context) (stormMarker, bool, error) {
	n.noteMu.Lock()
	if n.noteLoaded {
		defer n.noteMu.Unlock()
		return n.note, n.notePosting, nil
	}
	n.noteMu.Unlock()
	val, _, _, err := n.journal.Get(ctx, stormNoteName)
	if err != nil {
		return stormMarker{}, false, err
	}
	m, posting := parseStormMarker(val)
	n.noteMu.Lock()
	defer n.noteMu.Unlock()
	if !n.noteLoaded { // unless a write of ours came first
		n.note, n.notePosting, n.noteLoaded = m, posting, true
	}
	return n.note, n.notePosting, nil
}

// clearStormPost records that Slack refused the summary post: nothing was
// posted, so the retries need not look for it.
func (n *Notifier) clearStormPost(ctx context.Context) {
	if err := n.journal.Put(ctx, stormNoteName, "refused"); err != nil {
		n.cfg.Logger.Warn("slack: clearing the storm summary's post marker failed", "destination", n.cfg.Name, "err", err)
		return
	}
	n.setStormNote("refused")
}

// recoverStorm finds, among the deliveries ds[loose] that have no message
// of their own, those an earlier attempt showed in a storm summary whose
// handle was never stored (the process died between the post and the
// store). It returns the summary found and the indices of those
// deliveries; none when there is no such summary. A retryable error means
// the search could not be made now: those deliveries must wait.
func (n *Notifier) recoverStorm(ctx context.Context, ds []store.Delivery, loose []int) (msgRef, []int, error) {
	if n.journal == nil || n.threshold <= 0 || len(loose) == 0 {
		return msgRef{}, nil, nil
	}
	m, posting, err := n.stormNote(ctx)
	if err != nil {
		return msgRef{}, loose, &notify.Error{Reason: "read the storm summary's post marker", Retryable: true, Err: err}
	}
	if !posting {
		return msgRef{}, nil, nil
	}
	var mine []int
	for _, i := range loose {
		if m.members[ds[i].ID] {
			mine = append(mine, i)
		}
	}
	if len(mine) == 0 {
		return msgRef{}, nil, nil
	}
	n.stormMu.Lock()
	known, ok := n.recovered[m.id]
	n.stormMu.Unlock()
	if ok {
		return known, mine, nil
	}
	ts, err := n.lookup(ctx, chatRequest{Channel: n.channel}, m.since, stormMeta(m.id).Payload)
	switch {
	case err != nil && retryable(err):
		return msgRef{}, mine, fmt.Errorf("slack: look for the storm summary of an earlier attempt: %w", err)
	case err != nil:
		n.cfg.Logger.Warn("slack: cannot look for the storm summary an earlier attempt may have posted; posting again, which may repeat it",
			"destination", n.cfg.Name, "err", err,
			"fix", "add the channels:history scope (groups:history for private channels) and configure the channel by ID")
		return msgRef{}, nil, nil
	case ts == "":
		return msgRef{}, nil, nil
	}
	found := msgRef{Channel: n.channel, TS: ts, Storm: true}
	n.stormMu.Lock()
	if n.recovered == nil {
		n.recovered = map[string]msgRef{}
	}
	n.recovered[m.id] = found
	n.stormMu.Unlock()
	return found, mine, nil
}

// adoptStorm returns the storm of a summary found by recoverStorm; n.stormMu
// must be held. When this process's own open storm is the one whose post
// was lost (the post timed out but reached Slack), that storm takes the
// summary's handle.
func (n *Notifier) adoptStorm(ref msgRef) *storm {
	if s, ok := n.storms[ref.key()]; ok {
		return s
	}
	s := n.current
	if s != nil && s.ts == "" {
		s.channel, s.ts = ref.Channel, ref.TS
		n.storms[ref.key()] = s
	} else {
		s = n.stormOf(ref)
	}
	s.found = true
	return s
}
