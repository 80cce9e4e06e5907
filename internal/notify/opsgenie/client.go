package opsgenie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// maxBody caps how much of an answer is read.
const maxBody = 1 << 20

// response is one HTTP answer, read in full.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends one request with the GenieKey header and reads the answer. A
// transport failure comes back as a retryable *notify.Error; any HTTP answer
// comes back as a response for the caller to judge.
func (n *Notifier) do(ctx context.Context, method, path string, body any) (*response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &notify.Error{Reason: "encoding the request: " + err.Error(), Err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.base+path, rd)
	if err != nil {
		return nil, &notify.Error{Reason: "building the request: " + n.redact(err.Error())}
	}
	req.Header.Set("Authorization", "GenieKey "+n.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "queuewatch")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, n.transportError(ctx, method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
	}()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, n.transportError(ctx, method, path, err)
	}
	return &response{code: resp.StatusCode, header: resp.Header, body: b}, nil
}

// transportError classifies a failure without an HTTP answer: retryable,
// code 0, with the key scrubbed from the text.
func (n *Notifier) transportError(ctx context.Context, method, path string, err error) *notify.Error {
	what := method + " " + pathOnly(path)
	reason := "transport error on " + what
	if ctxErr := ctx.Err(); ctxErr != nil {
		reason = "no answer to " + what + " before the deadline"
		if errors.Is(ctxErr, context.Canceled) {
			reason = what + " was canceled"
		}
	}
	return &notify.Error{Reason: reason, Retryable: true, Err: redactedError{n.redact(err.Error()), err}}
}

// pathOnly drops the query of a request path for messages.
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// apiError is OpsGenie's error body (ErrorResponse plus the SDK's errors map).
type apiError struct {
	Message   string         `json:"message"`
	Code      int            `json:"code"`
	Errors    map[string]any `json:"errors"`
	Took      float64        `json:"took"`
	RequestID string         `json:"requestId"`
}

// httpError classifies an unsuccessful HTTP answer.
func (n *Notifier) httpError(what string, r *response) *notify.Error {
	var ae apiError
	_ = json.Unmarshal(r.body, &ae)
	reason := ae.Message
	if reason == "" {
		// Not OpsGenie's JSON: a short plain text is worth showing, an
		// HTML page from a proxy is not.
		reason = strings.TrimSpace(string(r.body))
		if reason == "" || len(reason) > 200 || strings.HasPrefix(reason, "<") || strings.HasPrefix(reason, "{") {
			reason = http.StatusText(r.code)
		}
	}
	if fields := fieldErrors(ae.Errors); fields != "" {
		reason += " (" + fields + ")"
	}
	if ae.RequestID != "" {
		reason += " [request " + ae.RequestID + "]"
	}
	e := &notify.Error{Reason: n.redact(what + ": " + reason), Code: r.code}
	switch {
	case r.code == http.StatusUnauthorized:
		e.Hint = "check the API key: it must be the key of an API integration, in the account's region " +
			"(EU accounts use " + OpsGenieEUURL + "; JSM integration keys use " + JSMURL + ")"
	case r.code == http.StatusForbidden && ae.Code == 40301:
		e.Hint = "use the API key of an API integration (Settings → Integrations → API), not one from API Key Management"
	case r.code == http.StatusForbidden:
		e.Hint = "the integration is not allowed to do this; it may be read-only or restricted"
	case r.code == http.StatusPaymentRequired:
		e.Hint = "the OpsGenie plan does not allow this action"
	case r.code == http.StatusNotFound:
		e.Hint = "check the destination URL (" + OpsGenieURL + ", " + OpsGenieEUURL + " or " + JSMURL + ")"
	case r.code == http.StatusUnprocessableEntity:
		e.Hint = "OpsGenie refused the alert's content; this is a queuewatch bug, please report it"
	case r.code == http.StatusTooManyRequests:
		e.Retryable = true
		e.RetryAfter = retryAfter(r.header, n.cfg.Now())
		e.Hint = "OpsGenie is rate limiting this integration"
	case r.code == http.StatusConflict || r.code == http.StatusRequestTimeout || r.code >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter(r.header, n.cfg.Now())
	}
	return e
}

// fieldErrors renders an errors map as "field: reason; …" in key order.
func fieldErrors(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", k, m[k])
	}
	return strings.Join(parts, "; ")
}

// redact removes the API key from s.
func (n *Notifier) redact(s string) string {
	if k := n.cfg.APIKey; k != "" {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// redactedError keeps the chain of an underlying error (for errors.Is) while
// its text has the key removed.
type redactedError struct {
	text string
	err  error
}

func (e redactedError) Error() string { return e.text }
func (e redactedError) Unwrap() error { return e.err }
