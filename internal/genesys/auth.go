package genesys

import (
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
	"time"
)

// Token renewal and backoff defaults.
const (
	// maxRenewBefore caps how long before expiry a token is renewed.
	maxRenewBefore = 5 * time.Minute
	// DefaultTokenBackoff and DefaultMaxTokenBackoff bound the pause
	// after a failed token request; it doubles on each failure.
	DefaultTokenBackoff    = time.Second
	DefaultMaxTokenBackoff = 5 * time.Minute
)

// token is an access token and when it expires.
type token struct {
	value   string
	expires time.Time
	renewAt time.Time
}

// flight is one token request shared by every caller that needs it.
type flight struct {
	done chan struct{}
	tok  token
	err  error
}

// tokens fetches client-credentials tokens and shares one token, renewed
// before it expires, by the whole process. Concurrent callers that need a
// new token wait for a single request.
type tokens struct {
	c *Client

	mu       sync.Mutex
	cur      token
	inflight *flight
	failures int
	retryAt  time.Time // no token request before this, after a failure
	lastErr  error
	issued   int
}

// get returns a valid token, requesting one when there is none or the
// current one is due for renewal.
func (t *tokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	now := t.c.clock.Now()
	if t.cur.value != "" && now.Before(t.cur.renewAt) {
		v := t.cur.value
		t.mu.Unlock()
		return v, nil
	}
	cur := t.cur.value
	stillValid := cur != "" && now.Before(t.cur.expires)
	if now.Before(t.retryAt) {
		defer t.mu.Unlock()
		if stillValid {
			return cur, nil
		}
		return "", fmt.Errorf("%w (until %s): %w", ErrTokenBackoff, t.retryAt.UTC().Format(time.RFC3339), t.lastErr)
	}
	f := t.inflight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		t.inflight = f
		// The request is shared: it must not end with the context of the
		// caller that happened to start it.
		go t.fetch(context.WithoutCancel(ctx), f)
	}
	t.mu.Unlock()
	if stillValid {
		// Renew in the background and keep using the current token.
		return cur, nil
	}
	select {
	case <-f.done:
		if f.err != nil {
			return "", f.err
		}
		return f.tok.value, nil
	case <-ctx.Done():
		return "", fmt.Errorf("genesys: waiting for a token: %w", ctx.Err())
	}
}

// fetch requests a token and publishes the outcome to f and t.
func (t *tokens) fetch(ctx context.Context, f *flight) {
	tok, err := t.request(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.c.clock.Now()
	if err != nil {
		t.failures++
		backoff := t.c.opts.TokenBackoff << min(t.failures-1, 20)
		backoff = min(backoff, t.c.opts.MaxTokenBackoff)
		if ra, ok := RetryAfter(err); ok {
			backoff = max(backoff, ra)
		}
		t.retryAt = now.Add(backoff)
		t.lastErr = err
		t.c.log.Warn("genesys: token request failed; backing off", "error", err, "backoff", backoff)
	} else {
		t.failures = 0
		t.retryAt = time.Time{}
		t.lastErr = nil
		t.cur = tok
		t.issued++
		t.c.log.Debug("genesys: new access token", "expires", tok.expires)
	}
	f.tok, f.err = tok, err
	t.inflight = nil
	close(f.done)
}

// invalidate drops the current token if it is still v, so that the next
// get requests a new one (after a 401).
func (t *tokens) invalidate(v string) {
	t.mu.Lock()
	if t.cur.value == v {
		t.cur = token{}
	}
	t.mu.Unlock()
}

// tokenResponse is the token endpoint's answer, success or failure.
type tokenResponse struct {
	AccessToken      string  `json:"access_token"`
	TokenType        string  `json:"token_type"`
	ExpiresIn        float64 `json:"expires_in"`
	Error            string  `json:"error"`
	Description      string  `json:"description"`
	ErrorDescription string  `json:"error_description"`
}

// request sends one client-credentials token request.
func (t *tokens) request(ctx context.Context) (token, error) {
	c := t.c
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	if err := c.budget.Acquire(ctx); err != nil {
		return token{}, &AuthError{Err: err}
	}
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.loginURL+"/oauth/token", strings.NewReader(form))
	if err != nil {
		return token{}, &AuthError{Err: err}
	}
	req.SetBasicAuth(c.opts.ClientID, c.opts.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		c.count(EndpointToken, 0)
		return token{}, &AuthError{Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	c.count(EndpointToken, resp.StatusCode)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return token{}, &AuthError{Status: resp.StatusCode, Err: err}
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		ae := &AuthError{Status: resp.StatusCode, Code: tr.Error, Description: tr.ErrorDescription}
		if ae.Description == "" {
			ae.Description = tr.Description
		}
		if jsonErr != nil {
			ae.Description = snippet(body)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			ae.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), ae.Description, c.clock.Now())
			if ae.RetryAfter <= 0 {
				ae.RetryAfter = defaultRetryAfter
			}
		}
		return token{}, ae
	}
	if jsonErr != nil || tr.AccessToken == "" {
		return token{}, &AuthError{Status: resp.StatusCode, Err: errors.New("answer has no access_token")}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return token{}, &AuthError{Status: resp.StatusCode, Err: fmt.Errorf("unexpected token_type %q", tr.TokenType)}
	}
	now := c.clock.Now()
	ttl := time.Duration(tr.ExpiresIn * float64(time.Second))
	if ttl <= 0 {
		ttl = 5 * time.Minute // the shortest lifetime Genesys allows
	}
	before := min(max(ttl/10, 10*time.Second), maxRenewBefore)
	return token{value: tr.AccessToken, expires: now.Add(ttl), renewAt: now.Add(ttl - before)}, nil
}

// redactURLError drops the query of a URL in a transport error; the
// requests of this package carry no credential in URLs, but a configured
// URL could.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			u.User = nil
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// discardLogger is used when Options.Logger is nil.
var discardLogger = slog.New(slog.DiscardHandler)
