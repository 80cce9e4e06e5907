package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Event types sent on /api/v1/events.
const (
	EventTransition = "transition" // a committed state change of an alert series
	EventDelivery   = "delivery"   // a delivery attempt's outcome
	EventSilence    = "silence"    // a silence was created or expired
	EventHealth     = "health"     // periodic source and outbox health
	// EventResync tells a reconnecting client that events were missed and
	// it should reload what it shows.
	EventResync = "resync"
)

// Event is one server-sent event.
type Event struct {
	ID   uint64
	Type string
	Data []byte // JSON
}

// hubBacklog is how many recent events a hub keeps for reconnecting
// clients; subBuffer how far one client may lag before it is cut off (it
// then reconnects and catches up from the backlog, or resyncs).
const (
	hubBacklog = 1024
	subBuffer  = 256
)

// Hub fans events out to every connected event stream and keeps the
// latest ones so a client reconnecting with Last-Event-ID misses nothing.
type Hub struct {
	mu      sync.Mutex
	seq     uint64
	backlog []Event // oldest first, at most hubBacklog
	subs    map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish sends an event to every subscriber. A subscriber too far behind
// is dropped; its stream ends and the browser reconnects.
func (h *Hub) Publish(typ string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev := Event{ID: h.seq, Type: typ, Data: data}
	h.backlog = append(h.backlog, ev)
	if len(h.backlog) > hubBacklog {
		h.backlog = append(h.backlog[:0], h.backlog[len(h.backlog)-hubBacklog:]...)
	}
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// subscribe registers a subscriber and returns, atomically with it, the
// backlog after lastID. missed is true when events after lastID are no
// longer in the backlog (or lastID is from another process).
func (h *Hub) subscribe(lastID uint64, resume bool) (ch chan Event, replay []Event, missed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch = make(chan Event, subBuffer)
	h.subs[ch] = struct{}{}
	if !resume {
		return ch, nil, false
	}
	if lastID > h.seq {
		return ch, nil, true // a previous process's id
	}
	if lastID == h.seq {
		return ch, nil, false
	}
	if len(h.backlog) == 0 || h.backlog[0].ID > lastID+1 {
		return ch, nil, true
	}
	for _, ev := range h.backlog {
		if ev.ID > lastID {
			replay = append(replay, ev)
		}
	}
	return ch, replay, false
}

func (h *Hub) unsubscribe(ch chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// LastID returns the id of the latest event.
func (h *Hub) LastID() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// serveEvents streams events as text/event-stream. A reconnecting client's
// Last-Event-ID header (or lastEventId query parameter) resumes after that
// event, or gets a resync event when the gap is no longer in the backlog.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	var lastID uint64
	resume, unreadable := false, false
	if last != "" {
		id, err := strconv.ParseUint(last, 10, 64)
		lastID, resume, unreadable = id, err == nil, err != nil
	}
	ch, replay, missed := s.hub.subscribe(lastID, resume)
	missed = missed || unreadable // an id that is not ours: the client reloads
	defer s.hub.unsubscribe(ch)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if missed {
		writeEvent(w, Event{ID: s.hub.LastID(), Type: EventResync, Data: []byte(`{"reason":"events were missed; reload"}`)})
	}
	for _, ev := range replay {
		writeEvent(w, ev)
	}
	if err := rc.Flush(); err != nil {
		return
	}
	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case ev, ok := <-ch:
			if !ok {
				return // too slow; the client reconnects and resumes
			}
			writeEvent(w, ev)
		case <-beat.C:
			fmt.Fprintf(w, ": ping %s\n\n", s.now().UTC().Format(time.RFC3339))
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, ev Event) {
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, ev.Data)
}

// DeliveryObserver is the dispatcher's observer that also publishes every
// delivery outcome as an event. It has notify.Observer's methods.
type DeliveryObserver struct {
	next deliveryObserver
	hub  *Hub
}

// deliveryObserver is notify.Observer, declared here where it is consumed.
type deliveryObserver interface {
	Sent(destination, action string, latency time.Duration)
	Failed(destination, action, reason string, retryable bool)
	Dead(destination, action, reason string)
}

// Deliveries returns an observer that publishes delivery outcomes and
// passes them on to next (such as the metrics); next may be nil.
func (h *Hub) Deliveries(next deliveryObserver) *DeliveryObserver {
	return &DeliveryObserver{next: next, hub: h}
}

type deliveryJSON struct {
	Destination string  `json:"destination"`
	Action      string  `json:"action"`
	Result      string  `json:"result"` // sent, retry, failed, dead
	Reason      string  `json:"reason,omitempty"`
	LatencySecs float64 `json:"latency_seconds,omitempty"`
}

// Sent publishes a delivery accepted by its destination.
func (o *DeliveryObserver) Sent(destination, action string, latency time.Duration) {
	if o.next != nil {
		o.next.Sent(destination, action, latency)
	}
	o.hub.Publish(EventDelivery, deliveryJSON{Destination: destination, Action: action, Result: "sent", LatencySecs: latency.Seconds()})
}

// Failed publishes a failed attempt.
func (o *DeliveryObserver) Failed(destination, action, reason string, retryable bool) {
	if o.next != nil {
		o.next.Failed(destination, action, reason, retryable)
	}
	res := "failed"
	if retryable {
		res = "retry"
	}
	o.hub.Publish(EventDelivery, deliveryJSON{Destination: destination, Action: action, Result: res, Reason: reason})
}

// Dead publishes a delivery given up on.
func (o *DeliveryObserver) Dead(destination, action, reason string) {
	if o.next != nil {
		o.next.Dead(destination, action, reason)
	}
	o.hub.Publish(EventDelivery, deliveryJSON{Destination: destination, Action: action, Result: "dead", Reason: reason})
}

// Health is what the dashboard shows about the sources and the outbox.
type Health struct {
	// Store is "ok" or why the store does not answer.
	Store string `json:"store"`
	// Genesys is false when no Genesys OAuth client is configured (the
	// webhook is the only source).
	Genesys          bool      `json:"genesys"`
	StreamEnabled    bool      `json:"stream_enabled"`
	StreamConnected  bool      `json:"stream_connected"`
	StreamReconnects int64     `json:"stream_reconnects"`
	LastStreamError  string    `json:"last_stream_error,omitempty"`
	LastPoll         time.Time `json:"last_poll,omitzero"`
	PollInterval     string    `json:"poll_interval,omitempty"`
	LastPollError    string    `json:"last_poll_error,omitempty"`
	FailedPolls      int       `json:"failed_polls"`
	Queues           int       `json:"queues"`
	BudgetInUse      int       `json:"budget_in_use"`
	BudgetLimit      int       `json:"budget_limit"`
	// Outbox counts deliveries pending or in flight per destination.
	Outbox       map[string]int `json:"outbox"`
	OutboxTotal  int            `json:"outbox_total"`
	Samples      uint64         `json:"samples"`
	Transitions  uint64         `json:"transitions"`
	CommitFailed uint64         `json:"commit_failures,omitempty"`
	At           time.Time      `json:"at"`
	// FollowerNotice says why a follower replica shows its own (empty)
	// live data rather than the leader's; see WithFollowerNotice.
	FollowerNotice string `json:"follower_notice,omitempty"`
}
