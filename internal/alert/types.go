package alert

import (
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// State is the state of one series' state machine.
type State string

// The states of the alert state machine (architecture §2).
const (
	OK        State = "ok"
	Pending   State = "pending"
	Firing    State = "firing"
	Resolving State = "resolving"
)

// Open reports whether an alert exists in this state (firing or resolving).
func (s State) Open() bool { return s == Firing || s == Resolving }

// Action is what a transition asks the destinations to do.
type Action string

// Actions. ActionNone transitions are recorded but owe no notification.
const (
	ActionNone    Action = ""
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionResolve Action = "resolve"
)

// Priority is an OpsGenie-style priority, P1 (highest) to P5; see rule.Priority.
type Priority = rule.Priority

// Priorities, for convenience.
const (
	P1 = rule.P1
	P2 = rule.P2
	P3 = rule.P3
	P4 = rule.P4
	P5 = rule.P5
)

// Key returns the alert key of a series: "{queue_id}_{rule}" for queue totals,
// "{queue_id}_{rule}_{media}" for a per-media series. It is the OpsGenie alias,
// the PagerDuty dedup key and the key of stored Slack messages.
func Key(queueID, rule, mediaType string) string {
	if mediaType == "" {
		return queueID + "_" + rule
	}
	return queueID + "_" + rule + "_" + mediaType
}

// Episode is one firing period of a series, from the first create to the resolve.
type Episode struct {
	ID        string      `json:"id"`
	Key       string      `json:"key"`
	Rule      string      `json:"rule"`
	QueueID   string      `json:"queue_id"`
	QueueName string      `json:"queue_name"`
	MediaType string      `json:"media_type,omitempty"`
	Metric    metric.Name `json:"metric"`
	Start     time.Time   `json:"start"`
	End       time.Time   `json:"end,omitzero"`
	Worst     float64     `json:"worst"`
	WorstAt   time.Time   `json:"worst_at"`
	Priority  Priority    `json:"priority"` // the most urgent priority reached
	Notified  bool        `json:"notified"` // a create was owed to destinations
	// Destinations are the destinations the create was owed to; later updates
	// and the resolve go to the same ones, even if the rule changed meanwhile.
	Destinations []string `json:"destinations,omitempty"`
}

// Open reports whether the episode has not ended.
func (e Episode) Open() bool { return e.End.IsZero() }

// SeriesState is the durable state of one (rule, queue, media type) series.
// It is what the store keeps so that an alert survives a restart.
type SeriesState struct {
	Key          string      `json:"key"`
	Rule         string      `json:"rule"`
	QueueID      string      `json:"queue_id"`
	QueueName    string      `json:"queue_name"`
	MediaType    string      `json:"media_type,omitempty"`
	Metric       metric.Name `json:"metric"`
	State        State       `json:"state"`
	Since        time.Time   `json:"since"`                   // when State was entered
	PendingSince time.Time   `json:"pending_since,omitzero"`  // start of the current breach
	ClearSince   time.Time   `json:"clear_since,omitzero"`    // start of the current clear period
	Level        int         `json:"level"`                   // index of the active level, -1 when none
	Priority     Priority    `json:"priority,omitempty"`      // priority of the active level
	LastValue    float64     `json:"last_value"`              // value of the latest sample
	LastSampleAt time.Time   `json:"last_sample_at,omitzero"` // time of the latest sample
	Stale        bool        `json:"stale,omitempty"`         // "no data" was noted
	Flapping     bool        `json:"flapping,omitempty"`
	Flaps        []time.Time `json:"flaps,omitempty"` // times of recent open/close changes
	Held         string      `json:"held,omitempty"`  // why notifications are being held back
	Episode      *Episode    `json:"episode,omitempty"`
	// Version increases with every committed transition; stores may use it
	// for conditional updates.
	Version int64 `json:"version"`
}

// Transition is one change of a series, made durable by the store together
// with one outbox row per destination in Destinations.
type Transition struct {
	Key       string      `json:"key"`
	Rule      string      `json:"rule"`
	QueueID   string      `json:"queue_id"`
	QueueName string      `json:"queue_name"`
	MediaType string      `json:"media_type,omitempty"`
	Metric    metric.Name `json:"metric"`
	At        time.Time   `json:"at"`
	From      State       `json:"from"`
	To        State       `json:"to"`
	Action    Action      `json:"action,omitempty"`
	// Reason says in words why the transition happened.
	Reason       string   `json:"reason"`
	Value        float64  `json:"value"`
	Threshold    float64  `json:"threshold"`
	Clear        float64  `json:"clear"`
	Target       float64  `json:"target,omitempty"` // the queue's SL target, when the rule uses it
	Priority     Priority `json:"priority,omitempty"`
	PrevPriority Priority `json:"prev_priority,omitempty"`
	// Note is extra text for destinations, e.g. a staleness or flapping note.
	Note string `json:"note,omitempty"`
	// Destinations lists the destination names owed a notification. It is empty
	// when Action is ActionNone or notifications are held (see Held).
	Destinations []string `json:"destinations,omitempty"`
	// Held names why notifications were held back (a schedule or silence).
	Held    string   `json:"held,omitempty"`
	Episode *Episode `json:"episode,omitempty"`
	// Series is the series state after this transition; the store persists it.
	Series SeriesState `json:"-"`
}

// String renders a transition as one readable line.
func (t Transition) String() string {
	s := fmt.Sprintf("%s %s %s %s → %s value=%s",
		t.At.UTC().Format(time.RFC3339), queueLabel(t), t.Rule, t.From, t.To, metric.Format(t.Metric, t.Value))
	if t.Priority != "" {
		s += " priority=" + string(t.Priority)
	}
	if t.Action != ActionNone {
		s += " action=" + string(t.Action)
	}
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	return s
}

func queueLabel(t Transition) string {
	name := t.QueueName
	if name == "" {
		name = t.QueueID
	}
	if t.MediaType != "" {
		name += "/" + t.MediaType
	}
	return fmt.Sprintf("%q", name)
}
