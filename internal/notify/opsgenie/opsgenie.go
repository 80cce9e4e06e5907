// Package opsgenie sends queuewatch alerts to the OpsGenie Alert API and to
// its successor, the Jira Service Management (JSM) operations "integration
// events" API, which takes the same requests under another base URL.
//
// Each episode of a series is one alert whose alias is the alert key
// ("{queue_id}_{rule}"): a create opens it (OpsGenie deduplicates repeated
// creates of an open alias), updates change its priority and add notes, and a
// resolve closes it. OpsGenie answers 202 and does the work later, so every
// request is confirmed through the request-status endpoint before the
// delivery counts as sent. The notifier is a notify.Confirming: the
// dispatcher's worker is free once OpsGenie accepted the requests, and a
// retry resumes the requests of an earlier attempt instead of repeating them.
package opsgenie

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/template"
)

// Base URLs of the supported services.
const (
	// OpsGenieURL is the OpsGenie API of US accounts.
	OpsGenieURL = "https://api.opsgenie.com"
	// OpsGenieEUURL is the OpsGenie API of EU accounts.
	OpsGenieEUURL = "https://api.eu.opsgenie.com"
	// JSMURL is the JSM operations integration-events API.
	JSMURL = "https://api.atlassian.com/jsm/ops/integration"
)

// Defaults of Config.
const (
	DefaultSource       = "queuewatch"
	DefaultTimeout      = 10 * time.Second
	DefaultPollInterval = 200 * time.Millisecond
	DefaultPollMax      = 2 * time.Second
)

// Responder is an OpsGenie responder: a team, user, escalation or schedule,
// named by ID or name (users by ID or username).
type Responder struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

// Config configures one OpsGenie or JSM destination.
type Config struct {
	// Name is the destination's name, used in error texts.
	Name string
	// Type is "opsgenie" (the default) or "jsm".
	Type string
	// BaseURL is the API root without "/v2", e.g. OpsGenieURL, OpsGenieEUURL
	// or JSMURL; empty means OpsGenieURL for opsgenie and JSMURL for jsm.
	BaseURL string
	// APIKey is the key of an API integration. It is sent only in the
	// Authorization header and never appears in errors.
	APIKey string
	// Responders are routed every alert.
	Responders []Responder
	// Tags are added to every alert.
	Tags []string
	// Source is the alert's source and the user of every action; default
	// DefaultSource.
	Source string
	// PublicURL is the base of queuewatch's dashboard; when set, alerts link
	// to the queue's page under it.
	PublicURL string
	// QueueURL, when set, returns the Genesys Cloud admin page of a queue,
	// linked from alerts (see genesys.QueueAdminURL).
	QueueURL func(queueID string) string
	// Timeout bounds one Notify (including confirmation), Begin or Confirm
	// when the caller's context has no deadline; default DefaultTimeout.
	Timeout time.Duration
	// PollInterval is the first wait before asking for a request's status;
	// later waits double up to PollMax. Default DefaultPollInterval.
	PollInterval time.Duration
	// PollMax caps the wait between status requests; default DefaultPollMax.
	PollMax time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Templates, when set, override the alert's message (title, still cut
	// to 130 characters) and description; nil keeps the built-in texts.
	Templates *template.Set
	// Logger receives a warning when a template fails and the built-in
	// text is sent instead; default slog.Default().
	Logger *slog.Logger
}

// String describes the configuration without the API key.
func (c Config) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("opsgenie.Config{Name:%q Type:%q BaseURL:%q APIKey:%s Source:%q}", c.Name, c.Type, c.BaseURL, key, c.Source)
}

// GoString describes the configuration for %#v without the API key.
func (c Config) GoString() string { return c.String() }

// FromDestination returns the part of a Config that a configured destination
// defines; the caller adds PublicURL and QueueURL.
func FromDestination(d config.Destination) Config {
	c := Config{
		Name:    d.Name,
		Type:    d.Type,
		BaseURL: d.URL,
		APIKey:  d.APIKey.Value(),
		Tags:    append([]string(nil), d.Tags...),
		Timeout: d.Timeout.D(),
	}
	for _, r := range d.Responders {
		c.Responders = append(c.Responders, Responder{Type: r.Type, ID: r.ID, Name: r.Name, Username: r.Username})
	}
	return c
}

// Notifier sends alert transitions to one OpsGenie or JSM destination. It
// implements notify.Notifier and is safe for concurrent use.
type Notifier struct {
	cfg      Config
	base     string
	client   *http.Client
	checks   chan struct{} // request-status calls in flight
	progress progress
	journal  notify.Journal // accepted request ids, durably; nil without one
}

// New checks cfg, fills in its defaults and returns a Notifier that sends
// through client (http.DefaultClient when nil).
func New(cfg Config, client *http.Client) (*Notifier, error) {
	cfg.Type = strings.ToLower(strings.TrimSpace(cfg.Type))
	switch cfg.Type {
	case "", "opsgenie":
		cfg.Type = "opsgenie"
		if cfg.BaseURL == "" {
			cfg.BaseURL = OpsGenieURL
		}
	case "jsm":
		if cfg.BaseURL == "" {
			cfg.BaseURL = JSMURL
		}
	default:
		return nil, fmt.Errorf("opsgenie %s: unknown type %q; use opsgenie or jsm", cfg.Name, cfg.Type)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("opsgenie %s: base URL is not a URL", cfg.Name)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("opsgenie %s: base URL %q is not an http(s) URL without a query", cfg.Name, u.Redacted())
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("opsgenie %s: %w", cfg.Name, errNoKey)
	}
	for i, r := range cfg.Responders {
		if err := checkResponder(r); err != nil {
			return nil, fmt.Errorf("opsgenie %s: responder %d: %w", cfg.Name, i+1, err)
		}
	}
	if cfg.Source == "" {
		cfg.Source = DefaultSource
	}
	cfg.Source = truncate(cfg.Source, maxSource)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.PollMax < cfg.PollInterval {
		cfg.PollMax = max(DefaultPollMax, cfg.PollInterval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if client == nil {
		client = http.DefaultClient
	}
	return &Notifier{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), client: client,
		checks: make(chan struct{}, statusChecks)}, nil
}

var errNoKey = errors.New("api key is empty")

// checkResponder reports whether OpsGenie can route to r.
func checkResponder(r Responder) error {
	switch r.Type {
	case "team", "escalation", "schedule":
		if r.ID == "" && r.Name == "" {
			return fmt.Errorf("a %s needs an id or a name", r.Type)
		}
	case "user":
		if r.ID == "" && r.Username == "" && r.Name == "" {
			return errors.New("a user needs an id or a username")
		}
	default:
		return fmt.Errorf("unknown type %q; use team, user, escalation or schedule", r.Type)
	}
	return nil
}

// Name returns the destination's name.
func (n *Notifier) Name() string { return n.cfg.Name }
