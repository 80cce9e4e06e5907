package slack

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// maxStorms is how many storms the notifier remembers; the oldest finished
// ones are forgotten first.
const maxStorms = 32

// stormEntry is one episode in a storm summary.
type stormEntry struct {
	key    string
	t      alert.Transition // the latest transition
	firing bool
	seq    int // order of joining
}

// storm is the in-memory state of one summary message. Its episodes' stored
// handles all point at the summary, so a restart loses only this list, not
// the message: updates after a restart edit the same summary, rebuilt from
// the episodes that change from then on (restored is then true).
type storm struct {
	channel  string
	ts       string   // "" until posted
	aliases  []string // earlier ts, when the summary had to be posted anew
	entries  map[string]*stormEntry
	started  time.Time
	restored bool
	replied  bool // the all-clear thread reply was posted
	found    bool // the summary was found in the channel, not posted, since the last flush
	nextSeq  int  // seq of the next new entry
}

func (s *storm) ref() msgRef { return msgRef{Channel: s.channel, TS: s.ts, Storm: true} }

// counts returns how many entries are firing and resolved.
func (s *storm) counts() (firing, resolved int) {
	for _, e := range s.entries {
		if e.firing {
			firing++
		} else {
			resolved++
		}
	}
	return firing, resolved
}

// over reports whether every entry has resolved.
func (s *storm) over() bool {
	f, r := s.counts()
	return f == 0 && r > 0
}

// apply records a delivery's transition in the storm and returns how to
// take it back.
func (s *storm) apply(d store.Delivery) change {
	key := d.Key
	if key == "" {
		key = d.Transition.Key
	}
	e, ok := s.entries[key]
	c := change{key: key}
	if ok {
		prev := *e
		c.prev = &prev
	} else {
		e = &stormEntry{key: key, seq: s.nextSeq}
		s.nextSeq++
		s.entries[key] = e
	}
	e.t = d.Transition
	e.firing = d.Action != alert.ActionResolve
	if start, _ := span(d.Transition); !start.IsZero() && start.Before(s.started) {
		s.started = start
	}
	return c
}

// change is one delivery's change to a storm entry, kept until Slack shows
// it: when the summary's post or edit fails, the delivery will be retried,
// and the storm must not go on showing (or counting, for "storm over") what
// it said.
type change struct {
	key  string
	prev *stormEntry // the entry before, nil when the delivery added it
}

// undo takes c back; n.stormMu must be held. Only one delivery of a key is
// in flight at a time, so nothing else changed the entry meanwhile.
func (s *storm) undo(c change) {
	if c.prev == nil {
		delete(s.entries, c.key)
		return
	}
	s.entries[c.key] = c.prev
}

// NotifyBatch sends a batch of deliveries. Deliveries whose episode belongs
// to a storm edit its summary. When the batch holds at least StormThreshold
// deliveries that would each post a new message, or a storm is still open,
// those join the storm summary (posted once, then edited); otherwise they
// are sent one by one, in order. It returns one result per delivery.
func (n *Notifier) NotifyBatch(ctx context.Context, ds []store.Delivery, prev []*store.Ref) []notify.Result {
	res := make([]notify.Result, len(ds))
	refs := make([]msgRef, len(ds))
	has := make([]bool, len(ds))
	var single, loose []int
	members := map[*storm][]int{}
	changes := map[*storm][]change{}
	var touched []*storm

	for i := range ds {
		var p *store.Ref
		if i < len(prev) {
			p = prev[i]
		}
		if refs[i], has[i] = parseRef(p); !has[i] {
			loose = append(loose, i)
		}
	}
	// Deliveries an earlier attempt showed in a summary whose handle was
	// lost join that summary again.
	found, adopted, ferr := n.recoverStorm(ctx, ds, loose)
	var skip map[int]bool // nil, and read as empty, unless a summary was found
	if len(adopted) > 0 {
		skip = make(map[int]bool, len(adopted))
	}
	for _, i := range adopted {
		skip[i] = true
		if ferr != nil {
			res[i] = notify.Result{Err: ferr}
		}
	}
	loose = nil

	n.stormMu.Lock()
	join := func(s *storm, i int) {
		if _, ok := members[s]; !ok {
			touched = append(touched, s)
		}
		members[s] = append(members[s], i)
		changes[s] = append(changes[s], s.apply(ds[i]))
	}
	for i := range ds {
		switch {
		case skip[i] && ferr != nil:
		case skip[i]:
			join(n.adoptStorm(found), i)
		case has[i] && refs[i].Storm:
			join(n.stormOf(refs[i]), i)
		case has[i]:
			single = append(single, i)
		default:
			loose = append(loose, i)
		}
	}
	open := n.current != nil && !n.current.over()
	if len(loose) > 0 && n.threshold > 0 && (open || len(loose) >= n.threshold) {
		if !open {
			n.current = n.newStorm()
		}
		for _, i := range loose {
			join(n.current, i)
		}
	} else {
		single = append(single, loose...)
		sort.Ints(single)
	}
	n.stormMu.Unlock()

	for _, i := range single {
		rec, err := n.notifyOne(ctx, ds[i], refs[i], has[i])
		res[i] = notify.Result{Receipt: rec, Err: err}
	}
	for _, s := range touched {
		n.flushStorm(ctx, s, ds, members[s], changes[s], res)
	}
	return res
}

// newStorm starts a storm; n.stormMu must be held.
func (n *Notifier) newStorm() *storm {
	s := &storm{channel: n.channel, entries: map[string]*stormEntry{}, started: n.now()}
	n.remember(s)
	return s
}

// stormOf returns the storm a summary handle points at, adopting the
// summary as a restored storm when it is not in memory (after a restart);
// n.stormMu must be held.
func (n *Notifier) stormOf(ref msgRef) *storm {
	if s, ok := n.storms[ref.key()]; ok {
		return s
	}
	s := &storm{channel: ref.Channel, ts: ref.TS, entries: map[string]*stormEntry{}, started: n.now(), restored: true}
	n.remember(s)
	n.storms[ref.key()] = s
	if n.current == nil || n.current.over() {
		n.current = s
	}
	return s
}

// remember keeps s, forgetting the oldest finished storms beyond maxStorms;
// n.stormMu must be held.
func (n *Notifier) remember(s *storm) {
	n.order = append(n.order, s)
	for i := 0; len(n.order) > maxStorms && i < len(n.order); {
		old := n.order[i]
		if old == n.current || !old.replied {
			i++
			continue
		}
		for _, ts := range append([]string{old.ts}, old.aliases...) {
			delete(n.storms, old.channel+"/"+ts)
		}
		n.order = append(n.order[:i], n.order[i+1:]...)
	}
}

// flushStorm renders a storm and posts or edits its summary, then gives the
// results of the member deliveries ds[idx]. When Slack did not take the summary,
// their changes are taken back: the deliveries fail and will be retried.
func (n *Notifier) flushStorm(ctx context.Context, s *storm, ds []store.Delivery, idx []int, changes []change, res []notify.Result) {
	n.stormMu.Lock()
	defer n.stormMu.Unlock()
	v := n.renderStorm(s)
	var (
		code int
		err  error
		note string
	)
	if s.ts != "" {
		_, code, err = n.send(ctx, "chat.update", chatRequest{Channel: s.channel, TS: s.ts}, v)
		if goneErrors[slackCode(err)] {
			note = slackCode(err) + ": posted a new summary; "
			s.aliases = append(s.aliases, s.ts)
			s.ts = ""
		} else if err != nil {
			err = fmt.Errorf("slack: update storm summary: %w", err)
		}
	}
	if s.found {
		note += "found the storm summary an earlier attempt posted; "
		s.found = false
	}
	if s.ts == "" {
		var a answer
		req := chatRequest{Channel: n.channel}
		err = nil
		if n.journal != nil {
			req.Metadata, err = n.markStormPost(ctx, ds, idx)
		}
		if err == nil {
			a, code, err = n.send(ctx, "chat.postMessage", req, v)
			if err != nil && req.Metadata != nil && definite(err) {
				n.clearStormPost(ctx)
			}
		}
		if err != nil {
			err = fmt.Errorf("slack: post storm summary: %w", err)
		} else {
			s.channel, s.ts = a.Channel, a.TS
			n.storms[s.ref().key()] = s
			for _, old := range s.aliases {
				n.storms[s.channel+"/"+old] = s
			}
		}
	}
	shown := err == nil
	if err == nil && s.over() && !s.replied {
		if rerr := n.reply(ctx, store.Delivery{}, s.ref(), n.stormReplyText(s)); rerr == nil {
			s.replied = true
		} else if retryable(rerr) {
			err = fmt.Errorf("slack: storm thread reply: %w", rerr)
		} else {
			s.replied = true
			note += "thread reply failed: " + rerr.Error() + "; "
		}
	}
	if !shown {
		// (After a failed thread reply alone the summary shows the
		// changes; the retries only need the reply.)
		for j := len(changes) - 1; j >= 0; j-- {
			s.undo(changes[j])
		}
	}
	if s.over() && s.replied && n.current == s {
		n.current = nil
	}
	for _, i := range idx {
		if err != nil {
			res[i] = notify.Result{Err: err}
			continue
		}
		res[i] = notify.Result{Receipt: notify.Receipt{
			Ref:  s.ref().String(),
			Code: code,
			Note: fmt.Sprintf("%sstorm summary of %d queues", note, len(s.entries)),
		}}
	}
}
