package webhook

import (
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Version is the schema version of Message.
const Version = "1"

// Message is the JSON body of every webhook request, schema version "1":
//
//	{
//	  "version": "1",
//	  "action": "create" | "update" | "resolve",
//	  "key": "{queue_id}_{rule}[_{media_type}]",   // one open alert per key
//	  "delivery_id": 42,                           // also X-Queuewatch-Delivery
//	  "url": "https://queuewatch.example.com",     // dashboard, when public_url is set
//	  "episode": {
//	    "id": "…", "start": "RFC 3339", "end": "RFC 3339" (resolve only),
//	    "worst": 62.5, "worst_at": "RFC 3339", "priority": "P1"
//	  },
//	  "transition": {
//	    "at": "RFC 3339", "from": "pending", "to": "firing",
//	    "queue_id": "…", "queue_name": "Billing DE", "media_type": "voice" (optional),
//	    "rule": "sla_breach", "metric": "service_level",
//	    "value": 62.5, "value_text": "62.5%", "threshold": 80, "clear": 85,
//	    "target": 80 (optional), "priority": "P1", "prev_priority": "P2" (optional),
//	    "reason": "…", "note": "…" (optional)
//	  },
//	  "sent_at": "RFC 3339"                        // signed, unlike the header
//	}
//
// Times are UTC. Fields may be added within version "1"; receivers should
// ignore unknown fields. A retried delivery has the same delivery_id (and
// X-Queuewatch-Delivery header) but a new sent_at and signature.
type Message struct {
	Version    string     `json:"version"`
	Action     string     `json:"action"`
	Key        string     `json:"key"`
	DeliveryID int64      `json:"delivery_id"`
	URL        string     `json:"url,omitempty"`
	Episode    Episode    `json:"episode"`
	Transition Transition `json:"transition"`
	SentAt     time.Time  `json:"sent_at"`
}

// Episode is the firing period a message belongs to.
type Episode struct {
	ID       string    `json:"id"`
	Start    time.Time `json:"start,omitzero"`
	End      time.Time `json:"end,omitzero"`
	Worst    float64   `json:"worst"`
	WorstAt  time.Time `json:"worst_at,omitzero"`
	Priority string    `json:"priority,omitempty"`
}

// Transition is the change of the alert that the message reports.
type Transition struct {
	At           time.Time `json:"at"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	QueueID      string    `json:"queue_id"`
	QueueName    string    `json:"queue_name"`
	MediaType    string    `json:"media_type,omitempty"`
	Rule         string    `json:"rule"`
	Metric       string    `json:"metric"`
	Value        float64   `json:"value"`
	ValueText    string    `json:"value_text"`
	Threshold    float64   `json:"threshold"`
	Clear        float64   `json:"clear"`
	Target       float64   `json:"target,omitempty"`
	Priority     string    `json:"priority,omitempty"`
	PrevPriority string    `json:"prev_priority,omitempty"`
	Reason       string    `json:"reason"`
	Note         string    `json:"note,omitempty"`
}

// newMessage builds the message of a delivery sent at now.
func newMessage(d store.Delivery, publicURL string, now time.Time) Message {
	t := d.Transition
	m := Message{
		Version:    Version,
		Action:     string(d.Action),
		Key:        d.Key,
		DeliveryID: d.ID,
		URL:        publicURL,
		Episode:    Episode{ID: d.EpisodeID},
		Transition: Transition{
			At: t.At.UTC(), From: string(t.From), To: string(t.To),
			QueueID: t.QueueID, QueueName: t.QueueName, MediaType: t.MediaType,
			Rule: t.Rule, Metric: string(t.Metric),
			Value: t.Value, ValueText: metric.Format(t.Metric, t.Value),
			Threshold: t.Threshold, Clear: t.Clear, Target: t.Target,
			Priority: string(t.Priority), PrevPriority: string(t.PrevPriority),
			Reason: t.Reason, Note: t.Note,
		},
		SentAt: now.UTC(),
	}
	if e := t.Episode; e != nil {
		m.Episode = episode(*e)
		if m.Episode.ID == "" {
			m.Episode.ID = d.EpisodeID
		}
	}
	return m
}

func episode(e alert.Episode) Episode {
	return Episode{
		ID: e.ID, Start: e.Start.UTC(), End: e.End.UTC(),
		Worst: e.Worst, WorstAt: e.WorstAt.UTC(), Priority: string(e.Priority),
	}
}
