package opsgenie

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// accepted is the 202 answer to an alert action (SuccessResponse).
type accepted struct {
	Result    string  `json:"result"`
	Took      float64 `json:"took"`
	RequestID string  `json:"requestId"`
}

// requestStatus is what became of an accepted request (AlertRequestStatus).
type requestStatus struct {
	Action    string `json:"action"`
	IsSuccess *bool  `json:"isSuccess"`
	Success   *bool  `json:"success"`
	Status    string `json:"status"`
	AlertID   string `json:"alertId"`
	Alias     string `json:"alias"`
}

// ok reports whether the request succeeded. The spec names the flag
// isSuccess; the docs' samples also show success.
func (s requestStatus) ok() bool {
	if s.IsSuccess != nil {
		return *s.IsSuccess
	}
	return s.Success != nil && *s.Success
}

// outcome is a confirmed (or unconfirmable) alert action.
type outcome struct {
	status    requestStatus
	requestID string
	code      int
	// unconfirmed says why the request's fate is unknown although it was
	// accepted, "" when it was confirmed.
	unconfirmed string
}

// send makes one asynchronous alert request and waits until OpsGenie has
// processed it. what names the action for messages, e.g. "create alert".
func (n *Notifier) send(ctx context.Context, what, method, path string, body any) (outcome, error) {
	r, err := n.do(ctx, method, path, body)
	if err != nil {
		return outcome{}, err
	}
	if r.code != http.StatusAccepted && r.code != http.StatusOK && r.code != http.StatusCreated {
		return outcome{}, n.httpError(what, r)
	}
	var a accepted
	if err := json.Unmarshal(r.body, &a); err != nil || a.RequestID == "" {
		return outcome{code: r.code, unconfirmed: "the answer named no request to confirm"}, nil
	}
	o := outcome{requestID: a.RequestID, code: r.code}
	o.status, o.unconfirmed, err = n.confirm(ctx, what, a.RequestID)
	return o, err
}

// confirm polls GET /v2/alerts/requests/{id} with growing waits while
// OpsGenie answers 404 with X-Opsgenie-Errortype: RequestNotProcessed (or is
// briefly unavailable), until the context ends.
func (n *Notifier) confirm(ctx context.Context, what, id string) (requestStatus, string, error) {
	path := "/v2/alerts/requests/" + url.PathEscape(id)
	wait := n.cfg.PollInterval
	last := "not processed yet"
	for {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return requestStatus{}, "", &notify.Error{
				Reason:    fmt.Sprintf("%s: accepted as request %s but not confirmed before the deadline (%s)", what, id, last),
				Code:      http.StatusAccepted,
				Retryable: true,
				Err:       ctx.Err(),
			}
		case <-timer.C:
		}
		wait = min(2*wait, n.cfg.PollMax)

		r, err := n.do(ctx, http.MethodGet, path, nil)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				last = err.Error()
			}
			continue
		case r.code == http.StatusOK:
			st, err := parseStatus(r.body)
			if err != nil {
				return requestStatus{}, "", &notify.Error{Reason: what + ": unreadable request status", Code: r.code, Retryable: true, Err: err}
			}
			if st.IsSuccess == nil && st.Success == nil {
				// A shape this client does not know; retrying would not
				// make it clearer.
				return st, "request status without isSuccess", nil
			}
			return st, "", nil
		case r.code == http.StatusNotFound && r.header.Get("X-Opsgenie-Errortype") == "RequestNotProcessed":
			last = "not processed yet"
			continue
		case r.code == http.StatusNotFound:
			// The service keeps no status of this request (JSM may not
			// serve this endpoint); the 202 is all there is to know.
			return requestStatus{}, "request status not available (HTTP 404)", nil
		case r.code == http.StatusTooManyRequests || r.code >= 500:
			last = fmt.Sprintf("request status answered HTTP %d", r.code)
			if ra := retryAfter(r.header, n.cfg.Now()); ra > wait {
				wait = ra
			}
			continue
		default:
			return requestStatus{}, "", n.httpError(what+": checking request "+id, r)
		}
	}
}

// parseStatus reads a request status in OpsGenie's {data:{…}} form or the
// flat form of the JSM operations API.
func parseStatus(b []byte) (requestStatus, error) {
	var w struct {
		Data *requestStatus `json:"data"`
		requestStatus
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return requestStatus{}, fmt.Errorf("decoding request status: %w", err)
	}
	if w.Data != nil {
		return *w.Data, nil
	}
	return w.requestStatus, nil
}
