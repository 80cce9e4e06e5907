package genesys

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is a Genesys error answer: the standard error body of the
// Platform API, with the HTTP status, the correlation id and, for 429, how
// long Genesys asked to wait.
type APIError struct {
	// Method and Path are the request that failed (no query string).
	Method string
	Path   string
	// Endpoint is the short endpoint name given to the request hook.
	Endpoint string

	Status            int               `json:"status"`
	Code              string            `json:"code"`
	Message           string            `json:"message"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams,omitempty"`
	EntityID          string            `json:"entityId,omitempty"`
	EntityName        string            `json:"entityName,omitempty"`
	ContextID         string            `json:"contextId,omitempty"`
	Details           []ErrorDetail     `json:"details,omitempty"`
	Errors            []APIError        `json:"errors,omitempty"`
	Limit             *Limit            `json:"limit,omitempty"`

	// CorrelationID is the ININ-Correlation-Id answer header, or contextId.
	CorrelationID string `json:"-"`
	// RetryAfter is how long Genesys asked to wait (429, sometimes 503).
	RetryAfter time.Duration `json:"-"`
}

// ErrorDetail is one entry of an error body's details.
type ErrorDetail struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// Limit names the Genesys limit an error body says was reached.
type Limit struct {
	Namespace string  `json:"namespace"`
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
}

// Error describes the failure without any credential.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "genesys: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.CorrelationID != "" {
		b.WriteString(" [correlation id " + e.CorrelationID + "]")
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: 429, 5xx and
// request timeouts.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == http.StatusRequestTimeout
}

// StatusOf returns the HTTP status of an *APIError or *AuthError in err's
// chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	var te *AuthError
	if errors.As(err, &te) {
		return te.Status
	}
	return 0
}

// RetryAfter returns how long Genesys asked to wait when err is, or wraps,
// a 429 answer.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		return ae.RetryAfter, true
	}
	var te *AuthError
	if errors.As(err, &te) && te.Status == http.StatusTooManyRequests {
		return te.RetryAfter, true
	}
	return 0, false
}

// maxErrorBody is how much of an error answer is read.
const maxErrorBody = 64 << 10

// parseAPIError builds the error of a failed answer whose body is body.
func parseAPIError(resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{}
	if err := json.Unmarshal(body, e); err != nil || (e.Code == "" && e.Message == "") {
		*e = APIError{Message: snippet(body)}
	}
	e.Status = resp.StatusCode
	e.CorrelationID = resp.Header.Get("ININ-Correlation-Id")
	if e.CorrelationID == "" {
		e.CorrelationID = e.ContextID
	}
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), e.Message, now)
	}
	if e.Status == http.StatusTooManyRequests && e.RetryAfter <= 0 {
		e.RetryAfter = defaultRetryAfter
	}
	return e
}

// defaultRetryAfter is the pause after a 429 that says nothing of when to
// retry. Genesys has sent Retry-After on every 429 since 2021.
const defaultRetryAfter = 10 * time.Second

var bracketSeconds = regexp.MustCompile(`Retry the request in \[(\d+)\] seconds`)

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date), or
// failing that the "Retry the request in [N] seconds" of the message.
func parseRetryAfter(h, message string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h != "" {
		if n, err := strconv.ParseFloat(h, 64); err == nil && n >= 0 {
			return time.Duration(n * float64(time.Second))
		}
		if t, err := http.ParseTime(h); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if m := bracketSeconds.FindStringSubmatch(message); m != nil {
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * time.Second
	}
	return 0
}

// snippet returns the start of a non-JSON body, for an error message.
func snippet(body []byte) string {
	const n = 200
	s := strings.TrimSpace(string(body))
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// AuthError is a failure of the token endpoint. It never holds the client
// secret or a token.
type AuthError struct {
	Status      int
	Code        string // the OAuth "error", such as "invalid_client"
	Description string
	// RetryAfter is how long the token endpoint asked to wait, if it did.
	RetryAfter time.Duration
	// Err is a transport error, when there was no answer.
	Err error
}

// Error describes the failure.
func (e *AuthError) Error() string {
	switch {
	case e.Err != nil:
		return "genesys: token request failed: " + e.Err.Error()
	case e.Code != "" || e.Description != "":
		return fmt.Sprintf("genesys: token request refused: HTTP %d %s: %s", e.Status, e.Code, e.Description)
	default:
		return fmt.Sprintf("genesys: token request refused: HTTP %d", e.Status)
	}
}

// Unwrap returns the transport error.
func (e *AuthError) Unwrap() error { return e.Err }

// ErrTokenBackoff is wrapped by the error of token requests that were not
// sent because the token endpoint failed recently.
var ErrTokenBackoff = errors.New("genesys: token endpoint failed recently; backing off")
