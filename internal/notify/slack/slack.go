// Package slack delivers queuewatch notifications to a Slack channel through
// the Web API: one message per breach episode (chat.postMessage), edited in
// place on every change (chat.update), turned green with a thread reply on
// resolve. During an alert storm many episodes share one summary message.
//
// The handle stored per episode (store.Ref) is the message's channel and ts,
// so updates after a restart edit the same message; if Slack lost it
// (message_not_found) a new message is posted and its handle returned.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/store"
)

// DefaultBaseURL is the Slack Web API base.
const DefaultBaseURL = "https://slack.com/api"

// DefaultStormThreshold is how many deliveries of one batch that would each
// post a new message turn into one storm summary instead.
const DefaultStormThreshold = 5

// Default pacing of the notifier's own requests. Slack allows about one
// chat.postMessage a second per channel with short bursts, and chat.update
// at Tier 3 (50 a minute per workspace). The bursts stay below what Slack
// tolerates, so that requests bunched up in transit still fit.
const (
	DefaultPostRate    = 1.0
	DefaultPostBurst   = 2
	DefaultUpdateRate  = 50.0 / 60
	DefaultUpdateBurst = 10
)

// Config configures a Notifier.
type Config struct {
	// Name is the destination's name, for messages about it.
	Name string
	// BaseURL is the Web API base; DefaultBaseURL when empty.
	BaseURL string
	// Token is the bot token (xoxb-…), sent only as a Bearer header.
	Token config.Secret
	// Channel is the channel ID (preferred) or name to post to.
	Channel string
	// PublicURL is queuewatch's dashboard base URL for a button; optional.
	PublicURL string
	// QueueURL returns the Genesys admin link of a queue; optional.
	QueueURL func(queueID string) string
	// StormThreshold is how many new-message deliveries of one batch start a
	// storm summary; 0 means DefaultStormThreshold, negative turns it off.
	StormThreshold int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Templates, when set, override the header text (title, still cut to
	// Slack's 150 characters) and the body section (description, escaped
	// and cut to 3,000 characters) of an episode's message; nil keeps the
	// built-in texts. Storm summaries always use the built-in texts.
	Templates *template.Set
	// Logger receives a warning when a template fails and the built-in
	// text is sent instead; slog.Default() when nil.
	Logger *slog.Logger
	// PostRate is the most chat.postMessage calls a second (Slack's limit is
	// per channel; a notifier posts to its one channel, so one bucket serves
	// also replies under messages whose handle names the channel by id),
	// PostBurst the most at once; UpdateRate and UpdateBurst pace
	// chat.update calls. Every request waits for its token, whatever sends
	// it (a single delivery, a batch, a storm summary, a thread reply). 0
	// means the defaults above, a negative rate no pacing.
	PostRate    float64
	PostBurst   int
	UpdateRate  float64
	UpdateBurst int
	// Clock paces the requests; notify.SystemClock when nil.
	Clock notify.Clock
}

// Notifier sends to one Slack channel. It implements notify.Notifier and
// notify.BatchNotifier and is safe for concurrent use.
type Notifier struct {
	cfg       Config
	base      string
	token     string
	channel   string
	threshold int
	client    *http.Client
	now       func() time.Time

	posts   atomic.Pointer[notify.Limiter] // chat.postMessage
	updates atomic.Pointer[notify.Limiter] // chat.update
	reads   atomic.Pointer[notify.Limiter] // conversations.history and .replies

	journal notify.Journal // post markers; nil without one

	stormMu sync.Mutex
	current *storm            // the open storm new breaches join, or nil
	storms  map[string]*storm // every storm in memory by channel/ts
	order   []*storm          // storms oldest first, for eviction
	// recovered maps the id of a summary an earlier attempt posted (see
	// recoverStorm) to the summary found in the channel, so that it is
	// searched for once.
	recovered map[string]msgRef

	noteMu      sync.Mutex
	noteLoaded  bool        // note and notePosting hold the storm note
	note        stormMarker // the storm note (see stormNote)
	notePosting bool
}

var (
	_ notify.Notifier      = (*Notifier)(nil)
	_ notify.BatchNotifier = (*Notifier)(nil)
)

// New returns a Notifier for cfg that sends with client (a client with a
// 10 s timeout when nil).
func New(cfg Config, client *http.Client) (*Notifier, error) {
	if cfg.Token == "" {
		return nil, errors.New("slack: token is required")
	}
	if strings.TrimSpace(cfg.Channel) == "" {
		return nil, errors.New("slack: channel is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack: base URL %q must be an absolute http(s) URL", base)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	n := &Notifier{
		cfg: cfg, base: base, token: cfg.Token.Value(), channel: strings.TrimSpace(cfg.Channel),
		threshold: cfg.StormThreshold, client: client, now: cfg.Now, storms: map[string]*storm{},
	}
	if n.threshold == 0 {
		n.threshold = DefaultStormThreshold
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.cfg.Logger == nil {
		n.cfg.Logger = slog.Default()
	}
	rate := func(r, def float64) float64 {
		if r == 0 {
			return def
		}
		return r
	}
	burst := func(b, def int) int {
		if b <= 0 {
			return def
		}
		return b
	}
	n.SetPacing(rate(cfg.PostRate, DefaultPostRate), burst(cfg.PostBurst, DefaultPostBurst),
		rate(cfg.UpdateRate, DefaultUpdateRate), burst(cfg.UpdateBurst, DefaultUpdateBurst))
	return n, nil
}

// SetPacing replaces the pacing of the notifier's requests: postRate
// chat.postMessage calls a second with bursts of postBurst, and
// updateRate chat.update calls a second with bursts of updateBurst; a rate
// ≤ 0 does not pace. Requests already waiting keep their old pacing.
func (n *Notifier) SetPacing(postRate float64, postBurst int, updateRate float64, updateBurst int) {
	n.posts.Store(notify.NewLimiter(postRate, postBurst, n.cfg.Clock))
	n.updates.Store(notify.NewLimiter(updateRate, updateBurst, n.cfg.Clock))
	n.reads.Store(notify.NewLimiter(DefaultReadRate, DefaultReadBurst, n.cfg.Clock))
}

// Name returns the destination's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// Notify sends one delivery: a new message for a create (or when there is
// no usable handle), an edit of the episode's message otherwise, plus a
// thread reply on resolve. Deliveries of a storm edit the storm summary.
//
// A delivery with no message of its own joins a storm that is still open,
// just as it would if it had been claimed in a batch with others, or the
// summary an earlier attempt showed it in (see recoverStorm).
func (n *Notifier) Notify(ctx context.Context, d store.Delivery, prev *store.Ref) (notify.Receipt, error) {
	ref, ok := parseRef(prev)
	if (ok && ref.Storm) || (!ok && (n.stormOpen() || n.mayRecoverStorm())) {
		r := n.NotifyBatch(ctx, []store.Delivery{d}, []*store.Ref{prev})
		return r[0].Receipt, r[0].Err
	}
	return n.notifyOne(ctx, d, ref, ok)
}

// stormOpen reports whether new breaches currently join a storm summary.
func (n *Notifier) stormOpen() bool {
	n.stormMu.Lock()
	defer n.stormMu.Unlock()
	return n.threshold > 0 && n.current != nil && !n.current.over()
}

// mayRecoverStorm reports whether a delivery without a message may belong
// to a storm summary an earlier attempt posted.
func (n *Notifier) mayRecoverStorm() bool { return n.journal != nil && n.threshold > 0 }

// notifyOne sends a delivery that has its own message (or none yet).
func (n *Notifier) notifyOne(ctx context.Context, d store.Delivery, ref msgRef, has bool) (notify.Receipt, error) {
	t := d.Transition
	resolve := d.Action == alert.ActionResolve
	v := n.renderFiring(t, d.Action)
	if resolve {
		v = n.renderResolved(t, d.Action)
	}
	note := ""
	if has {
		_, code, err := n.send(ctx, "chat.update", chatRequest{Channel: ref.Channel, TS: ref.TS}, v)
		switch {
		case err == nil:
			rec := notify.Receipt{Ref: ref.String(), Code: code}
			if resolve {
				if rerr := n.reply(ctx, d, ref, replyText(t)); rerr != nil {
					if retryable(rerr) {
						return notify.Receipt{}, fmt.Errorf("slack: thread reply: %w", rerr)
					}
					rec.Note = "resolved, but the thread reply failed: " + rerr.Error()
				}
			}
			rec.Note = joinNotes(rec.Note, v.note)
			return rec, nil
		case !goneErrors[slackCode(err)]:
			return notify.Receipt{}, fmt.Errorf("slack: update message: %w", err)
		}
		note = slackCode(err) + ": posted a new message"
	}
	a, code, found, err := n.postOnce(ctx, d, stepPost, chatRequest{Channel: n.channel}, v)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("slack: post message: %w", err)
	}
	if found {
		// The earlier attempt of this delivery posted the same content.
		note = joinNotes(note, "found the message an earlier attempt posted")
	}
	return notify.Receipt{Ref: msgRef{Channel: a.Channel, TS: a.TS}.String(), Code: code, Note: joinNotes(note, v.note)}, nil
}

// joinNotes joins the non-empty remarks for the delivery log with "; ".
func joinNotes(notes ...string) string {
	var out []string
	for _, s := range notes {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// reply posts text in the thread of ref's message, as delivery d's reply
// (once: see postOnce).
func (n *Notifier) reply(ctx context.Context, d store.Delivery, ref msgRef, text string) error {
	_, _, _, err := n.postOnce(ctx, d, stepReply, chatRequest{Channel: ref.Channel, ThreadTS: ref.TS}, view{text: text})
	return err
}

// send makes a chat.postMessage or chat.update call with v's text and
// blocks. If Slack refuses the blocks it retries once with text only.
func (n *Notifier) send(ctx context.Context, method string, req chatRequest, v view) (answer, int, error) {
	req.Text, req.Blocks = v.text, v.blocks
	if len(req.Blocks) > maxBlocks {
		req.Blocks = req.Blocks[:maxBlocks]
	}
	if method == "chat.postMessage" {
		no := false
		req.UnfurlLinks, req.UnfurlMedia = &no, &no
	}
	a, code, err := n.pacedCall(ctx, method, req)
	if err != nil && len(req.Blocks) > 0 && blockErrors[slackCode(err)] {
		req.Blocks = nil
		req.Text = clip(req.Text, maxFallback)
		a, code, err = n.pacedCall(ctx, method, req)
	}
	if err == nil && a.Channel == "" {
		a.Channel = req.Channel
	}
	if err == nil && a.TS == "" {
		a.TS = req.TS
	}
	return a, code, err
}

// pacedCall waits for a token of the method's rate limit, then calls it.
func (n *Notifier) pacedCall(ctx context.Context, method string, req chatRequest) (answer, int, error) {
	var err error
	switch method {
	case "chat.postMessage":
		err = n.posts.Load().Wait(ctx)
	case "chat.update":
		err = n.updates.Load().Wait(ctx)
	}
	if err != nil {
		return answer{}, 0, &notify.Error{
			Reason:    method + ": not sent: the send's deadline came while it waited for Slack's rate limit",
			Retryable: true, Err: err,
		}
	}
	return n.call(ctx, method, req)
}
