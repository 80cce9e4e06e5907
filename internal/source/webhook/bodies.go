package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// groupKey is the group of an observations or activity result.
type groupKey struct {
	QueueID   json.RawMessage `json:"queueId"`
	MediaType json.RawMessage `json:"mediaType"`
}

// resolve returns the group's queue id (the topic's when absent) and media
// type, checking that the two queue ids agree.
func (k groupKey) resolve(topicQueue, path string) (queueID, media string, err error) {
	queueID, err = asString(k.QueueID, path+".queueId")
	if err != nil {
		return "", "", err
	}
	if queueID == "" {
		queueID = topicQueue
	} else if queueID != topicQueue {
		return "", "", fmt.Errorf("field %s.queueId: %s is not the topic's queue %s", path, quote(queueID), quote(topicQueue))
	}
	media, err = asString(k.MediaType, path+".mediaType")
	return queueID, normMedia(media), err
}

// parseObservations reads a v2.analytics.queues.{id}.observations body: one
// group {queueId, mediaType} with data[] of intervals holding metrics[]. A
// metric's rows (one per qualifier) are summed; a later interval replaces
// an earlier one's figure of the same metric.
func parseObservations(raw json.RawMessage, topicQueue string, at time.Time) ([]metric.Sample, error) {
	var body struct {
		Group *groupKey `json:"group"`
		Data  []struct {
			Metrics []struct {
				Metric    string             `json:"metric"`
				Qualifier string             `json:"qualifier"`
				Stats     map[string]float64 `json:"stats"`
			} `json:"metrics"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, errors.New(jsonReason(err, "eventBody."))
	}
	queueID, media := topicQueue, ""
	if body.Group != nil {
		var err error
		if queueID, media, err = body.Group.resolve(topicQueue, "eventBody.group"); err != nil {
			return nil, err
		}
	}
	g := group{}
	for _, d := range body.Data {
		latest := group{}
		for _, m := range d.Metrics {
			latest.row(m.Metric, m.Qualifier, m.Stats)
		}
		for name, a := range latest {
			g[name] = a
		}
	}
	out := g.interactionSamples(sampler(queueID, media, at), at)
	return append(out, g.agentSamples(sampler(queueID, "", at))...), nil
}

// parseActivity reads a v2.analytics.queues.{id}.activity body: results[]
// per media type with data[] rows {metric, qualifier, count,
// calculatedMetricValue}. Besides the per-media samples it returns queue
// totals: the sums of the counts and the largest longest wait. A result
// without a media type is taken as the queue total itself.
func parseActivity(raw json.RawMessage, topicQueue string, at time.Time) ([]metric.Sample, error) {
	var body struct {
		Results *[]struct {
			MediaType json.RawMessage `json:"mediaType"`
			Group     *groupKey       `json:"group"`
			Data      []struct {
				Metric                string   `json:"metric"`
				Qualifier             string   `json:"qualifier"`
				Count                 *float64 `json:"count"`
				CalculatedMetricValue *float64 `json:"calculatedMetricValue"`
			} `json:"data"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, errors.New(jsonReason(err, "eventBody."))
	}
	if body.Results == nil {
		return nil, errors.New("missing field eventBody.results")
	}
	var out, totals []metric.Sample
	sum := group{}
	waitMax, waitKnown, haveTotal := 0.0, true, false
	for i, r := range *body.Results {
		path := fmt.Sprintf("eventBody.results[%d]", i)
		key := groupKey{QueueID: nil, MediaType: r.MediaType}
		if r.Group != nil {
			key.QueueID = r.Group.QueueID
			if isNull(key.MediaType) {
				key.MediaType = r.Group.MediaType
			}
		}
		queueID, media, err := key.resolve(topicQueue, path)
		if err != nil {
			return nil, err
		}
		g := group{}
		for _, d := range r.Data {
			stats := map[string]float64{}
			if d.Count != nil {
				stats["count"] = *d.Count
			}
			if d.CalculatedMetricValue != nil {
				stats["calculatedMetricValue"] = *d.CalculatedMetricValue
			}
			g.row(d.Metric, d.Qualifier, stats)
		}
		samples := g.interactionSamples(sampler(queueID, media, at), at)
		if media == "" {
			haveTotal = true
			totals = append(totals, samples...)
			continue
		}
		out = append(out, samples...)
		for _, name := range []string{"oWaiting", "oInteracting", "oAlerting"} {
			if a := g[name]; a != nil {
				sum.row(name, "", map[string]float64{"count": a.count})
			}
		}
		if v, ok := g.waitFigure(at); ok {
			waitMax = max(waitMax, v)
		} else if a := g["oWaiting"]; a != nil {
			waitKnown = false // someone waits, for an unknown time
		}
	}
	if haveTotal || len(out) == 0 {
		return append(out, totals...), nil
	}
	mk := sampler(topicQueue, "", at)
	for _, c := range []struct {
		from string
		to   metric.Name
	}{{"oWaiting", metric.Waiting}, {"oInteracting", metric.Interacting}, {"oAlerting", metric.Alerting}} {
		if a := sum[c.from]; a != nil {
			out = append(out, mk(c.to, a.count))
		}
	}
	if waitKnown && hasWait(out) {
		out = append(out, mk(metric.LongestWait, waitMax))
	}
	return out, nil
}

// hasWait reports whether per-media samples include a longest wait.
func hasWait(samples []metric.Sample) bool {
	for _, s := range samples {
		if s.Metric == metric.LongestWait {
			return true
		}
	}
	return false
}
