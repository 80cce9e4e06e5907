package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Envelope kinds, as they appear in logs and in duplicate keys.
const (
	kindTutorial     = "tutorial"
	kindNotification = "notification"
	kindEventBridge  = "eventbridge"
)

// event is one decoded event of a request body.
type event struct {
	kind string
	// key identifies the event for the duplicate check: the envelope kind
	// and the sender's id. It is empty when the event has no id.
	key string
	// id is the id as the sender wrote it, for answers and logs.
	id string
	// at is the event's own timestamp from the body; zero when it has none.
	at time.Time
	// stamp is the time its samples are stamped with (see sampleTime).
	stamp time.Time
	// samples are the samples of the event on its own; empty when ignored
	// is set. For a Genesys notification they leave out the queue totals
	// that the handler's Accumulator adds.
	samples []metric.Sample
	// notification is the parsed Genesys notification, nil for a tutorial
	// event.
	notification *genesys.Event
	// ignored, when not empty, says why the event is not evaluated.
	ignored string
}

// decoder turns a request body into events.
type decoder struct {
	// now is the time of receipt.
	now time.Time
	// fallback is the X-Queuewatch-Timestamp header, zero when absent.
	fallback time.Time
}

// decode reads a single event or a JSON array of events. Any error is a
// reason fit for a 400 answer.
func (d *decoder) decode(body []byte) ([]event, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body: expected a JSON event or an array of events")
	}
	if body[0] != '[' {
		ev, err := d.one(body)
		if err != nil {
			return nil, err
		}
		return []event{ev}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, errors.New(jsonReason(err, ""))
	}
	if len(items) == 0 {
		return nil, errors.New("empty batch: expected at least one event")
	}
	events := make([]event, 0, len(items))
	for i, raw := range items {
		ev, err := d.one(raw)
		if err != nil {
			return nil, fmt.Errorf("batch item %d: %w", i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

// one decodes one event, detecting its envelope from its keys: a plain
// tutorial event on the fast path, anything else with oneGeneral.
func (d *decoder) one(raw []byte) (event, error) {
	if ev, ok := d.fastTutorial(raw); ok {
		return ev, nil
	}
	return d.oneGeneral(raw)
}

// oneGeneral decodes one event of any envelope.
func (d *decoder) oneGeneral(raw []byte) (event, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return event{}, fmt.Errorf("an event must be a JSON object, got %s", te.Value)
		}
		return event{}, errors.New(jsonReason(err, ""))
	}
	if keys == nil {
		return event{}, errors.New("an event must be a JSON object, got null")
	}
	_, hasType := keys["event_type"]
	_, hasData := keys["data"]
	_, hasDetailType := keys["detail-type"]
	_, hasDetail := keys["detail"]
	_, hasTopic := keys["topicName"]
	switch {
	case hasType:
		return d.tutorial(keys)
	case hasDetailType || hasDetail:
		return d.eventBridge(keys)
	case hasTopic:
		return d.notification(raw, time.Time{})
	case hasData:
		return event{}, errors.New("missing field event_type (tutorial envelope)")
	default:
		return event{}, errors.New("unrecognised event: expected event_type and data (tutorial envelope), " +
			"topicName and eventBody (Genesys notification) or detail-type and detail (EventBridge)")
	}
}

// sampleTime is the time samples of an event are stamped with: the event's
// own time (else the header's), capped at the time of receipt so that a
// sender's fast clock cannot move series into the future.
func (d *decoder) sampleTime(at time.Time) time.Time {
	if at.IsZero() {
		at = d.fallback
	}
	if at.IsZero() || at.After(d.now) {
		return d.now
	}
	return at
}

// eventBridge decodes an EventBridge envelope whose detail is a Genesys
// notification.
func (d *decoder) eventBridge(keys map[string]json.RawMessage) (event, error) {
	id, err := asString(keys["id"], "id")
	if err != nil {
		return event{}, err
	}
	at, err := asTime(keys["time"], "time")
	if err != nil {
		return event{}, err
	}
	detailType, err := asString(keys["detail-type"], "detail-type")
	if err != nil {
		return event{}, err
	}
	detail := keys["detail"]
	if isNull(detail) {
		return event{}, errors.New("missing field detail")
	}
	var dkeys map[string]json.RawMessage
	if err := json.Unmarshal(detail, &dkeys); err != nil {
		return event{}, fmt.Errorf("field detail: expected an object, got %s", jsonKind(detail))
	}
	if _, ok := dkeys["topicName"]; !ok {
		if _, _, ok := genesys.ParseQueueTopic(detailType); detailType != "" && !ok {
			return event{kind: kindEventBridge, id: id, at: at,
				ignored: fmt.Sprintf("detail-type %s is not a queue metric topic", quote(detailType))}, nil
		}
		return event{}, errors.New("missing field detail.topicName")
	}
	ev, err := d.notification(detail, at)
	if err != nil {
		return event{}, fmt.Errorf("detail: %w", err)
	}
	ev.kind = kindEventBridge
	if id != "" {
		ev.id, ev.key = id, kindEventBridge+":"+id
	}
	return ev, nil
}

// notification decodes a Genesys notification envelope with the shared
// parser, genesys.ParseEvent; at is the time an outer envelope gave, zero
// for a raw notification. The event's time is the notification's own
// timestamp, else at; oLongestWaiting timestamps are aged against it, or
// against the header's time or the time of receipt when there is none.
func (d *decoder) notification(raw []byte, at time.Time) (event, error) {
	e, err := genesys.ParseEvent(raw, d.sampleTime(at))
	switch {
	case errors.Is(err, genesys.ErrUnsupportedTopic):
		return event{kind: kindNotification, at: at,
			ignored: fmt.Sprintf("topic %s is not a queue metric topic", quote(e.Topic))}, nil
	case err != nil:
		return event{}, err
	}
	ev := event{kind: kindNotification, at: at, notification: &e}
	if !e.Time.IsZero() {
		ev.at = e.Time
	}
	if e.CorrelationID != "" {
		// A correlation id may be shared by the events one change caused
		// on several topics, so the topic is part of the key.
		ev.id, ev.key = e.CorrelationID, kindNotification+":"+e.Topic+":"+e.CorrelationID
	}
	if err := checkQueueID(e.QueueID, "topicName queue id"); err != nil {
		return event{}, err
	}
	ev.stamp = d.sampleTime(ev.at)
	samples := e.Stats.AppendSamples(nil, ev.stamp, metric.SourceWebhook)
	if err := checkSamples(samples); err != nil {
		return event{}, err
	}
	if len(samples) == 0 {
		ev.ignored = "the event carries no supported metric"
		return ev, nil
	}
	ev.samples = samples
	return ev, nil
}

// maxValue bounds sample values, so that sums of them stay finite.
const maxValue = 1e12

// checkSamples rejects samples no metric can have: unknown metrics, bad
// queue ids and values that are negative, implausibly large (counts summed
// over many rows, for example) or percentages over 100.
func checkSamples(samples []metric.Sample) error {
	for _, s := range samples {
		info, ok := metric.Lookup(s.Metric)
		if !ok {
			return fmt.Errorf("eventBody: unknown metric %s", quote(string(s.Metric)))
		}
		if err := checkQueueID(s.QueueID, "eventBody queue id"); err != nil {
			return err
		}
		limit := maxValue
		if info.Unit == metric.Percent {
			limit = 100
		}
		if !(s.Value >= 0 && s.Value <= limit) {
			return fmt.Errorf("eventBody: %s of queue %s is %v; expected a number from 0 to %g",
				s.Metric, quote(s.QueueID), s.Value, limit)
		}
	}
	return nil
}
