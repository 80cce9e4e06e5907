package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// maxAnswer is the most of an answer body the notifier reads.
const maxAnswer = 1 << 20

// chatRequest is the JSON body of chat.postMessage and chat.update. Only
// fields present in Slack's published spec for both methods are used (see
// the contract test); unfurl_* exist for chat.postMessage only.
type chatRequest struct {
	Channel     string  `json:"channel"`
	TS          string  `json:"ts,omitempty"`
	ThreadTS    string  `json:"thread_ts,omitempty"`
	Text        string  `json:"text"`
	Blocks      []block `json:"blocks,omitempty"`
	UnfurlLinks *bool   `json:"unfurl_links,omitempty"`
	UnfurlMedia *bool   `json:"unfurl_media,omitempty"`
	// Metadata names the delivery that posts a message (chat.postMessage
	// only; see EventType).
	Metadata *metadata `json:"metadata,omitempty"`
}

// answer is the part of a Web API answer the notifier reads.
type answer struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	Needed   string `json:"needed"`
	Provided string `json:"provided"`
	Warning  string `json:"warning"`
	Meta     struct {
		Messages []string `json:"messages"`
		Warnings []string `json:"warnings"`
	} `json:"response_metadata"`
}

// call POSTs body as JSON to a Web API method and returns the answer of a
// successful call with its HTTP status. Failures are *notify.Error values.
func (n *Notifier) call(ctx context.Context, method string, body any) (answer, int, error) {
	return n.callInto(ctx, method, body, nil)
}

// callInto is call that also decodes a successful answer into extra, when
// not nil, for the fields of methods other than chat.*.
func (n *Notifier) callInto(ctx context.Context, method string, body, extra any) (answer, int, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return answer{}, 0, &notify.Error{Reason: "encode " + method + " request", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.base+"/"+method, bytes.NewReader(payload))
	if err != nil {
		return answer{}, 0, &notify.Error{Reason: "build " + method + " request", Err: n.scrub(err)}
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		err = n.scrub(err)
		return answer{}, 0, &notify.Error{Reason: method + ": " + err.Error(), Retryable: true, Err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
	}()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		err = n.scrub(err)
		return answer{}, resp.StatusCode, &notify.Error{Reason: method + ": read answer: " + err.Error(), Code: resp.StatusCode, Retryable: true, Err: err}
	}

	var a answer
	parsed := isJSON(resp.Header.Get("Content-Type"), raw) && json.Unmarshal(raw, &a) == nil
	if parsed && a.OK && extra != nil {
		if err := json.Unmarshal(raw, extra); err != nil {
			return a, resp.StatusCode, &notify.Error{Reason: method + ": unreadable answer: " + err.Error(), Code: resp.StatusCode, Retryable: true}
		}
	}
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), n.now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		code := "ratelimited"
		if parsed && a.Error != "" {
			code = a.Error
		}
		return a, resp.StatusCode, n.classify(code, a, resp.StatusCode, retryAfter)
	case resp.StatusCode >= 500:
		// 5xx answers may be HTML; their body is not read for a reason.
		return a, resp.StatusCode, &notify.Error{
			Reason: fmt.Sprintf("%s: server error %s", method, http.StatusText(resp.StatusCode)),
			Hint:   "Slack is having trouble; the delivery will be retried",
			Code:   resp.StatusCode, Retryable: true, RetryAfter: retryAfter,
		}
	case !parsed:
		e := &notify.Error{Reason: fmt.Sprintf("%s: unexpected answer (HTTP %d, not JSON)", method, resp.StatusCode), Code: resp.StatusCode}
		if resp.StatusCode == http.StatusOK {
			e.Retryable = true // a proxy or truncated answer; try again
		} else {
			e.Hint = "check the destination URL (the Slack Web API base, e.g. https://slack.com/api)"
		}
		return a, resp.StatusCode, e
	case !a.OK:
		code := a.Error
		if code == "" {
			code = "unknown_error"
		}
		return a, resp.StatusCode, n.classify(code, a, resp.StatusCode, retryAfter)
	case resp.StatusCode != http.StatusOK:
		return a, resp.StatusCode, &notify.Error{Reason: fmt.Sprintf("%s: unexpected HTTP %d", method, resp.StatusCode), Code: resp.StatusCode}
	}
	return a, resp.StatusCode, nil
}

// isJSON reports whether an answer looks like JSON, by its content type or
// its first byte.
func isJSON(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/json" {
		return true
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '{'
}

// parseRetryAfter reads a Retry-After header: integer seconds (what Slack
// sends) or an HTTP date. It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// scrub returns err unchanged unless its text contains the token, in which
// case it returns an error with the token redacted. The wrapped chain is
// then lost, on purpose: nothing may carry the secret further.
func (n *Notifier) scrub(err error) error {
	if err == nil || n.token == "" || !strings.Contains(err.Error(), n.token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), n.token, "[redacted]"))
}
