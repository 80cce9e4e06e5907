package genesys

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// ErrUnsupportedTopic is wrapped by the error of ParseEvent and
// ParseNotification for a well-formed notification of a topic other than
// v2.analytics.queues.{id}.observations or .activity (heartbeats included).
var ErrUnsupportedTopic = errors.New("genesys: not a queue analytics topic")

// ErrNotNotification is wrapped by the error of ParseEvent for JSON that is
// neither a notification {topicName, eventBody} nor an EventBridge
// envelope {detail-type, detail{topicName, eventBody}}.
var ErrNotNotification = errors.New("genesys: not a Genesys notification")

// Event is a parsed queue analytics notification.
type Event struct {
	Topic         string
	Kind          string // "observations" or "activity"
	QueueID       string
	CorrelationID string
	// Time is the event's timestamp when the envelope has one
	// (EventBridge), else zero.
	Time time.Time
	// Stats are the figures of the event. Stats.Total is reported only
	// for the metrics the event gives for the whole queue: an activity
	// event lists every media type, an observations event grouped by
	// media type covers only that one (Accumulator adds them up).
	Stats QueueStats
	// Whole is true when the event describes every media type.
	Whole bool
}

// envelope is a WebSocket notification or the detail of an EventBridge
// event.
type envelope struct {
	TopicName string          `json:"topicName"`
	EventBody json.RawMessage `json:"eventBody"`
	Metadata  struct {
		CorrelationID string `json:"CorrelationId"`
	} `json:"metadata"`
	Timestamp  time.Time `json:"timestamp"`
	DetailType string    `json:"detail-type"`
	Detail     *envelope `json:"detail"`
}

// ParseEvent parses a notification of a queue analytics topic, as sent
// over the WebSocket or wrapped by EventBridge. now is the time against
// which an oLongestWaiting timestamp is aged when the envelope carries no
// timestamp of its own.
func ParseEvent(body []byte, now time.Time) (Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrNotNotification, err)
	}
	if env.Detail != nil {
		env = *env.Detail
	}
	if env.TopicName == "" {
		return Event{}, fmt.Errorf("%w: no topicName", ErrNotNotification)
	}
	e := Event{Topic: env.TopicName, CorrelationID: env.Metadata.CorrelationID, Time: env.Timestamp}
	id, kind, ok := ParseQueueTopic(env.TopicName)
	if !ok {
		return e, fmt.Errorf("topic %q: %w", env.TopicName, ErrUnsupportedTopic)
	}
	e.QueueID, e.Kind = id, kind
	if !e.Time.IsZero() {
		now = e.Time
	}
	var err error
	if kind == "activity" {
		err = e.parseActivity(env.EventBody, now)
	} else {
		err = e.parseObservations(env.EventBody, now)
	}
	if err != nil {
		return e, fmt.Errorf("genesys: %s event body: %w", kind, err)
	}
	return e, nil
}

// parseObservations reads {group{queueId, mediaType}, data[{interval,
// metrics[]}]}; rows directly in data are accepted too.
func (e *Event) parseObservations(raw json.RawMessage, now time.Time) error {
	var b struct {
		Group map[string]string `json:"group"`
		Data  []struct {
			row
			Metrics []row `json:"metrics"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return err
	}
	var g groupAcc
	for _, d := range b.Data {
		if d.Metric != "" {
			g.add(d.row, now)
		}
		for _, r := range d.Metrics {
			g.add(r, now)
		}
	}
	media := b.Group["mediaType"]
	var q queueAcc
	q.addGroup(media, &g)
	e.Whole = media == ""
	e.Stats = q.stats(e.QueueID, 0)
	if !e.Whole {
		e.Stats.Total = Figures{}
	}
	return nil
}

// parseActivity reads {results[{mediaType, data[{metric, qualifier,
// count, calculatedMetricValue}]}]}.
func (e *Event) parseActivity(raw json.RawMessage, now time.Time) error {
	var b struct {
		Results []struct {
			MediaType string `json:"mediaType"`
			Data      []struct {
				Metric                string   `json:"metric"`
				Qualifier             string   `json:"qualifier"`
				Count                 float64  `json:"count"`
				CalculatedMetricValue *float64 `json:"calculatedMetricValue"`
			} `json:"data"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return err
	}
	var q queueAcc
	for _, res := range b.Results {
		var g groupAcc
		for _, d := range res.Data {
			stats := map[string]float64{"count": d.Count}
			if d.CalculatedMetricValue != nil {
				stats["calculatedMetricValue"] = *d.CalculatedMetricValue
			}
			g.add(row{Metric: d.Metric, Qualifier: d.Qualifier, Stats: stats}, now)
		}
		q.addGroup(res.MediaType, &g)
	}
	e.Whole = true
	e.Stats = q.stats(e.QueueID, 0)
	return nil
}

// Samples returns the event's samples (see Report.Samples), from source
// stream, at the event's time or at when it has none.
func (e Event) Samples(at time.Time) []metric.Sample {
	if !e.Time.IsZero() {
		at = e.Time
	}
	return e.Stats.AppendSamples(nil, at, metric.SourceStream)
}

// ParseNotification turns one queue analytics notification (a WebSocket
// message or a Genesys or EventBridge envelope) into samples, without
// state: per-media figures, agent figures, and queue totals when the event
// covers the whole queue. Samples are stamped with the event's timestamp
// when it has one and otherwise left with a zero At for the caller to
// fill; Source is stream. Other topics give an error wrapping
// ErrUnsupportedTopic; JSON that is no notification one wrapping
// ErrNotNotification. To get queue totals from per-media events, use an
// Accumulator.
func ParseNotification(body []byte) ([]metric.Sample, error) {
	e, err := ParseEvent(body, time.Now())
	if err != nil {
		return nil, err
	}
	return e.Samples(e.Time), nil
}
