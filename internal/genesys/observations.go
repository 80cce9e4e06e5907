package genesys

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// MaxQueuesPerQuery is how many queue ids one analytics query carries.
// Genesys documents no maximum; real clients use 100.
const MaxQueuesPerQuery = 100

// observationMetrics are the metrics QueueObservations asks for.
var observationMetrics = []string{
	"oWaiting", "oInteracting", "oAlerting", "oLongestWaiting",
	"oOnQueueUsers", "oOffQueueUsers", "oActiveUsers", "oMemberUsers", "oUserRoutingStatuses",
}

// predicate is an analytics query filter predicate.
type predicate struct {
	Type      string `json:"type,omitempty"`
	Dimension string `json:"dimension"`
	Operator  string `json:"operator,omitempty"`
	Value     string `json:"value"`
}

// filter is an analytics query filter.
type filter struct {
	Type       string      `json:"type"`
	Predicates []predicate `json:"predicates,omitempty"`
}

func queueFilter(ids []string) filter {
	f := filter{Type: "or"}
	for _, id := range ids {
		f.Predicates = append(f.Predicates, predicate{Dimension: "queueId", Value: id})
	}
	return f
}

// observationQuery is the body of an observations query.
type observationQuery struct {
	Filter        filter   `json:"filter"`
	Metrics       []string `json:"metrics"`
	DetailMetrics []string `json:"detailMetrics,omitempty"`
}

// analyticsGroup is a results[] entry of an analytics answer.
type analyticsGroup struct {
	Group map[string]string `json:"group"`
	Data  []row             `json:"data"`
}

// observationAnswer is QueueObservationQueryResponse.
type observationAnswer struct {
	Results []analyticsGroup `json:"results"`
}

// QueueObservations returns the current figures of the given queues from
// POST /api/v2/analytics/queues/observations/query, at most 100 queue ids
// per request. Per-media rows are summed into queue totals (also kept per
// media type), routing-status rows into agent totals; rows and queues
// Genesys leaves out count as zero; oLongestWaiting is turned into an age
// whether it comes as an epoch timestamp or a duration. Every requested
// queue is in the report, in order. On an error the report holds the
// chunks answered before it.
//
// If the server refuses oLongestWaiting (older deployments), the client
// falls back for good to detailMetrics oWaiting and takes the longest wait
// from the oldest observation.
func (c *Client) QueueObservations(ctx context.Context, queueIDs []string) (Report, error) {
	r := Report{Source: metric.SourcePoll}
	for start := 0; start < len(queueIDs); start += MaxQueuesPerQuery {
		ids := queueIDs[start:min(start+MaxQueuesPerQuery, len(queueIDs))]
		ans, sent, err := c.observe(ctx, ids)
		if err != nil {
			return r, fmt.Errorf("genesys: queue observations: %w", err)
		}
		r.At = sent
		r.Queues = append(r.Queues, c.observationStats(ids, ans, r.At)...)
	}
	return r, nil
}

// observe sends one observations query.
func (c *Client) observe(ctx context.Context, ids []string) (observationAnswer, time.Time, error) {
	q := observationQuery{Filter: queueFilter(ids), Metrics: observationMetrics}
	if c.longestFromDetails.Load() {
		q.Metrics, q.DetailMetrics = withoutLongest(), []string{"oWaiting"}
	}
	var ans observationAnswer
	var sent time.Time
	err := c.do(ctx, call{endpoint: EndpointObservations, method: http.MethodPost,
		path: "/api/v2/analytics/queues/observations/query", body: q, out: &ans, sent: &sent})
	if StatusOf(err) == http.StatusBadRequest && !c.longestFromDetails.Load() {
		c.log.Warn("genesys: observation query refused; retrying without oLongestWaiting", "error", err)
		c.longestFromDetails.Store(true)
		q.Metrics, q.DetailMetrics = withoutLongest(), []string{"oWaiting"}
		ans = observationAnswer{}
		err = c.do(ctx, call{endpoint: EndpointObservations, method: http.MethodPost,
			path: "/api/v2/analytics/queues/observations/query", body: q, out: &ans, sent: &sent})
		if err != nil {
			c.longestFromDetails.Store(false)
		}
	}
	return ans, sent, err
}

func withoutLongest() []string {
	var out []string
	for _, m := range observationMetrics {
		if m != "oLongestWaiting" {
			out = append(out, m)
		}
	}
	return out
}

// observationStats turns an answer into per-queue figures for ids.
func (c *Client) observationStats(ids []string, ans observationAnswer, now time.Time) []QueueStats {
	return c.groupStats(ids, ans.Results, now, observationFigures, true)
}

// groupStats accumulates analytics groups per queue and returns the
// figures of every id, in order; complete figures (and agents, when
// agents is true) count as reported zero for queues Genesys left out.
func (c *Client) groupStats(ids []string, groups []analyticsGroup, now time.Time, complete figure, agents bool) []QueueStats {
	accs := make(map[string]*queueAcc, len(ids))
	for _, id := range ids {
		accs[id] = &queueAcc{}
	}
	for _, g := range groups {
		qa, ok := accs[g.Group["queueId"]]
		if !ok {
			continue
		}
		var ga groupAcc
		for _, r := range g.Data {
			// Rows with statistics no metric can have (negative, NaN,
			// astronomically large) are left out, as in events.
			if checkStats(r.Stats, func() string { return r.Metric }) != nil {
				continue
			}
			ga.add(r, now)
		}
		qa.addGroup(g.Group["mediaType"], &ga)
	}
	out := make([]QueueStats, 0, len(ids))
	for _, id := range ids {
		s := accs[id].stats(id, complete)
		if agents {
			s.Agents.Reported = true
		}
		c.annotate(&s)
		out = append(out, s)
	}
	return out
}

// annotate fills the queue name and missing targets from the directory.
func (c *Client) annotate(s *QueueStats) {
	q, ok := c.KnownQueue(s.QueueID)
	if !ok {
		return
	}
	s.QueueName = q.Name
	if s.Total.has&figServiceLevel == 0 {
		return
	}
	for m, f := range s.Media {
		if t, ok := q.Targets[m]; ok && f.has&figTarget == 0 && f.has&figServiceLevel != 0 {
			f.SLTarget, f.has = t.Percent/100, f.has|figTarget
			s.Media[m] = f
		}
	}
	if s.Total.has&figTarget == 0 {
		if len(s.Media) > 0 {
			prev := s.Total.has
			s.Total = sumFigures(s.Media)
			s.Total.has |= prev
		}
		if s.Total.has&figTarget == 0 {
			if t, ok := q.Target(""); ok {
				s.Total.SLTarget, s.Total.has = t.Percent/100, s.Total.has|figTarget
			}
		}
	}
}
