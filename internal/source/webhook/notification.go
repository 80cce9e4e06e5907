package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// ErrUnsupportedTopic is returned by ParseNotificationAt for a topic other
// than v2.analytics.queues.{id}.observations or .activity.
var ErrUnsupportedTopic = errors.New("not a queue metric topic")

// Topic kinds evaluated by the webhook.
const (
	topicObservations = "observations"
	topicActivity     = "activity"
	topicPrefix       = "v2.analytics.queues."
)

// parseTopic splits v2.analytics.queues.{id}.observations|activity.
func parseTopic(topic string) (queueID, kind string, ok bool) {
	rest, found := strings.CutPrefix(topic, topicPrefix)
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", "", false
	}
	queueID, kind = rest[:i], rest[i+1:]
	if kind != topicObservations && kind != topicActivity {
		return "", "", false
	}
	return queueID, kind, true
}

// isQueueTopic reports whether a topic or topic template (with {id}) is one
// the webhook evaluates.
func isQueueTopic(topic string) bool {
	_, _, ok := parseTopic(topic)
	return ok
}

// ParseNotificationAt turns a Genesys notification envelope {topicName,
// eventBody} of topic v2.analytics.queues.{id}.observations or .activity
// into samples stamped at the given time (see the package documentation for
// the mapping). Other topics give an error wrapping ErrUnsupportedTopic.
func ParseNotificationAt(body []byte, at time.Time) ([]metric.Sample, error) {
	var env struct {
		TopicName json.RawMessage `json:"topicName"`
		EventBody json.RawMessage `json:"eventBody"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, errors.New(jsonReason(err, ""))
	}
	topic, err := asString(env.TopicName, "topicName")
	if err != nil {
		return nil, err
	}
	queueID, kind, ok := parseTopic(topic)
	if !ok {
		return nil, fmt.Errorf("topic %s: %w", quote(topic), ErrUnsupportedTopic)
	}
	if err := checkQueueID(queueID, "topicName"); err != nil {
		return nil, err
	}
	if isNull(env.EventBody) {
		return nil, errors.New("missing field eventBody")
	}
	if jsonKind(env.EventBody) != "object" {
		return nil, fmt.Errorf("field eventBody: expected an object, got %s", jsonKind(env.EventBody))
	}
	if kind == topicActivity {
		return parseActivity(env.EventBody, queueID, at)
	}
	return parseObservations(env.EventBody, queueID, at)
}

// acc accumulates the rows of one metric within one group.
type acc struct {
	count, sum             float64
	numerator, denominator float64
	ratio, target          float64
	hasDen, hasRatio       bool
	calc                   float64 // largest calculatedMetricValue
	byQualifier            map[string]float64
}

// add adds one row's statistics.
func (a *acc) add(qualifier string, stats map[string]float64) {
	a.count += stats["count"]
	a.sum += stats["sum"]
	a.numerator += stats["numerator"]
	if v, ok := stats["denominator"]; ok {
		a.denominator += v
		a.hasDen = true
	}
	if v, ok := stats["ratio"]; ok {
		a.ratio, a.hasRatio = v, true
	}
	if v := stats["target"]; v > 0 {
		a.target = v
	}
	a.calc = max(a.calc, stats["calculatedMetricValue"])
	if qualifier != "" {
		if a.byQualifier == nil {
			a.byQualifier = map[string]float64{}
		}
		a.byQualifier[qualifier] += stats["count"]
	}
}

// group is the accumulated metrics of one queue and media type.
type group map[string]*acc

// row adds one row of a metric.
func (g group) row(name, qualifier string, stats map[string]float64) {
	a := g[name]
	if a == nil {
		a = &acc{}
		g[name] = a
	}
	a.add(qualifier, stats)
}

// longestWait converts an oLongestWaiting value into seconds at time at:
// values above 10^12 are the epoch milliseconds of the oldest waiting
// interaction, smaller ones a duration in milliseconds.
func longestWait(v float64, at time.Time) float64 {
	if v <= 0 {
		return 0
	}
	if v > 1e12 {
		v = float64(at.UnixMilli()) - v
	}
	return max(v, 0) / 1000
}

// waitFigure returns the longest wait of a group and whether it is known:
// from oLongestWaiting, or zero when oWaiting says nobody waits.
func (g group) waitFigure(at time.Time) (float64, bool) {
	if a := g["oLongestWaiting"]; a != nil {
		return longestWait(a.calc, at), true
	}
	if a := g["oWaiting"]; a != nil && a.count == 0 {
		return 0, true
	}
	return 0, false
}

// interactionSamples returns the per-media samples of a group.
func (g group) interactionSamples(mk func(metric.Name, float64) metric.Sample, at time.Time) []metric.Sample {
	var out []metric.Sample
	for _, c := range []struct {
		from string
		to   metric.Name
	}{{"oWaiting", metric.Waiting}, {"oInteracting", metric.Interacting}, {"oAlerting", metric.Alerting}} {
		if a := g[c.from]; a != nil {
			out = append(out, mk(c.to, a.count))
		}
	}
	if v, ok := g.waitFigure(at); ok {
		out = append(out, mk(metric.LongestWait, v))
	}
	offered := g["nOffered"]
	if offered != nil {
		out = append(out, mk(metric.Offered, offered.count))
	}
	if a := g["oServiceLevel"]; a != nil {
		switch {
		case a.hasDen && a.denominator > 0:
			out = append(out, mk(metric.ServiceLevel, min(100, 100*a.numerator/a.denominator)))
		case !a.hasDen && a.hasRatio:
			out = append(out, mk(metric.ServiceLevel, min(100, 100*a.ratio)))
		}
		if a.target > 0 {
			out = append(out, mk(metric.ServiceLevelTarget, min(100, 100*a.target)))
		}
	} else if a := g["oServiceTarget"]; a != nil && a.target > 0 {
		out = append(out, mk(metric.ServiceLevelTarget, min(100, 100*a.target)))
	}
	if offered != nil && offered.count > 0 {
		var abandoned float64
		if a := g["tAbandon"]; a != nil {
			abandoned = a.count
		}
		out = append(out, mk(metric.AbandonRate, min(100, 100*abandoned/offered.count)))
	}
	if a := g["tAnswered"]; a != nil && a.count > 0 {
		out = append(out, mk(metric.ASA, a.sum/a.count/1000))
	}
	return out
}

// agentSamples returns the per-queue agent samples of a group.
func (g group) agentSamples(mk func(metric.Name, float64) metric.Sample) []metric.Sample {
	var out []metric.Sample
	onQueue, statuses := g["oOnQueueUsers"], g["oUserRoutingStatuses"]
	switch {
	case onQueue != nil:
		out = append(out, mk(metric.OnQueueAgents, onQueue.count))
	case statuses != nil:
		var n float64
		for q, c := range statuses.byQualifier {
			if q != "OFF_QUEUE" {
				n += c
			}
		}
		out = append(out, mk(metric.OnQueueAgents, n))
	}
	// Zero-count qualifier rows are omitted, so a missing IDLE row is zero.
	switch {
	case statuses != nil:
		out = append(out, mk(metric.AvailableAgents, statuses.byQualifier["IDLE"]))
	case onQueue != nil:
		out = append(out, mk(metric.AvailableAgents, onQueue.byQualifier["IDLE"]))
	}
	return out
}

// sampler builds samples of one queue at one time.
func sampler(queueID, media string, at time.Time) func(metric.Name, float64) metric.Sample {
	return func(m metric.Name, v float64) metric.Sample {
		return metric.Sample{QueueID: queueID, MediaType: media, Metric: m, Value: v, At: at, Source: metric.SourceWebhook}
	}
}
