package genesys

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/sim"
)

// snapshot is every queue's cumulative totals at one clock time.
type snapshot struct {
	at     time.Time
	totals map[string]sim.Totals
}

// snapshotLocked records the totals if SnapshotEvery has passed since the
// last snapshot (or always when force), and drops history beyond History.
func (s *Server) snapshotLocked(force bool) {
	now := s.clock.Now()
	if n := len(s.history); !force && n > 0 && now.Sub(s.history[n-1].at) < s.opts.SnapshotEvery {
		return
	}
	snap := snapshot{at: now, totals: make(map[string]sim.Totals, len(s.queues))}
	for _, st := range s.sim.Snapshot() {
		snap.totals[st.ID] = st.Totals
	}
	if n := len(s.history); n > 0 && !now.After(s.history[n-1].at) {
		s.history[n-1] = snap
	} else {
		s.history = append(s.history, snap)
	}
	cut := 0
	for cut < len(s.history)-1 && s.history[cut+1].at.Before(now.Add(-s.opts.History)) {
		cut++
	}
	s.history = s.history[cut:]
}

// totalsAtLocked returns a queue's totals at time t: those of the latest
// snapshot not after t (the oldest when t is before the history), or the
// live ones when t is now or later.
func (s *Server) totalsAtLocked(id string, t time.Time) sim.Totals {
	if !t.Before(s.clock.Now()) {
		st, _ := s.sim.Queue(id)
		return st.Totals
	}
	best := s.history[0]
	for _, h := range s.history {
		if h.at.After(t) {
			break
		}
		best = h
	}
	return best.totals[id]
}

// aggregateMetrics are the conversation aggregate metrics accepted.
var aggregateMetrics = map[string]bool{
	"nOffered": true, "tAnswered": true, "tAbandon": true, "tShortAbandon": true, "tWait": true,
	"tAcd": true, "tHandle": true, "tTalk": true, "tAcw": true, "tFlowOut": true, "nOverSla": true,
	"oServiceLevel": true, "oServiceTarget": true, "nTransferred": true, "nConnected": true,
	"tAlert": true, "tHeld": true, "nBlindTransferred": true, "nConsultTransferred": true,
	"tTalkComplete": true, "tHeldComplete": true, "tAcwComplete": true, "nOutbound": true,
}

// aggregateDims are the groupBy/filter dimensions accepted (a subset of
// the ~90 real ones).
var aggregateDims = map[string]bool{
	"queueId": true, "mediaType": true, "direction": true, "divisionId": true, "userId": true,
	"conversationId": true, "wrapUpCode": true, "requestedRoutingSkillId": true, "originatingDirection": true,
	"purpose": true, "ani": true, "dnis": true, "edgeId": true, "flowId": true, "teamId": true,
}

// aggQuery is a ConversationAggregationQuery.
type aggQuery struct {
	Interval    string       `json:"interval"`
	Granularity string       `json:"granularity"`
	TimeZone    string       `json:"timeZone"`
	GroupBy     []string     `json:"groupBy"`
	Filter      *queryFilter `json:"filter"`
	Metrics     []string     `json:"metrics"`
}

var granularityRE = regexp.MustCompile(`^PT(\d+)([MH])$|^P(\d+)D$`)

// parseInterval reads "start/end" in ISO-8601.
func parseInterval(s string) (time.Time, time.Time, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q is not start/end", s)
	}
	start, err1 := time.Parse(time.RFC3339Nano, a)
	end, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q is not two ISO-8601 times", s)
	}
	if !end.After(start) {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q ends before it starts", s)
	}
	return start, end, nil
}

// serveAggregates is POST /api/v2/analytics/conversations/aggregates/query.
func (s *Server) serveAggregates(w http.ResponseWriter, r *http.Request) {
	var q aggQuery
	if !decodeJSON(w, r, &q) {
		return
	}
	bad := func(code, msg string) { writeError(w, r, http.StatusBadRequest, code, msg) }
	if q.Interval == "" {
		bad("bad.request", "interval is required")
		return
	}
	start, end, err := parseInterval(q.Interval)
	if err != nil {
		bad("invalid.date", err.Error())
		return
	}
	if len(q.Metrics) == 0 {
		bad("bad.request", "metrics is required")
		return
	}
	for _, m := range q.Metrics {
		if !aggregateMetrics[m] {
			bad("bad.request", fmt.Sprintf("metrics: %q is not a valid conversation aggregate metric", m))
			return
		}
	}
	for _, g := range q.GroupBy {
		if !aggregateDims[g] {
			bad("bad.request", fmt.Sprintf("groupBy: %q is not a valid dimension", g))
			return
		}
	}
	step := end.Sub(start)
	if q.Granularity != "" {
		m := granularityRE.FindStringSubmatch(q.Granularity)
		if m == nil {
			bad("bad.request", fmt.Sprintf("granularity %q is not a supported ISO-8601 period", q.Granularity))
			return
		}
		switch {
		case m[2] == "M":
			n, _ := strconv.Atoi(m[1])
			step = time.Duration(n) * time.Minute
		case m[2] == "H":
			n, _ := strconv.Atoi(m[1])
			step = time.Duration(n) * time.Hour
		default:
			n, _ := strconv.Atoi(m[3])
			step = time.Duration(n) * 24 * time.Hour
		}
		if step <= 0 {
			bad("bad.request", "granularity must be positive")
			return
		}
	}
	var vals filterValues
	if q.Filter != nil {
		if vals, err = q.Filter.check(aggregateDims); err != nil {
			bad("bad.request", err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": s.aggregate(q, vals, start, end, step)})
}

// aggregate computes the results of a valid query.
func (s *Server) aggregate(q aggQuery, vals filterValues, start, end time.Time, step time.Duration) []map[string]any {
	ids := unique(vals["queueId"])
	if len(ids) == 0 {
		for _, qi := range s.queues {
			ids = append(ids, qi.ID)
		}
	}
	byQueue, byMedia := contains(q.GroupBy, "queueId"), contains(q.GroupBy, "mediaType")
	results := []map[string]any{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		qi, ok := s.queueByID(id)
		if !ok || (len(vals["mediaType"]) > 0 && !contains(vals["mediaType"], qi.MediaType)) {
			continue
		}
		var data []map[string]any
		for from := start; from.Before(end); from = from.Add(step) {
			to := from.Add(step)
			if to.After(end) {
				to = end
			}
			d := diffTotals(s.totalsAtLocked(id, to), s.totalsAtLocked(id, from))
			if ms := aggMetrics(d, qi, q.Metrics); len(ms) > 0 {
				iv := from.UTC().Format("2006-01-02T15:04:05.000Z") + "/" + to.UTC().Format("2006-01-02T15:04:05.000Z")
				data = append(data, map[string]any{"interval": iv, "metrics": ms})
			}
		}
		if len(data) == 0 {
			continue // groups with no data are left out
		}
		group := map[string]string{}
		if byQueue {
			group["queueId"] = id
		}
		if byMedia {
			group["mediaType"] = qi.MediaType
		}
		results = append(results, map[string]any{"group": group, "data": data})
	}
	return results
}

func diffTotals(a, b sim.Totals) sim.Totals {
	return sim.Totals{
		Offered: a.Offered - b.Offered, Answered: a.Answered - b.Answered,
		AnsweredInTarget: a.AnsweredInTarget - b.AnsweredInTarget, Abandoned: a.Abandoned - b.Abandoned,
		Completed: a.Completed - b.Completed, AnswerWait: a.AnswerWait - b.AnswerWait,
		AbandonWait: a.AbandonWait - b.AbandonWait, Handle: a.Handle - b.Handle,
	}
}

// aggMetrics renders the requested metrics of one interval; metrics with
// no data are left out, as Genesys does. oServiceLevel is derived with the
// default switches: (answered − nOverSla) / (answered + abandoned).
func aggMetrics(d sim.Totals, qi queueInfo, metrics []string) []map[string]any {
	var out []map[string]any
	add := func(name string, stats map[string]any) {
		out = append(out, map[string]any{"metric": name, "stats": stats})
	}
	over := d.Answered - d.AnsweredInTarget
	for _, m := range metrics {
		switch m {
		case "nOffered":
			if d.Offered > 0 {
				add(m, map[string]any{"count": d.Offered})
			}
		case "tAnswered":
			if d.Answered > 0 {
				add(m, map[string]any{"count": d.Answered, "sum": d.AnswerWait.Milliseconds()})
			}
		case "tAbandon":
			if d.Abandoned > 0 {
				add(m, map[string]any{"count": d.Abandoned, "sum": d.AbandonWait.Milliseconds()})
			}
		case "tWait":
			if n := d.Answered + d.Abandoned; n > 0 {
				add(m, map[string]any{"count": n, "sum": (d.AnswerWait + d.AbandonWait).Milliseconds()})
			}
		case "tHandle":
			if d.Completed > 0 {
				add(m, map[string]any{"count": d.Completed, "sum": d.Handle.Milliseconds()})
			}
		case "nOverSla":
			if over > 0 {
				add(m, map[string]any{"count": over})
			}
		case "oServiceLevel":
			if den := d.Answered + d.Abandoned; den > 0 {
				num := d.Answered - over
				add(m, map[string]any{"numerator": num, "denominator": den,
					"ratio": float64(num) / float64(den), "target": qi.Target / 100})
			}
		case "oServiceTarget":
			add(m, map[string]any{"target": qi.Target / 100})
		}
	}
	return out
}
