package genesys

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

// tokenInfo is an issued access token.
type tokenInfo struct {
	expires time.Time
}

// serveToken is POST /oauth/token: Basic client authentication and the
// form grant_type=client_credentials.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	oauthError := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "description": desc, "error_description": desc})
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.opts.ClientID || secret != s.opts.ClientSecret {
		oauthError(s.opts.TokenErrorStatus, "invalid_client", "authentication failed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		oauthError(http.StatusBadRequest, "invalid_request", "content type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	switch g := r.PostForm.Get("grant_type"); g {
	case "client_credentials":
	case "":
		oauthError(http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthError(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = &tokenInfo{expires: s.clock.Now().Add(s.opts.TokenTTL)}
	s.issued++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int64(s.opts.TokenTTL / time.Second),
	})
}

// tokenKey is the context key of the bearer token of a request.
type tokenKey struct{}

// api checks the bearer token and the per-token rate limit before h.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(auth, " ")
		if auth == "" || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
			writeError(w, r, http.StatusUnauthorized, "authentication.required", "No authentication bearer token specified in authorization header.")
			return
		}
		tok = strings.TrimSpace(tok)
		now := s.clock.Now()
		s.mu.Lock()
		info, ok := s.tokens[tok]
		if ok && !now.Before(info.expires) {
			delete(s.tokens, tok)
			ok = false
		}
		if !ok {
			s.mu.Unlock()
			writeError(w, r, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.")
			return
		}
		wait := s.rateLocked(tok, now)
		s.mu.Unlock()
		if wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, r, http.StatusTooManyRequests, "too.many.requests.retry.after",
				fmt.Sprintf("Rate limit exceeded the maximum. Retry the request in [%d] seconds", secs))
			return
		}
		r.Header.Set("X-Fake-Token", tok)
		h(w, r)
	}
}

// rateLocked counts a request of tok and returns 0, or how long to wait
// when the token already spent its minute.
func (s *Server) rateLocked(tok string, now time.Time) time.Duration {
	if s.opts.RateLimit < 0 {
		return 0
	}
	times := s.rate[tok]
	cut := 0
	for cut < len(times) && !times[cut].After(now.Add(-time.Minute)) {
		cut++
	}
	times = times[cut:]
	if len(times) >= s.opts.RateLimit {
		s.rate[tok] = times
		return times[0].Add(time.Minute).Sub(now)
	}
	s.rate[tok] = append(times, now)
	return 0
}

// TokensIssued returns how many tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// ExpireTokens revokes every issued token: the next API call with one gets
// 401 bad.credentials, and channels created with them close.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	for _, t := range s.tokens {
		t.expires = time.Time{}
	}
	s.expireLocked()
	s.mu.Unlock()
}

// FailToken makes the next times token requests fail with status (and,
// for 429, Retry-After seconds of retryAfter).
func (s *Server) FailToken(times, status int, retryAfter time.Duration) {
	f := faults.Fault{Status: status, Times: times, Path: "/oauth/token",
		Body: `{"error":"temporarily_unavailable","description":"injected","error_description":"injected"}`}
	if retryAfter > 0 {
		f.RetryAfter = strconv.Itoa(int(math.Ceil(retryAfter.Seconds())))
	}
	s.Faults.Add(f)
}

// RateLimitAnalytics makes the next times analytics queries answer 429
// with Retry-After and the normalized body.
func (s *Server) RateLimitAnalytics(times int, retryAfter time.Duration) {
	secs := int(math.Ceil(retryAfter.Seconds()))
	s.Faults.Add(faults.Fault{Status: http.StatusTooManyRequests, Times: times, Path: "/api/v2/analytics/",
		RetryAfter: strconv.Itoa(secs),
		Body:       fmt.Sprintf(`{"message":"Rate limit exceeded the maximum. Retry the request in [%d] seconds","code":"too.many.requests.retry.after","status":429,"details":[],"errors":[]}`, secs)})
}

// Calls returns the requests received so far, oldest first.
func (s *Server) Calls() []Call {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// Requests returns how many requests an endpoint received ("" for all).
func (s *Server) Requests(endpoint string) int {
	n := 0
	for _, c := range s.Calls() {
		if endpoint == "" || c.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// RequestsPerMinute counts an endpoint's requests ("" for all) per clock
// minute, keyed by the minute's start.
func (s *Server) RequestsPerMinute(endpoint string) map[time.Time]int {
	out := map[time.Time]int{}
	for _, c := range s.Calls() {
		if endpoint == "" || c.Endpoint == endpoint {
			out[c.At.Truncate(time.Minute)]++
		}
	}
	return out
}

// MaxRequestsInWindow returns the most requests of an endpoint ("" for
// all) received within any window of the given length, (t-window, t].
func (s *Server) MaxRequestsInWindow(endpoint string, window time.Duration) int {
	var times []time.Time
	for _, c := range s.Calls() {
		if endpoint == "" || c.Endpoint == endpoint {
			times = append(times, c.At)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range times {
		for !times[lo].After(times[hi].Add(-window)) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
