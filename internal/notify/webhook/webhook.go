// Package webhook sends queuewatch notifications as signed JSON POSTs to a
// URL of the operator's choosing (destination type "webhook").
//
// Every request carries a Message (see its schema) and the headers
// X-Queuewatch-Signature ("sha256=" + hex HMAC-SHA256 of the body, keyed with
// the destination's secret; absent when no secret is configured),
// X-Queuewatch-Timestamp (Unix seconds), X-Queuewatch-Delivery (the delivery
// id, stable across retries, for idempotency) and User-Agent "queuewatch".
// Receivers check the signature with Verify.
//
// A 2xx answer means sent. Failures follow the shared policy of
// notify.Classify: 408, 429, 5xx other than 501 and transport errors are
// retryable (Retry-After is kept); any other answer is permanent, with the
// first 512 bytes of its body as the reason.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Config configures one webhook destination.
type Config struct {
	// Name is the destination's name in the configuration.
	Name string
	// URL receives the POSTs. It may hold credentials in its path or query;
	// errors and String show only its scheme and host.
	URL string
	// Secret keys the signature; empty sends unsigned requests.
	Secret config.Secret
	// PublicURL is where queuewatch's dashboard is served; sent as "url".
	PublicURL string
	// Now returns the current time, default time.Now.
	Now func() time.Time
}

// FromDestination returns the Config of a configured webhook destination.
// publicURL is the configuration's public_url.
func FromDestination(d config.Destination, publicURL string) Config {
	return Config{Name: d.Name, URL: d.URL, Secret: d.Secret, PublicURL: publicURL}
}

// Notifier posts deliveries to one webhook URL. It implements
// notify.Notifier and is safe for concurrent use.
type Notifier struct {
	cfg    Config
	host   string // scheme://host of cfg.URL, safe to show
	client *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// defaultTimeout bounds a request when the caller passes no http.Client.
const defaultTimeout = 10 * time.Second

// New returns a Notifier for cfg. A nil client means an http.Client with a
// 10-second timeout; callers should still put a deadline on each Notify.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parse error would quote the URL, which may hold a credential.
		return nil, errors.New("webhook: url must be an absolute http:// or https:// URL")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	return &Notifier{cfg: cfg, host: u.Scheme + "://" + u.Host, client: client}, nil
}

// String names the notifier without its secret or the URL's path and query.
func (n *Notifier) String() string { return "webhook " + n.cfg.Name + " (" + n.host + ")" }

// Name returns the destination's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// Notify posts one delivery. prev is not used. Failures are *notify.Error values.
func (n *Notifier) Notify(ctx context.Context, d store.Delivery, _ *store.Ref) (notify.Receipt, error) {
	switch d.Action {
	case alert.ActionCreate, alert.ActionUpdate, alert.ActionResolve:
	default:
		return notify.Receipt{}, &notify.Error{Reason: fmt.Sprintf("action %q has nothing to send", d.Action)}
	}
	now := n.cfg.Now()
	body, err := json.Marshal(newMessage(d, n.cfg.PublicURL, now))
	if err != nil {
		return notify.Receipt{}, &notify.Error{Reason: "cannot encode message", Err: fmt.Errorf("webhook: encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, &notify.Error{Reason: "cannot build request", Err: errors.New("webhook: cannot build request")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "queuewatch")
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(DeliveryHeader, strconv.FormatInt(d.ID, 10))
	if s := n.cfg.Secret.Value(); s != "" {
		req.Header.Set(SignatureHeader, Sign([]byte(s), body))
	}
	resp, err := n.client.Do(req)
	if e := notify.Classify(resp, err); e != nil {
		if resp != nil {
			n.explain(e, resp)
		}
		return notify.Receipt{}, e
	}
	notify.DrainBody(resp.Body)
	return notify.Receipt{Code: resp.StatusCode}, nil
}

// maxReason is how much of a refusal's body becomes the error's reason.
const maxReason = 512

// explain reads a refusal's body into e's reason, without the secret, and
// points a refused signature at the secret.
func (n *Notifier) explain(e *notify.Error, resp *http.Response) {
	head, _ := notify.ReadErrorBody(resp.Body, maxReason)
	if r := strings.TrimSpace(string(head)); r != "" {
		e.Reason = r
	}
	if s := n.cfg.Secret.Value(); s != "" {
		e.Reason = strings.ReplaceAll(e.Reason, s, "[redacted]")
	}
	if e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden {
		e.Hint = "check that the receiver verifies with the destination's secret"
	}
}
