package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file holds the first half of the retry policy: deciding whether a
// failed request may be retried. How long to wait is Backoff's business.

// ErrorBodyLimit is how much of an error response's body vendor packages
// should read for the reason (see ReadErrorBody).
const ErrorBodyLimit = 4 << 10

// drainLimit is how much of a body is read and discarded so that its
// connection can be reused; a longer body costs the connection instead.
const drainLimit = 256 << 10

// Classify turns the answer to one HTTP request into an *Error, or nil when
// it succeeded (2xx). The classification is the one of architecture §3:
//
//   - transport errors (timeouts, refused or reset connections, broken
//     bodies) are retryable, except those no retry can cure: an untrusted
//     TLS certificate, an unsupported URL scheme, too many redirects;
//   - 408, 429 and 5xx other than 501 are retryable, and keep the server's
//     Retry-After (for 429 also OpsGenie's X-RateLimit-Period-In-Sec);
//   - everything else (1xx, 3xx, other 4xx, 501) is permanent.
//
// Reason is the status text; vendor packages replace it with the reason from
// the body (see ReadErrorBody). Classify does not read or close the body.
// URLs in transport errors are redacted (see RedactURL).
func Classify(resp *http.Response, err error) *Error {
	if err != nil {
		return transportError(err)
	}
	if resp == nil {
		return &Error{Reason: "no response", Retryable: true}
	}
	c := resp.StatusCode
	if c >= 200 && c <= 299 {
		return nil
	}
	e := &Error{Code: c, Reason: statusReason(c), Hint: statusHint(c), Retryable: RetryableStatus(c)}
	if e.Retryable {
		e.RetryAfter, _ = retryAfter(resp.Header, c, time.Now())
	}
	return e
}

// RetryableStatus reports whether an HTTP status is worth retrying: 408,
// 429, and 5xx except 501 Not Implemented.
func RetryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code == http.StatusNotImplemented:
		return false
	default:
		return code >= 500 && code <= 599
	}
}

// retryAfter reads the wait a server asked for: Retry-After, or for a 429
// without it OpsGenie's X-RateLimit-Period-In-Sec.
func retryAfter(h http.Header, code int, now time.Time) (time.Duration, bool) {
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	if code == http.StatusTooManyRequests {
		if d, ok := parseSeconds(h.Get("X-RateLimit-Period-In-Sec")); ok {
			return d, true
		}
	}
	return 0, false
}

// ParseRetryAfter parses a Retry-After header: a number of seconds or an
// HTTP date. ok is false for an empty, negative or malformed value; a date
// in the past gives 0 and true.
func ParseRetryAfter(header string, now time.Time) (d time.Duration, ok bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if d, ok := parseSeconds(header); ok {
		return d, true
	}
	if header[0] >= '0' && header[0] <= '9' || header[0] == '-' || header[0] == '+' {
		return 0, false // a malformed or negative number, not a date
	}
	t, err := http.ParseTime(header)
	if err != nil {
		return 0, false
	}
	if !t.After(now) {
		return 0, true
	}
	return t.Sub(now), true
}

// maxSeconds is the longest Retry-After in seconds that fits a Duration.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

// parseSeconds parses a non-negative integer number of seconds, saturating
// at the longest Duration.
func parseSeconds(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxSeconds {
		return time.Duration(1<<63 - 1), true // digits only: too many of them
	}
	return time.Duration(n) * time.Second, true
}

func statusReason(code int) string {
	if t := http.StatusText(code); t != "" {
		return strings.ToLower(t)
	}
	return "unexpected status " + strconv.Itoa(code)
}

func statusHint(code int) string {
	switch {
	case code == http.StatusUnauthorized:
		return "check the destination's API key or token"
	case code == http.StatusForbidden:
		return "check the permissions of the destination's API key or token"
	case code == http.StatusNotFound:
		return "check the destination's URL"
	case code == http.StatusTooManyRequests:
		return "the destination is rate limiting; consider a lower rate"
	case code >= 300 && code <= 399:
		return "the destination redirects; check its URL"
	}
	return ""
}

// transportError classifies an error that left no HTTP response.
func transportError(err error) *Error {
	e := &Error{Err: RedactURL(err), Retryable: true}
	var (
		unknownAuth x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
		netErr      net.Error
	)
	msg := err.Error()
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &invalidCert), errors.As(err, &hostname),
		errors.As(err, &verify):
		e.Reason, e.Retryable = "TLS certificate not trusted", false
		e.Hint = "check the destination's URL and certificate"
	case strings.Contains(msg, "unsupported protocol scheme"):
		e.Reason, e.Retryable = "unsupported URL scheme", false
		e.Hint = "check the destination's URL"
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		e.Reason, e.Retryable = "too many redirects", false
		e.Hint = "check the destination's URL"
	case errors.Is(err, context.Canceled):
		e.Reason = "canceled"
	case isTimeout(err):
		e.Reason = "timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Reason = "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = "connection refused"
	case errors.As(err, &netErr):
		e.Reason = "network error"
	default:
		e.Reason = "transport error"
	}
	return e
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// AsError returns the *Error in err's chain or, when there is none,
// classifies err as Classify does a transport error: an unknown failure is
// retried rather than dropped. It returns nil for a nil err.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return transportError(err)
}

// RedactURL returns err with the path, query and user information of any
// *url.Error's URL removed, since they may hold secrets (Slack webhook URLs,
// keys in query strings). The scheme and host stay for diagnosis.
func RedactURL(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	red := *ue
	red.URL = redact(ue.URL)
	if ue == err {
		return &red
	}
	// The url.Error is wrapped: keep the chain for errors.Is and errors.As
	// but do not let the wrapper's message leak the URL.
	return &redactedError{msg: strings.ReplaceAll(err.Error(), ue.URL, red.URL), err: err}
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted]"
	}
	s := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		s += "/[redacted]"
	}
	return s
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// ReadErrorBody reads at most limit bytes of an error response's body for
// its reason, then reads and discards up to 256 KiB more so that the
// connection can be reused, and closes the body. A limit ≤ 0 means
// ErrorBodyLimit. The error is the one of the first read, if any.
func ReadErrorBody(body io.ReadCloser, limit int64) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	if limit <= 0 {
		limit = ErrorBodyLimit
	}
	b, err := io.ReadAll(io.LimitReader(body, limit))
	DrainBody(body)
	if err != nil {
		return b, fmt.Errorf("read error body: %w", err)
	}
	return b, nil
}

// DrainBody reads and discards up to 256 KiB of body and closes it, so that
// a keep-alive connection can carry the next request.
func DrainBody(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}

// FailureReason returns a short, fixed label for a failure, fit for a metric
// label: rate_limited, auth_error, client_error, server_error, timeout,
// transport_error, vendor_error (a refusal in a 2xx answer, as Slack's
// ok:false) or error (a failure before anything was sent).
func FailureReason(e *Error) string {
	switch c := e.Code; {
	case c == http.StatusTooManyRequests:
		return "rate_limited"
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		return "auth_error"
	case c >= 400 && c <= 499:
		return "client_error"
	case c >= 500 && c <= 599:
		return "server_error"
	case c != 0:
		return "vendor_error"
	case e.Reason == "timeout" || isTimeout(e.Err):
		return "timeout"
	case e.Retryable:
		return "transport_error"
	}
	return "error"
}

// describe renders an *Error for the delivery log: the vendor's reason, the
// underlying error when the reason alone says little, and the hint.
func describe(e *Error) string {
	s := e.Reason
	if e.Err != nil && e.Code == 0 {
		if m := e.Err.Error(); m != "" && m != s {
			if s == "" {
				s = m
			} else {
				s += ": " + m
			}
		}
	}
	if s == "" {
		s = "failed"
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}
