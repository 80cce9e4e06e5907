package genesys

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/queuewatch/queuewatch/internal/sim"
)

// analyticsMedia are the media types observation results are grouped by.
var analyticsMedia = []string{"voice", "chat", "message", "email", "callback"}

// Observation metrics of the queue observations query.
var (
	userMetrics        = []string{"oActiveUsers", "oMemberUsers", "oOffQueueUsers", "oOnQueueUsers", "oUserPresences", "oUserRoutingStatuses"}
	interactionMetrics = []string{"oAlerting", "oInteracting", "oLongestInteracting", "oLongestWaiting", "oWaiting"}
	observationDims    = map[string]bool{"queueId": true, "mediaType": true}
)

// Organization presence ids of the fake org, by system presence.
var orgPresences = map[string]string{
	"ON_QUEUE":  "e08eaf1b-ee47-4fa9-a231-1200e284798f",
	"AVAILABLE": "6a3af858-942f-489d-9700-5f9bcdcdae9b",
	"OFFLINE":   "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
}

// obsQuery is a QueueObservationQuery.
type obsQuery struct {
	Filter        *queryFilter `json:"filter"`
	Metrics       []string     `json:"metrics"`
	DetailMetrics []string     `json:"detailMetrics"`
}

// obsRow is an ObservationMetricData.
type obsRow struct {
	Metric       string           `json:"metric"`
	Qualifier    string           `json:"qualifier,omitempty"`
	Stats        map[string]int64 `json:"stats"`
	Truncated    *bool            `json:"truncated,omitempty"`
	Observations []map[string]any `json:"observations,omitempty"`
}

// obsGroup is a QueueObservationDataContainer.
type obsGroup struct {
	Group map[string]string `json:"group"`
	Data  []obsRow          `json:"data"`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkObsQuery validates a query as the real endpoint does.
func (s *Server) checkObsQuery(q obsQuery) (filterValues, error) {
	if q.Filter == nil {
		return nil, fmt.Errorf("filter is required")
	}
	if len(q.Metrics) == 0 {
		return nil, fmt.Errorf("metrics is required")
	}
	all := append(append([]string(nil), userMetrics...), interactionMetrics...)
	for _, m := range q.Metrics {
		if !contains(all, m) || (s.opts.RefuseLongestWaiting && m == "oLongestWaiting") {
			return nil, fmt.Errorf("metrics: %q is not a valid observation metric", m)
		}
	}
	for _, m := range q.DetailMetrics {
		if !contains(all, m) || m == "oLongestWaiting" || m == "oLongestInteracting" {
			return nil, fmt.Errorf("detailMetrics: %q is not a valid detail metric", m)
		}
	}
	vals, err := q.Filter.check(observationDims)
	if err != nil {
		return nil, err
	}
	ids := unique(vals["queueId"])
	if len(ids) == 0 {
		return nil, fmt.Errorf("filter must select at least one queueId")
	}
	if s.opts.MaxQueuesPerQuery > 0 && len(ids) > s.opts.MaxQueuesPerQuery {
		return nil, fmt.Errorf("filter selects %d queues; at most %d are allowed", len(ids), s.opts.MaxQueuesPerQuery)
	}
	return vals, nil
}

// serveObservations is POST /api/v2/analytics/queues/observations/query.
func (s *Server) serveObservations(w http.ResponseWriter, r *http.Request) {
	var q obsQuery
	if !decodeJSON(w, r, &q) {
		return
	}
	vals, err := s.checkObsQuery(q)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad.request", err.Error())
		return
	}
	media := analyticsMedia
	if ms := vals["mediaType"]; len(ms) > 0 {
		media = unique(ms)
	}
	now := s.clock.Now()
	var results []obsGroup
	s.mu.Lock()
	for _, id := range unique(vals["queueId"]) {
		st, ok := s.sim.Queue(id)
		if !ok {
			continue
		}
		if g := userGroup(st, q.Metrics); len(g.Data) > 0 {
			results = append(results, g)
		}
		var its []sim.Interaction
		if len(q.DetailMetrics) > 0 {
			its = s.sim.Interactions(id)
		}
		for _, m := range media {
			g := obsGroup{Group: map[string]string{"queueId": id, "mediaType": m}}
			for _, metric := range q.Metrics {
				if contains(interactionMetrics, metric) {
					g.Data = append(g.Data, s.interactionRow(st, m, metric, contains(q.DetailMetrics, metric), its, now))
				}
			}
			if len(g.Data) > 0 {
				results = append(results, g)
			}
		}
	}
	s.mu.Unlock()
	mappings := map[string][]string{}
	for sys, id := range orgPresences {
		mappings[sys] = []string{id}
	}
	if results == nil {
		results = []obsGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"systemToOrganizationMappings": mappings, "results": results})
}

// userGroup returns the user metrics of a queue, grouped by queue only,
// with zero routing-status and presence rows left out as Genesys does.
func userGroup(st sim.QueueState, metrics []string) obsGroup {
	g := obsGroup{Group: map[string]string{"queueId": st.ID}}
	active := max(st.RosteredAgents, st.OnQueueAgents)
	busy := st.OnQueueAgents - st.AvailableAgents
	qualified := func(metric string, rows ...any) {
		for i := 0; i < len(rows); i += 2 {
			if n := rows[i+1].(int); n > 0 {
				g.Data = append(g.Data, obsRow{Metric: metric, Qualifier: rows[i].(string), Stats: map[string]int64{"count": int64(n)}})
			}
		}
	}
	for _, m := range metrics {
		switch m {
		case "oOnQueueUsers":
			qualified(m, "IDLE", st.AvailableAgents, "INTERACTING", busy)
		case "oUserRoutingStatuses":
			qualified(m, "IDLE", st.AvailableAgents, "INTERACTING", busy, "OFF_QUEUE", st.OffQueueAgents())
		case "oUserPresences":
			qualified(m, orgPresences["ON_QUEUE"], st.OnQueueAgents, orgPresences["AVAILABLE"], max(active-st.OnQueueAgents, 0),
				orgPresences["OFFLINE"], max(st.MemberAgents-active, 0))
		case "oOffQueueUsers":
			g.Data = append(g.Data, obsRow{Metric: m, Stats: map[string]int64{"count": int64(max(active-st.OnQueueAgents, 0))}})
		case "oActiveUsers":
			g.Data = append(g.Data, obsRow{Metric: m, Stats: map[string]int64{"count": int64(active)}})
		case "oMemberUsers":
			g.Data = append(g.Data, obsRow{Metric: m, Stats: map[string]int64{"count": int64(st.MemberAgents)}})
		}
	}
	return g
}

// interactionRow returns one interaction metric of a queue for one media
// type: the simulated figures for the queue's own media type, zero rows
// for the others. oLongest* carry the epoch milliseconds at which the
// oldest interaction entered its state, as live Genesys does.
func (s *Server) interactionRow(st sim.QueueState, media, metric string, details bool, its []sim.Interaction, now time.Time) obsRow {
	own := media == st.MediaType
	// clock maps a simulated instant onto the fake's clock.
	clock := func(t time.Time) time.Time { return now.Add(-st.At.Sub(t)) }
	var state sim.InteractionState
	count := 0
	switch metric {
	case "oWaiting", "oLongestWaiting":
		state, count = sim.StateWaiting, st.Waiting
	case "oInteracting", "oLongestInteracting":
		state, count = sim.StateInteracting, st.Interacting
	case "oAlerting":
		state, count = sim.StateAlerting, st.Alerting
	}
	if !own {
		count = 0
	}
	row := obsRow{Metric: metric, Stats: map[string]int64{"count": int64(count)}}
	var mine []sim.Interaction
	if own {
		for _, it := range its {
			if it.State == state {
				mine = append(mine, it)
			}
		}
	}
	switch metric {
	case "oLongestWaiting":
		if count > 0 {
			row.Stats["calculatedMetricValue"] = clock(st.OldestWaiting).UnixMilli()
		}
		return row
	case "oLongestInteracting":
		if count > 0 {
			oldest := st.At
			for _, it := range s.sim.Interactions(st.ID) {
				if it.State == sim.StateInteracting && it.Since.Before(oldest) {
					oldest = it.Since
				}
			}
			row.Stats["calculatedMetricValue"] = clock(oldest).UnixMilli()
		}
		return row
	}
	if !details {
		return row
	}
	dateOf := func(it sim.Interaction) time.Time {
		if state == sim.StateWaiting {
			return it.Entered
		}
		return it.Since
	}
	sort.SliceStable(mine, func(i, j int) bool { return dateOf(mine[i]).Before(dateOf(mine[j])) })
	truncated := false
	if n := s.opts.MaxObservations; len(mine) > n {
		mine = append(mine[:n/2:n/2], mine[len(mine)-(n-n/2):]...)
		truncated = true
	}
	row.Truncated = &truncated
	for _, it := range mine {
		at := dateOf(it)
		row.Observations = append(row.Observations, map[string]any{
			"observationDate": clock(at).UTC().Format("2006-01-02T15:04:05.000Z"),
			"conversationId":  it.ConversationID,
			"sessionId":       it.ConversationID,
			"routingPriority": 0,
			"direction":       "inbound",
		})
	}
	return row
}
