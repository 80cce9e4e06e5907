package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
)

// Endpoint names given to Options.OnRequest, one per API operation.
const (
	EndpointToken         = "token"
	EndpointQueues        = "queues"
	EndpointQueue         = "queue"
	EndpointObservations  = "observations"
	EndpointAggregates    = "aggregates"
	EndpointChannels      = "channels"
	EndpointSubscriptions = "subscriptions"
)

// Defaults of Options.
const (
	DefaultRequestBudget  = 150
	DefaultRequestTimeout = 30 * time.Second
	DefaultUserAgent      = "queuewatch"
)

// Options configures a Client.
type Options struct {
	// Environment is a region key ("us-east-1") or domain suffix
	// ("mypurecloud.com"); see Domain.
	Environment string
	// APIURL and LoginURL override the hosts derived from Environment,
	// e.g. "http://127.0.0.1:9001" for a fake server.
	APIURL   string
	LoginURL string

	ClientID     string
	ClientSecret string

	// RequestBudget is the number of requests per minute the client may
	// send (default 150; Genesys allows 300 per token). Budget, when set,
	// is used instead, so that several clients can share one budget.
	RequestBudget int
	Budget        *Budget

	// OnRequest, when set, is called after every request with the
	// endpoint name (Endpoint*) and the HTTP status, 0 when no answer
	// came. Metrics hook in here.
	OnRequest func(endpoint string, code int)

	HTTPClient *http.Client // default: a client with no overall timeout
	Clock      Clock        // default SystemClock
	Logger     *slog.Logger // default: discards
	UserAgent  string       // default "queuewatch"
	// RequestTimeout bounds each request, token requests included;
	// default 30s.
	RequestTimeout time.Duration
	// TokenBackoff is the pause after a failed token request, doubled
	// on every further failure up to MaxTokenBackoff (defaults 1s, 5m).
	TokenBackoff    time.Duration
	MaxTokenBackoff time.Duration
}

// OptionsFromConfig returns the Options of a configuration's genesys
// section. Hooks, clock and logger are left for the caller to set.
func OptionsFromConfig(g config.Genesys) Options {
	return Options{
		Environment:   g.Environment,
		APIURL:        g.APIURL,
		LoginURL:      g.LoginURL,
		ClientID:      g.ClientID,
		ClientSecret:  g.ClientSecret.Value(),
		RequestBudget: g.RequestBudget,
	}
}

// String describes the options without the client secret.
func (o Options) String() string {
	return fmt.Sprintf("genesys.Options{Environment:%q APIURL:%q LoginURL:%q ClientID:%q ClientSecret:[redacted]}",
		o.Environment, o.APIURL, o.LoginURL, o.ClientID)
}

// GoString describes the options without the client secret.
func (o Options) GoString() string { return o.String() }

// Client is a thin Genesys Cloud Platform API client: one OAuth
// client-credentials token shared by all callers, one request budget, and
// the few endpoints queuewatch needs. A Client is safe for concurrent use.
//
// Retries: a 401 is answered by renewing the token and sending the request
// once more. A 429 is not retried: the call returns an *APIError with
// Status 429 and RetryAfter, and the budget holds every further request of
// the process back until Retry-After has passed. Other failures are
// returned to the caller, whose next poll or reconnect is the retry.
type Client struct {
	opts     Options
	apiURL   string
	loginURL string
	http     *http.Client
	clock    Clock
	log      *slog.Logger
	budget   *Budget
	tokens   tokens

	mu     sync.RWMutex
	queues map[string]Queue // directory of queues seen, by id

	longestFromDetails atomic.Bool // the server refused oLongestWaiting once
}

// New returns a client for opts. It checks the options but sends nothing.
func New(opts Options) (*Client, error) {
	api, login, _, err := Hosts(opts.Environment)
	if err != nil && (opts.APIURL == "" || opts.LoginURL == "") {
		return nil, err
	}
	if opts.APIURL != "" {
		api = opts.APIURL
	}
	if opts.LoginURL != "" {
		login = opts.LoginURL
	}
	for _, u := range []string{api, login} {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("genesys: %q is not an http(s) URL", u)
		}
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("genesys: client id and client secret are required")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.TokenBackoff <= 0 {
		opts.TokenBackoff = DefaultTokenBackoff
	}
	if opts.MaxTokenBackoff <= 0 {
		opts.MaxTokenBackoff = DefaultMaxTokenBackoff
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.RequestBudget <= 0 {
		opts.RequestBudget = DefaultRequestBudget
	}
	if opts.Budget == nil {
		opts.Budget = NewBudget(opts.RequestBudget, opts.Clock)
	}
	c := &Client{
		opts:     opts,
		apiURL:   strings.TrimRight(api, "/"),
		loginURL: strings.TrimRight(login, "/"),
		http:     opts.HTTPClient,
		clock:    opts.Clock,
		log:      opts.Logger,
		budget:   opts.Budget,
		queues:   map[string]Queue{},
	}
	c.tokens.c = c
	return c, nil
}

// Budget returns the request budget, for metrics (InUse, Limit).
func (c *Client) Budget() *Budget { return c.budget }

// APIURL returns the base URL of the API host in use.
func (c *Client) APIURL() string { return c.apiURL }

// Authenticate makes sure the client holds a valid token, requesting one
// if needed. It checks the credentials (doctor) without calling the API.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.get(ctx)
	return err
}

// TokensIssued returns how many tokens the client obtained so far.
func (c *Client) TokensIssued() int {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.issued
}

func (c *Client) count(endpoint string, code int) {
	if c.opts.OnRequest != nil {
		c.opts.OnRequest(endpoint, code)
	}
}

// call is one API request.
type call struct {
	endpoint string
	method   string
	path     string
	query    url.Values
	body     any // marshalled as JSON when not nil
	out      any // decoded from JSON when not nil
	// sent, when not nil, receives the client's clock as the request
	// leaves (after any wait for the budget; the last try's on a retry).
	sent *time.Time
}

// do sends a call with the shared token and budget, renewing the token and
// trying once more on a 401.
func (c *Client) do(ctx context.Context, cl call) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("genesys: encoding %s %s: %w", cl.method, cl.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return err
		}
		err = c.send(ctx, cl, payload, tok)
		if StatusOf(err) == http.StatusUnauthorized && attempt == 0 {
			c.log.Info("genesys: token refused; renewing it", "endpoint", cl.endpoint)
			c.tokens.invalidate(tok)
			continue
		}
		return err
	}
}

// send sends one request and decodes its answer.
func (c *Client) send(ctx context.Context, cl call, payload []byte, tok string) error {
	if err := c.budget.Acquire(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	u := c.apiURL + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return fmt.Errorf("genesys: %s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.sent != nil {
		*cl.sent = c.clock.Now()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.count(cl.endpoint, 0)
		return fmt.Errorf("genesys: %s %s: %w", cl.method, cl.path, redactURLError(err))
	}
	defer resp.Body.Close()
	c.count(cl.endpoint, resp.StatusCode)
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		ae := parseAPIError(resp, data, c.clock.Now())
		ae.Method, ae.Path, ae.Endpoint = cl.method, cl.path, cl.endpoint
		if ae.Status == http.StatusTooManyRequests {
			c.budget.PauseUntil(c.clock.Now().Add(ae.RetryAfter))
			c.log.Warn("genesys: rate limited; pausing all requests", "endpoint", cl.endpoint, "retry_after", ae.RetryAfter, "correlation_id", ae.CorrelationID)
		}
		return ae
	}
	if cl.out == nil || cl.method == http.MethodHead {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(cl.out); err != nil {
		return fmt.Errorf("genesys: %s %s: decoding the answer: %w", cl.method, cl.path, err)
	}
	return nil
}
