// Package pagerduty sends queuewatch notifications to PagerDuty through the
// Events API v2 (POST {base}/v2/enqueue).
//
// One alert key is one PagerDuty dedup_key, so one breach is one incident:
// a create triggers it, an update triggers it again with the same dedup_key
// (PagerDuty appends the event to the open incident's log rather than
// opening a new one, and an acknowledged incident does not notify again),
// and a resolve resolves it. A trigger for a dedup_key whose incident was
// resolved (for instance by hand in PagerDuty) opens a new incident, so an
// update after a manual resolve pages again while the breach lasts.
//
// Failures are classified by the shared policy of notify.Classify (408, 429,
// 5xx other than 501 and transport errors are retryable, with Retry-After
// kept; other answers are permanent), with PagerDuty's message and errors as
// the reason.
//
// The routing key travels in the request body; it is a secret and never
// appears in errors, receipts or the notifier's String form.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/store"
)

// DefaultBaseURL is the PagerDuty Events API host used when Config.BaseURL is empty.
const DefaultBaseURL = "https://events.pagerduty.com"

// EnqueuePath is appended to the base URL.
const EnqueuePath = "/v2/enqueue"

// DefaultSource is the payload source used when Config.Source is empty.
const DefaultSource = "queuewatch"

// Config configures one PagerDuty destination.
type Config struct {
	// Name is the destination's name in the configuration.
	Name string
	// BaseURL is the Events API host, default DefaultBaseURL; EnqueuePath is
	// appended to it.
	BaseURL string
	// RoutingKey is the 32-character integration key of the service.
	RoutingKey config.Secret
	// Source is the payload's source field, default DefaultSource.
	Source string
	// PublicURL is where queuewatch's dashboard is served; when set, events
	// link to it.
	PublicURL string
	// QueueURL, when set, returns the Genesys Cloud admin page of a queue,
	// linked from events.
	QueueURL func(queueID string) string
	// Now returns the current time, default time.Now. It stamps events whose
	// transition has no time.
	Now func() time.Time
	// Templates, when set, override the summary of trigger events with the
	// title template (still cut to MaxSummary characters); nil keeps the
	// built-in Summary. PagerDuty events have no description.
	Templates *template.Set
	// Logger receives a warning when a template fails and the built-in
	// summary is sent instead; default slog.Default().
	Logger *slog.Logger
}

// FromDestination returns the Config of a configured pagerduty destination.
// publicURL is the configuration's public_url.
func FromDestination(d config.Destination, publicURL string) Config {
	return Config{Name: d.Name, BaseURL: d.URL, RoutingKey: d.RoutingKey, PublicURL: publicURL}
}

// Notifier sends deliveries to one PagerDuty integration. It implements
// notify.Notifier and is safe for concurrent use.
type Notifier struct {
	cfg      Config
	endpoint string
	client   *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// defaultTimeout bounds a request when the caller passes no http.Client.
const defaultTimeout = 10 * time.Second

// New returns a Notifier for cfg. A nil client means an http.Client with a
// 10-second timeout; callers should still put a deadline on each Notify.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	if cfg.RoutingKey == "" {
		return nil, errors.New("pagerduty: routing key is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Source == "" {
		cfg.Source = DefaultSource
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("pagerduty: base URL %q must start with http:// or https://", cfg.BaseURL)
	}
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	endpoint := strings.TrimRight(cfg.BaseURL, "/") + EnqueuePath
	return &Notifier{cfg: cfg, endpoint: endpoint, client: client}, nil
}

// String names the notifier without its routing key, so that printing or
// logging it is safe.
func (n *Notifier) String() string { return "pagerduty " + n.cfg.Name + " (" + n.endpoint + ")" }

// Name returns the destination's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// Notify sends one delivery as a trigger (create, update) or resolve event.
// prev is not needed: the dedup key is derived from the delivery's key.
// Failures are *notify.Error values.
func (n *Notifier) Notify(ctx context.Context, d store.Delivery, _ *store.Ref) (notify.Receipt, error) {
	ev, note, err := n.event(d)
	if err != nil {
		return notify.Receipt{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return notify.Receipt{}, &notify.Error{Reason: "cannot encode event", Err: fmt.Errorf("pagerduty: encode event: %w", err)}
	}
	r, err := n.post(ctx, body, ev.DedupKey)
	if err == nil && note != "" {
		if r.Note != "" {
			note = r.Note + "; " + note
		}
		r.Note = note
	}
	return r, err
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

// post sends one encoded event and classifies the answer with the shared
// retry policy (notify.Classify), using PagerDuty's own words as the reason.
func (n *Notifier) post(ctx context.Context, body []byte, dedupKey string) (notify.Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, &notify.Error{Reason: "cannot build request", Err: fmt.Errorf("pagerduty: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "queuewatch")
	resp, err := n.client.Do(req)
	if e := notify.Classify(resp, err); e != nil {
		if resp != nil {
			b, _ := notify.ReadErrorBody(resp.Body, maxAnswer)
			n.explain(e, b)
		}
		return notify.Receipt{}, e
	}
	defer notify.DrainBody(resp.Body)
	// The event is accepted once the status says so; a broken body only
	// costs the note.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var a answer
	_ = json.Unmarshal(b, &a)
	ref := a.DedupKey
	if ref == "" {
		ref = dedupKey
	}
	return notify.Receipt{Ref: ref, Code: resp.StatusCode, Note: a.Message}, nil
}
