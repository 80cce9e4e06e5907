package app

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// deliveryHealth remembers, per destination, the failed attempts since its
// last successful send, so that /readyz can say which destination is in
// trouble and why. It is a notify.Observer.
type deliveryHealth struct {
	mu    sync.Mutex
	dests map[string]*destHealth
}

// destHealth is one destination's failures since its last success.
type destHealth struct {
	failures   int
	lastReason string
	since      time.Time // the first of those failures
}

func newDeliveryHealth() *deliveryHealth {
	return &deliveryHealth{dests: map[string]*destHealth{}}
}

// Sent clears the destination's failures.
func (h *deliveryHealth) Sent(destination, action string, latency time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.dests, destination)
}

// Failed counts a failed attempt.
func (h *deliveryHealth) Failed(destination, action, reason string, retryable bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.dests[destination]
	if d == nil {
		d = &destHealth{since: time.Now()}
		h.dests[destination] = d
	}
	d.failures++
	d.lastReason = reason
}

// Dead is counted by Failed, which the dispatcher calls first.
func (h *deliveryHealth) Dead(destination, action, reason string) {}

// report returns the failing destinations for /readyz, by name, and a
// one-line summary ("" when none is failing).
func (h *deliveryHealth) report(now time.Time) (map[string]any, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.dests) == 0 {
		return nil, ""
	}
	out := make(map[string]any, len(h.dests))
	var parts []string
	for name, d := range h.dests {
		out[name] = map[string]any{"failures_in_a_row": d.failures, "last_failure": d.lastReason,
			"failing_for": now.Sub(d.since).Round(time.Second).String()}
		parts = append(parts, fmt.Sprintf("%s: %d failed attempts in a row (%s)", name, d.failures, d.lastReason))
	}
	slices.Sort(parts)
	return out, "degraded: " + strings.Join(parts, "; ")
}

// observers hands every delivery outcome to each of its observers.
type observers []notify.Observer

func (os observers) Sent(destination, action string, latency time.Duration) {
	for _, o := range os {
		o.Sent(destination, action, latency)
	}
}

func (os observers) Failed(destination, action, reason string, retryable bool) {
	for _, o := range os {
		o.Failed(destination, action, reason, retryable)
	}
}

func (os observers) Dead(destination, action, reason string) {
	for _, o := range os {
		o.Dead(destination, action, reason)
	}
}
