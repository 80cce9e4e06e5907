package genesys

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/sim"
)

// Topic name parts of the analytics queue topics.
const (
	queueTopicPrefix = "v2.analytics.queues."
	// eventInterval is the interval of the aggregates in observation
	// events.
	eventInterval = 30 * time.Minute
)

// parseQueueTopic splits v2.analytics.queues.{id}.observations|activity.
func parseQueueTopic(t string) (id, kind string, ok bool) {
	rest, ok := strings.CutPrefix(t, queueTopicPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", "", false
	}
	id, kind = rest[:i], rest[i+1:]
	return id, kind, kind == "observations" || kind == "activity"
}

// eventsLocked builds the events of every connected channel's topics whose
// figures changed since the last push, at most one per topic per second.
func (s *Server) eventsLocked() []outgoing {
	now := s.clock.Now()
	var out []outgoing
	bodies := map[string][]byte{} // per topic, built once
	for _, c := range s.channels {
		if c.sock == nil {
			continue
		}
		for _, t := range c.topics {
			body, ok := bodies[t]
			if !ok {
				body = s.eventBodyLocked(t, now)
				bodies[t] = body
			}
			if body == nil {
				continue
			}
			last, sent := c.last[t]
			if sent && (bytes.Equal(last.body, body) || now.Sub(last.at) < time.Second) {
				continue
			}
			c.last[t] = pushed{body: body, at: now}
			out = append(out, outgoing{sc: c.sock, msg: envelope(t, json.RawMessage(body))})
		}
	}
	return out
}

// eventBodyLocked returns the event body of a queue topic, or nil.
func (s *Server) eventBodyLocked(topic string, now time.Time) []byte {
	id, kind, ok := parseQueueTopic(topic)
	if !ok {
		return nil
	}
	st, ok := s.sim.Queue(id)
	if !ok {
		return nil
	}
	var body any
	if kind == "activity" {
		body = activityBody(st, now)
	} else {
		body = s.observationBodyLocked(st, now)
	}
	b, _ := json.Marshal(body)
	return b
}

// activityBody is a V2QueueObservationObservationCountNotification for
// the queue's media type.
func activityBody(st sim.QueueState, now time.Time) any {
	longest := map[string]any{"metric": "oLongestWaiting", "count": st.Waiting}
	if st.Waiting > 0 {
		longest["calculatedMetricValue"] = now.Add(-st.LongestWait).UnixMilli()
	}
	return map[string]any{"results": []any{map[string]any{
		"mediaType": st.MediaType,
		"data": []any{
			map[string]any{"metric": "oWaiting", "count": st.Waiting},
			map[string]any{"metric": "oInteracting", "count": st.Interacting},
			map[string]any{"metric": "oAlerting", "count": st.Alerting},
			longest,
		},
	}}}
}

// observationBodyLocked is a StatEventQueueTopicStatsNotification: the
// queue's current observations and its aggregates over the current 30-min
// interval, grouped by queue and media type.
func (s *Server) observationBodyLocked(st sim.QueueState, now time.Time) any {
	start := now.Truncate(eventInterval)
	type m = map[string]any
	metrics := []any{
		m{"metric": "oWaiting", "stats": m{"count": st.Waiting}},
		m{"metric": "oInteracting", "stats": m{"count": st.Interacting}},
		m{"metric": "oAlerting", "stats": m{"count": st.Alerting}},
	}
	for _, r := range userGroup(st, []string{"oOnQueueUsers", "oUserRoutingStatuses"}).Data {
		metrics = append(metrics, m{"metric": r.Metric, "qualifier": r.Qualifier, "stats": r.Stats})
	}
	qi, _ := s.queueByID(st.ID)
	d := diffTotals(st.Totals, s.totalsAtLocked(st.ID, start))
	for _, a := range aggMetrics(d, qi, []string{"nOffered", "tAnswered", "tAbandon", "nOverSla", "oServiceLevel"}) {
		metrics = append(metrics, a)
	}
	iv := start.UTC().Format("2006-01-02T15:04:05.000Z") + "/" + start.Add(eventInterval).UTC().Format("2006-01-02T15:04:05.000Z")
	return m{
		"group": m{"queueId": st.ID, "mediaType": st.MediaType},
		"data":  []any{m{"interval": iv, "metrics": metrics}},
	}
}
