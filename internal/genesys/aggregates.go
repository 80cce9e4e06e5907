package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// aggregateMetrics are the metrics ConversationAggregates asks for.
var aggregateMetrics = []string{"nOffered", "tAnswered", "tAbandon", "nOverSla", "oServiceLevel"}

// aggregateQuery is a ConversationAggregationQuery.
type aggregateQuery struct {
	Interval string   `json:"interval"`
	GroupBy  []string `json:"groupBy"`
	Filter   filter   `json:"filter"`
	Metrics  []string `json:"metrics"`
}

// aggregateAnswer is a ConversationAggregateQueryResponse.
type aggregateAnswer struct {
	Results []struct {
		Group map[string]string `json:"group"`
		Data  []struct {
			Interval string `json:"interval"`
			Metrics  []row  `json:"metrics"`
		} `json:"data"`
	} `json:"results"`
}

// ConversationAggregates returns each queue's interval figures over iv
// from POST /api/v2/analytics/conversations/aggregates/query, grouped by
// queue and media type, at most 100 queue ids per request: offered
// (nOffered), answered and ASA (tAnswered), abandoned (tAbandon) and the
// service level Genesys computes (oServiceLevel, with the org's switches
// and the queue's target). Queue totals sum numerators and denominators
// across media types. Queues with no traffic are reported with zero
// counts and a service level of 100. Targets missing from the answer come
// from the queue directory (ListQueues, GetQueue). On an error the report
// holds the chunks answered before it.
func (c *Client) ConversationAggregates(ctx context.Context, queueIDs []string, iv Interval) (Report, error) {
	r := Report{Interval: iv, Source: metric.SourcePoll}
	if !iv.End.After(iv.Start) {
		return r, errors.New("genesys: conversation aggregates: the interval must end after it starts")
	}
	for start := 0; start < len(queueIDs); start += MaxQueuesPerQuery {
		ids := queueIDs[start:min(start+MaxQueuesPerQuery, len(queueIDs))]
		q := aggregateQuery{
			Interval: iv.String(),
			GroupBy:  []string{"queueId", "mediaType"},
			Filter:   queueFilter(ids),
			Metrics:  aggregateMetrics,
		}
		var ans aggregateAnswer
		var sent time.Time
		if err := c.do(ctx, call{endpoint: EndpointAggregates, method: http.MethodPost,
			path: "/api/v2/analytics/conversations/aggregates/query", body: q, out: &ans, sent: &sent}); err != nil {
			return r, fmt.Errorf("genesys: conversation aggregates: %w", err)
		}
		r.At = sent
		groups := make([]analyticsGroup, 0, len(ans.Results))
		for _, res := range ans.Results {
			g := analyticsGroup{Group: res.Group}
			for _, d := range res.Data {
				g.Data = append(g.Data, d.Metrics...)
			}
			groups = append(groups, g)
		}
		r.Queues = append(r.Queues, c.groupStats(ids, groups, r.At, aggregateFigures, false)...)
	}
	return r, nil
}
