package pagerduty

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// answer is the body of every Events API v2 response: 202 success and 400
// invalid event alike (reference §4.2).
type answer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// maxReason bounds the part of an unparsed answer kept as an error's reason.
const maxReason = 512

// explain puts PagerDuty's words from a refusal's body into e: the message
// and errors of a JSON answer, else the start of the body. The routing key
// is removed from them, and hints name what to check.
func (n *Notifier) explain(e *notify.Error, body []byte) {
	var a answer
	reason := ""
	if json.Unmarshal(body, &a) == nil {
		reason = a.reason()
	}
	if reason == "" {
		reason = strings.TrimSpace(string(body[:min(len(body), maxReason)]))
	}
	if reason != "" {
		e.Reason = n.redact(reason)
	}
	switch {
	case e.Code == http.StatusTooManyRequests:
		e.Hint = "PagerDuty allows about 120 events a minute per integration key"
	case e.Code == http.StatusBadRequest && mentionsRoutingKey(reason):
		e.Hint = "use the service's Events API v2 integration key as routing_key"
	case e.Code == http.StatusNotFound:
		e.Hint = "check the destination url: " + EnqueuePath + " is appended to it"
	}
}

// reason renders a vendor error as "message: error; error".
func (a answer) reason() string {
	s := a.Message
	if len(a.Errors) > 0 {
		if s != "" {
			s += ": "
		}
		s += strings.Join(a.Errors, "; ")
	}
	return s
}

func mentionsRoutingKey(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "routing key") || strings.Contains(s, "service key") || strings.Contains(s, "routing_key")
}

// redact removes the routing key from vendor text, in case an answer echoes it.
func (n *Notifier) redact(s string) string {
	if k := n.cfg.RoutingKey.Value(); k != "" {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}
