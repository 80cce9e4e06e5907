package genesys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// ErrUnsupportedTopic is wrapped by the error of ParseEvent and
// ParseNotificationAt for a well-formed notification of a topic other than
// v2.analytics.queues.{id}.observations or .activity (heartbeats included).
var ErrUnsupportedTopic = errors.New("genesys: not a queue analytics topic")

// ErrNotNotification is wrapped by the error of ParseEvent for JSON that is
// neither a notification {topicName, eventBody} nor an EventBridge
// envelope {detail-type, detail{topicName, eventBody}}.
var ErrNotNotification = errors.New("genesys: not a Genesys notification")

// ErrMalformedEvent is wrapped by the error of ParseEvent for a
// notification of a queue analytics topic whose eventBody is missing or
// does not have the shape of the topic's events, or holds a number no
// metric can have (see ParseEvent).
var ErrMalformedEvent = errors.New("genesys: malformed queue analytics event")

// maxStat bounds the statistics of an event row. Counts and epoch
// milliseconds (about 1.8·10^12 today) stay well below it, and counts
// summed over up to 900,000 rows stay within int64.
const maxStat = 1e13

// maxSum bounds the sum of a metric's stats.sum over its rows in one
// group, in milliseconds (about 31 years), so that durations summed in
// nanoseconds stay within int64.
const maxSum = 1e12

// maxMediaType bounds the length of a media type name; Genesys's are
// short words such as "voice" or "screenmonitoring".
const maxMediaType = 64

// Event is a parsed queue analytics notification.
type Event struct {
	Topic         string
	Kind          string // "observations" or "activity"
	QueueID       string
	CorrelationID string
	// Time is the event's timestamp: the notification's own timestamp
	// when it has one, else the time of the EventBridge envelope around
	// it; zero when neither is present.
	Time time.Time
	// Stats are the figures of the event. Stats.Total is reported only
	// for the metrics the event gives for the whole queue: an activity
	// event lists every media type, an observations event grouped by
	// media type covers only that one (Accumulator adds them up).
	Stats QueueStats
	// Whole is true when the event describes every media type.
	Whole bool

	// interval is the start of the interval of the event's interval
	// figures (nOffered, tAnswered, …); zero when unknown.
	interval time.Time
}

// envelope is a WebSocket notification, or an EventBridge event whose
// detail is one.
type envelope struct {
	TopicName string          `json:"topicName"`
	EventBody json.RawMessage `json:"eventBody"`
	Metadata  struct {
		CorrelationID string `json:"CorrelationId"`
	} `json:"metadata"`
	Timestamp time.Time `json:"timestamp"`
	// Time and Detail are those of an EventBridge envelope.
	Time   time.Time `json:"time"`
	Detail *envelope `json:"detail"`
}

// eventError is the error of a malformed event body; it wraps
// ErrMalformedEvent.
type eventError struct {
	kind, reason string
}

// Error returns the reason with the kind of the event.
func (e *eventError) Error() string {
	return "genesys: malformed " + e.kind + " event: " + e.reason
}

// Is makes errors.Is(err, ErrMalformedEvent) true.
func (e *eventError) Is(target error) bool { return target == ErrMalformedEvent }

// ParseEvent parses a notification of a queue analytics topic, as sent
// over the WebSocket or wrapped by EventBridge (§4.3–4.5 of the
// reference).
//
// Times: the event's time is the notification's own timestamp, else the
// EventBridge envelope's time, else now. An oLongestWaiting epoch
// timestamp is aged against that time, so that replaying an event, or
// parsing it on a fake clock, gives the same longest wait as when it was
// sent; pass the clock of the caller (never time.Now when the caller has a
// clock of its own) as now.
//
// Figures (the reference, §3.1 and §4.4, gives the metrics; where it is
// silent, each choice is the one that lets alerts resolve and never
// double-counts):
//   - Agents on queue are oOnQueueUsers summed over its routing-status
//     qualifiers or, when the event has no oOnQueueUsers row, the
//     oUserRoutingStatuses rows other than OFF_QUEUE: a member in any
//     routing status but OFF_QUEUE (IDLE, INTERACTING, COMMUNICATING,
//     NOT_RESPONDING) is on queue, so IDLE agents are on queue. Available
//     agents are the IDLE ones; a missing IDLE row is zero (Genesys omits
//     zero rows). Agent figures are reported only when one of those two
//     metrics is present.
//   - A service level with nothing answered or abandoned is 100: nothing
//     missed the target (see Figures.ServiceLevel).
//   - A media type reported with zero waiting has a longest wait of zero,
//     so that an alert on the longest wait resolves when the queue empties.
//     A queue total of the longest wait is given only when every media
//     type with interactions waiting has a known longest wait.
//   - An observations event with several data[] intervals takes each
//     metric from the latest interval that reports it.
//   - An activity result without a media type is the queue's own total:
//     it is used when no result has a media type and ignored otherwise
//     (the per-media results add up to it).
//   - A group or result naming another queue than the topic's is an
//     error, as are negative statistics, statistics above 10^13, sums of
//     durations above 10^12 ms, and a ratio or target above 1 (they are
//     fractions: 0.8, not 80).
//
// Errors wrap ErrNotNotification (not a notification), ErrUnsupportedTopic
// (another topic; the Event then holds its Topic and CorrelationID) or
// ErrMalformedEvent (a bad eventBody).
func ParseEvent(body []byte, now time.Time) (Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %s", ErrNotNotification, jsonReason(err, ""))
	}
	outer := env.Time
	if env.Detail != nil {
		env = *env.Detail
	}
	if env.TopicName == "" {
		return Event{}, fmt.Errorf("%w: missing field topicName", ErrNotNotification)
	}
	e := Event{Topic: env.TopicName, CorrelationID: env.Metadata.CorrelationID, Time: env.Timestamp}
	if e.Time.IsZero() {
		e.Time = outer
	}
	id, kind, ok := ParseQueueTopic(env.TopicName)
	if !ok {
		return e, fmt.Errorf("topic %s: %w", quoteClip(env.TopicName), ErrUnsupportedTopic)
	}
	e.QueueID, e.Kind = id, kind
	if !e.Time.IsZero() {
		now = e.Time
	}
	raw := bytes.TrimSpace(env.EventBody)
	var err error
	switch {
	case len(raw) == 0 || string(raw) == "null":
		err = errors.New("missing field eventBody")
	case raw[0] != '{':
		err = fmt.Errorf("field eventBody: expected an object, got %s", jsonKind(raw))
	case kind == "activity":
		err = e.parseActivity(raw, now)
	default:
		err = e.parseObservations(raw, now)
	}
	if err != nil {
		return e, &eventError{kind: kind, reason: err.Error()}
	}
	return e, nil
}

// eventGroup is the group of an observations body or an activity result.
type eventGroup struct {
	QueueID   string `json:"queueId"`
	MediaType string `json:"mediaType"`
}

// check verifies that the group is of the event's queue and that its
// media type is a plausible name.
func (g *eventGroup) check(queueID, path string) error {
	if g == nil {
		return nil
	}
	if g.QueueID != "" && g.QueueID != queueID {
		return fmt.Errorf("field %s.queueId: %s is not the topic's queue %s", path, quoteClip(g.QueueID), quoteClip(queueID))
	}
	return checkMediaType(g.MediaType, path+".mediaType")
}

// checkMediaType rejects media type names that are overlong or hold
// spaces or control characters.
func checkMediaType(m, field string) error {
	if len(m) > maxMediaType || strings.IndexFunc(m, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\uFFFD' }) >= 0 {
		return fmt.Errorf("field %s: %s is not a media type", field, quoteClip(m))
	}
	return nil
}

// checkStats rejects statistics no metric can have; path names the row
// for the error.
func checkStats(stats map[string]float64, path func() string) error {
	bad := ""
	for k, v := range stats {
		// The first bad key in order, so that the error is the same every time.
		if !(v >= 0 && v <= maxStat) && (bad == "" || k < bad) {
			bad = k
		}
	}
	if bad != "" {
		return fmt.Errorf("field %s.%s: expected a number from 0 to %g, got %v", path(), bad, float64(maxStat), stats[bad])
	}
	// Service-level ratios and targets are fractions (0.8, not 80).
	for _, k := range []string{"ratio", "target"} {
		if v, ok := stats[k]; ok && v > 1 {
			return fmt.Errorf("field %s.%s: expected a fraction from 0 to 1, got %v", path(), k, v)
		}
	}
	return nil
}

// agentRows notes which agent metrics a group reported.
type agentRows struct {
	onQueue, statuses bool
}

func (a *agentRows) note(metric string) {
	switch metric {
	case "oOnQueueUsers":
		a.onQueue = true
	case "oUserRoutingStatuses":
		a.statuses = true
	}
}

// finish applies the agent rules of ParseEvent to the figures of a queue.
func (a agentRows) finish(ag *Agents) {
	ag.Reported = a.onQueue || a.statuses
	if !a.onQueue && a.statuses {
		ag.OnQueue = 0
		for q, n := range ag.RoutingStatuses {
			if q != "OFF_QUEUE" {
				ag.OnQueue += n
			}
		}
	}
}

// finishEvent applies the figure rules of ParseEvent to the parsed
// figures: zero waiting is a zero longest wait, and the queue total is
// recomputed for an event that covers the whole queue.
func (e *Event) finishEvent(rows agentRows) {
	for m, f := range e.Stats.Media {
		e.Stats.Media[m] = waitKnownWhenEmpty(f)
	}
	rows.finish(&e.Stats.Agents)
	if e.Whole {
		e.Stats.Total = queueTotal(e.Stats.Media)
	} else {
		e.Stats.Total = Figures{}
	}
}

// waitKnownWhenEmpty gives a longest wait of zero to figures that report
// nobody waiting.
func waitKnownWhenEmpty(f Figures) Figures {
	if f.has&figWaiting != 0 && f.Waiting == 0 {
		f.LongestWait = 0
		f.has |= figLongestWait
	}
	return f
}

// intervalStart returns the start of an ISO-8601 "start/end" interval, or
// zero when it is not one.
func intervalStart(iv string) time.Time {
	start, _, ok := strings.Cut(iv, "/")
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseObservations reads {group{queueId, mediaType}, data[{interval,
// metrics[]}]}; rows directly in data are accepted too.
func (e *Event) parseObservations(raw json.RawMessage, now time.Time) error {
	var b struct {
		Group *eventGroup `json:"group"`
		Data  []struct {
			Interval string `json:"interval"`
			row
			Metrics []row `json:"metrics"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return errors.New(jsonReason(err, "eventBody."))
	}
	if err := b.Group.check(e.QueueID, "eventBody.group"); err != nil {
		return err
	}
	// Each metric comes from the latest interval that reports it: items
	// in order of their interval's start, later items winning ties.
	order := make([]int, len(b.Data))
	starts := make([]time.Time, len(b.Data))
	for i := range b.Data {
		order[i], starts[i] = i, intervalStart(b.Data[i].Interval)
		if starts[i].After(e.interval) {
			e.interval = starts[i]
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return starts[order[x]].Before(starts[order[y]]) })
	latest := map[string][]row{}
	var names []string
	for _, i := range order {
		d := b.Data[i]
		item := map[string][]row{}
		var itemNames []string
		add := func(r row, path func() string) error {
			if err := checkStats(r.Stats, path); err != nil {
				return err
			}
			if _, ok := item[r.Metric]; !ok {
				itemNames = append(itemNames, r.Metric)
			}
			item[r.Metric] = append(item[r.Metric], r)
			return nil
		}
		if d.Metric != "" {
			if err := add(d.row, func() string { return fmt.Sprintf("eventBody.data[%d].stats", i) }); err != nil {
				return err
			}
		}
		for j, r := range d.Metrics {
			if err := add(r, func() string { return fmt.Sprintf("eventBody.data[%d].metrics[%d].stats", i, j) }); err != nil {
				return err
			}
		}
		for _, n := range itemNames {
			if _, seen := latest[n]; !seen {
				names = append(names, n)
			}
			latest[n] = item[n]
		}
	}
	var g groupAcc
	var agents agentRows
	for _, name := range names {
		// Durations are summed in nanoseconds: keep them within int64.
		var sum float64
		for _, r := range latest[name] {
			sum += r.Stats["sum"]
		}
		if sum > maxSum {
			return fmt.Errorf("metric %s: stats.sum adds up to %g ms, over %g", quoteClip(name), sum, float64(maxSum))
		}
		agents.note(name)
		for _, r := range latest[name] {
			g.add(r, now)
		}
	}
	var media string
	if b.Group != nil {
		media = b.Group.MediaType
	}
	var q queueAcc
	q.addGroup(media, &g)
	e.Whole = media == ""
	e.Stats = q.stats(e.QueueID, 0)
	e.finishEvent(agents)
	return nil
}

// parseActivity reads {results[{mediaType, data[{metric, qualifier,
// count, calculatedMetricValue}]}]}; a result may give its media type in
// group{queueId, mediaType} instead.
func (e *Event) parseActivity(raw json.RawMessage, now time.Time) error {
	var b struct {
		Results *[]struct {
			MediaType string      `json:"mediaType"`
			Group     *eventGroup `json:"group"`
			Data      []struct {
				Metric                string   `json:"metric"`
				Qualifier             string   `json:"qualifier"`
				Count                 *float64 `json:"count"`
				CalculatedMetricValue *float64 `json:"calculatedMetricValue"`
			} `json:"data"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return errors.New(jsonReason(err, "eventBody."))
	}
	if b.Results == nil {
		return errors.New("missing field eventBody.results")
	}
	results := *b.Results
	media := make([]string, len(results))
	perMedia := false
	for i, res := range results {
		path := fmt.Sprintf("eventBody.results[%d]", i)
		if err := res.Group.check(e.QueueID, path+".group"); err != nil {
			return err
		}
		if err := checkMediaType(res.MediaType, path+".mediaType"); err != nil {
			return err
		}
		media[i] = res.MediaType
		if media[i] == "" && res.Group != nil {
			media[i] = res.Group.MediaType
		}
		perMedia = perMedia || media[i] != ""
	}
	var q queueAcc
	var agents agentRows
	for i, res := range results {
		if perMedia && media[i] == "" {
			continue
		}
		var g groupAcc
		for j, d := range res.Data {
			stats := map[string]float64{}
			if d.Count != nil {
				stats["count"] = *d.Count
			}
			if d.CalculatedMetricValue != nil {
				stats["calculatedMetricValue"] = *d.CalculatedMetricValue
			}
			if err := checkStats(stats, func() string { return fmt.Sprintf("eventBody.results[%d].data[%d]", i, j) }); err != nil {
				return err
			}
			agents.note(d.Metric)
			g.add(row{Metric: d.Metric, Qualifier: d.Qualifier, Stats: stats}, now)
		}
		q.addGroup(media[i], &g)
	}
	e.Whole = true
	e.Stats = q.stats(e.QueueID, 0)
	e.finishEvent(agents)
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

// ParseNotificationAt turns one queue analytics notification (a WebSocket
// message or a Genesys or EventBridge envelope) into samples, without
// state: per-media figures, agent figures, and queue totals when the event
// covers the whole queue. The event's time (see ParseEvent) stamps the
// samples and ages oLongestWaiting timestamps; now stands in for it when
// the event has none. Source is stream. Other topics give an error
// wrapping ErrUnsupportedTopic, JSON that is no notification one wrapping
// ErrNotNotification, a bad event body one wrapping ErrMalformedEvent. To
// get queue totals from per-media events, use an Accumulator.
func ParseNotificationAt(body []byte, now time.Time) ([]metric.Sample, error) {
	e, err := ParseEvent(body, now)
	if err != nil {
		return nil, err
	}
	return e.Samples(now), nil
}

// ParseNotification is ParseNotificationAt on the wall clock, except that
// the samples of an event without a timestamp keep a zero At for the
// caller to fill.
//
// Deprecated: The wall clock makes replays and tests inexact; use
// ParseNotificationAt with the caller's clock.
func ParseNotification(body []byte) ([]metric.Sample, error) {
	e, err := ParseEvent(body, time.Now())
	if err != nil {
		return nil, err
	}
	return e.Samples(e.Time), nil
}

// quoteClip quotes text from an event for an error message, shortened to
// 80 bytes.
func quoteClip(s string) string {
	const limit = 80
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strconv.Quote(s)
}

// jsonReason turns an encoding/json error into a short reason naming the
// field, prefixed with path (such as "eventBody.").
func jsonReason(err error, path string) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("bad JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimSuffix(path+te.Field, ".")
		if field == "" {
			return fmt.Sprintf("expected %s, got %s", kindName(te.Type), te.Value)
		}
		return fmt.Sprintf("field %s: expected %s, got %s", field, kindName(te.Type), te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("a time: %s is not an RFC 3339 time", quoteClip(pe.Value))
	}
	return "bad JSON: " + err.Error()
}

// kindName names a Go type the way a JSON author thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return kindName(t.Elem())
	default:
		return "a number"
	}
}

// jsonKind names the kind of a raw, non-empty JSON value as encoding/json
// does in its errors: array, string, boolean, object or number.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case '{':
		return "object"
	}
	return "number"
}
