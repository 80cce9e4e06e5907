package opsgenie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// ErrHeartbeatDisabled means the heartbeat exists but is disabled, so
// OpsGenie would never alert on it.
var ErrHeartbeatDisabled = errors.New("heartbeat is disabled")

// heartbeatPayload is the body of POST /v2/heartbeats (CreateHeartbeatPayload).
type heartbeatPayload struct {
	Name          string     `json:"name"`
	Description   string     `json:"description,omitempty"`
	Interval      int        `json:"interval"`
	IntervalUnit  string     `json:"intervalUnit"`
	Enabled       bool       `json:"enabled"`
	OwnerTeam     *ownerTeam `json:"ownerTeam,omitempty"`
	AlertMessage  string     `json:"alertMessage,omitempty"`
	AlertTags     []string   `json:"alertTags,omitempty"`
	AlertPriority string     `json:"alertPriority,omitempty"`
}

type ownerTeam struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Ping tells OpsGenie that queuewatch is alive: GET
// /v2/heartbeats/{name}/ping. Call it only while the pipeline is healthy.
// OpsGenie answers PONG even for a heartbeat that does not exist; use
// EnsureHeartbeat to check that.
func (n *Notifier) Ping(ctx context.Context, name string) error {
	ctx, cancel := n.bound(ctx)
	defer cancel()
	if err := checkHeartbeatName(name); err != nil {
		return err
	}
	r, err := n.do(ctx, http.MethodGet, "/v2/heartbeats/"+url.PathEscape(name)+"/ping", nil)
	if err != nil {
		return err
	}
	if r.code != http.StatusAccepted && r.code != http.StatusOK {
		return n.httpError("ping heartbeat "+name, r)
	}
	return nil
}

// EnsureHeartbeat checks that the heartbeat name exists and creates it,
// enabled and expecting a ping every interval (rounded up to whole minutes),
// when it does not. An existing heartbeat is left as it is; when it is
// disabled the error wraps ErrHeartbeatDisabled.
func (n *Notifier) EnsureHeartbeat(ctx context.Context, name string, interval time.Duration) error {
	ctx, cancel := n.bound(ctx)
	defer cancel()
	if err := checkHeartbeatName(name); err != nil {
		return err
	}
	r, err := n.do(ctx, http.MethodGet, "/v2/heartbeats/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	switch r.code {
	case http.StatusOK:
		var got struct {
			Data struct {
				Enabled *bool `json:"enabled"`
			} `json:"data"`
		}
		if json.Unmarshal(r.body, &got) == nil && got.Data.Enabled != nil && !*got.Data.Enabled {
			return fmt.Errorf("opsgenie %s: heartbeat %q: %w", n.cfg.Name, name, ErrHeartbeatDisabled)
		}
		return nil
	case http.StatusNotFound:
	default:
		return n.httpError("get heartbeat "+name, r)
	}
	num, unit := intervalUnit(interval)
	body := heartbeatPayload{
		Name:          name,
		Description:   "queuewatch pings this heartbeat while it watches the Genesys Cloud queues and delivers its alerts.",
		Interval:      num,
		IntervalUnit:  unit,
		Enabled:       true,
		OwnerTeam:     n.ownerTeam(),
		AlertMessage:  truncate("queuewatch heartbeat "+name+" expired: queue SLA alerts may not be delivered", maxHeartbeatMessage),
		AlertTags:     tags([]string{"queuewatch", "heartbeat"}, n.cfg.Tags),
		AlertPriority: "P2",
	}
	r, err = n.do(ctx, http.MethodPost, "/v2/heartbeats", body)
	if err != nil {
		return err
	}
	switch r.code {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusConflict:
		return nil // 409: someone created it meanwhile
	}
	return n.httpError("create heartbeat "+name, r)
}

// bound applies the configured timeout to a context without a deadline.
func (n *Notifier) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, n.cfg.Timeout)
}

// ownerTeam is the first team among the responders, if any.
func (n *Notifier) ownerTeam() *ownerTeam {
	for _, r := range n.cfg.Responders {
		if r.Type == "team" {
			return &ownerTeam{ID: r.ID, Name: r.Name}
		}
	}
	return nil
}

func checkHeartbeatName(name string) error {
	if strings.TrimSpace(name) == "" || len([]rune(name)) > maxHeartbeatName {
		return &notify.Error{Reason: fmt.Sprintf("heartbeat name must have 1 to %d characters", maxHeartbeatName)}
	}
	return nil
}

// intervalUnit expresses d in the largest of days, hours and minutes that
// divides it; other durations are rounded up to whole minutes (at least 1).
func intervalUnit(d time.Duration) (int, string) {
	const day = 24 * time.Hour
	switch {
	case d >= day && d%day == 0:
		return int(d / day), "days"
	case d >= time.Hour && d%time.Hour == 0:
		return int(d / time.Hour), "hours"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	return max(m, 1), "minutes"
}
