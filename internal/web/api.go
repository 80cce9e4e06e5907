package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/recent"
	"github.com/queuewatch/queuewatch/internal/store"
)

// boardMetrics are the metrics the board shows and charts, in column order.
var boardMetrics = []metric.Name{metric.ServiceLevel, metric.LongestWait, metric.Waiting, metric.AvailableAgents, metric.AbandonRate}

// boardPoints is how many points per metric /api/v1/queues sends for the
// sparklines: one every two minutes over the hour.
const boardPoints = 30

// stateRank orders states from quiet to loud, for a queue's overall state.
var stateRank = map[alert.State]int{alert.OK: 0, alert.Pending: 1, alert.Resolving: 2, alert.Firing: 3}

type seriesJSON struct {
	Key          string         `json:"key"`
	Rule         string         `json:"rule"`
	Metric       metric.Name    `json:"metric"`
	State        alert.State    `json:"state"`
	Since        time.Time      `json:"since"`
	Priority     alert.Priority `json:"priority,omitempty"`
	LastValue    float64        `json:"last_value"`
	LastSampleAt time.Time      `json:"last_sample_at,omitzero"`
	Threshold    float64        `json:"threshold"`
	Clear        float64        `json:"clear"`
	Direction    string         `json:"direction"` // below or above: which side breaches
	Held         string         `json:"held,omitempty"`
	Stale        bool           `json:"stale,omitempty"`
	Flapping     bool           `json:"flapping,omitempty"`
	WaitingFor   bool           `json:"waiting_for_target,omitempty"`
	EpisodeID    string         `json:"episode_id,omitempty"`
}

type queueJSON struct {
	QueueID   string                       `json:"queue_id"`
	QueueName string                       `json:"queue_name"`
	MediaType string                       `json:"media_type,omitempty"`
	State     alert.State                  `json:"state"`
	Priority  alert.Priority               `json:"priority,omitempty"`
	Values    map[metric.Name]float64      `json:"values"`
	UpdatedAt time.Time                    `json:"updated_at,omitzero"`
	Target    *float64                     `json:"service_level_target,omitempty"`
	Series    []seriesJSON                 `json:"series"`
	Silences  []string                     `json:"silenced_by"`
	History   map[metric.Name][][2]float64 `json:"history"`
}

// snapshot reads the engine's view of every series and queue.
func (s *Server) snapshot(ctx context.Context) ([]alert.SeriesView, []alert.QueueView, error) {
	return s.opts.Engine.Snapshot(ctx)
}

// direction says which side of a threshold breaches, from its clear value.
func direction(v alert.SeriesView) string {
	if v.Clear > v.Threshold {
		return "below"
	}
	if v.Clear < v.Threshold {
		return "above"
	}
	// Without hysteresis the metric's nature decides.
	if v.Metric == metric.ServiceLevel || v.Metric == metric.AvailableAgents || v.Metric == metric.OnQueueAgents {
		return "below"
	}
	return "above"
}

// buildQueues joins queues with their series; points caps the history per
// metric (0: all).
func (s *Server) buildQueues(series []alert.SeriesView, queues []alert.QueueView, points int) []queueJSON {
	type qk struct{ id, media string }
	bySeries := map[qk][]alert.SeriesView{}
	for _, sv := range series {
		k := qk{sv.QueueID, sv.MediaType}
		bySeries[k] = append(bySeries[k], sv)
	}
	now := s.now()
	out := make([]queueJSON, 0, len(queues))
	for _, q := range queues {
		qj := queueJSON{QueueID: q.QueueID, QueueName: q.QueueName, MediaType: q.MediaType, State: alert.OK,
			Values: map[metric.Name]float64{}, Series: []seriesJSON{}, Silences: []string{},
			History: map[metric.Name][][2]float64{}}
		for n, v := range q.Values {
			qj.Values[n] = v
			if at := q.At[n]; at.After(qj.UpdatedAt) {
				qj.UpdatedAt = at
			}
		}
		if t, ok := q.Values[metric.ServiceLevelTarget]; ok {
			qj.Target = &t
		}
		svs := bySeries[qk{q.QueueID, q.MediaType}]
		slices.SortFunc(svs, func(a, b alert.SeriesView) int { return strings.Compare(a.Key, b.Key) })
		for _, sv := range svs {
			sj := seriesJSON{Key: sv.Key, Rule: sv.Rule, Metric: sv.Metric, State: sv.State, Since: sv.Since,
				Priority: sv.Priority, LastValue: sv.LastValue, LastSampleAt: sv.LastSampleAt,
				Threshold: sv.Threshold, Clear: sv.Clear, Direction: direction(sv), Held: sv.Held,
				Stale: sv.Stale, Flapping: sv.Flapping, WaitingFor: sv.WaitingForTarget}
			if sv.Episode != nil {
				sj.EpisodeID = sv.Episode.ID
			}
			if qj.Target == nil && sv.HaveTarget {
				t := sv.Target
				qj.Target = &t
			}
			if stateRank[sv.State] > stateRank[qj.State] {
				qj.State = sv.State
			}
			if sv.State.Open() && sv.Priority != "" && (qj.Priority == "" || sv.Priority.Rank() < qj.Priority.Rank()) {
				qj.Priority = sv.Priority
			}
			qj.Series = append(qj.Series, sj)
		}
		if qj.State == alert.OK && !slices.ContainsFunc(boardMetrics, func(n metric.Name) bool { _, ok := q.Values[n]; return ok }) {
			continue // e.g. a media type with nothing but its service-level target
		}
		for _, sl := range s.opts.Silences.Active("", q.QueueID, q.QueueName, now) {
			qj.Silences = append(qj.Silences, sl.ID)
		}
		for _, n := range boardMetrics {
			pts := s.hist.Points(recent.Key(q.QueueID, q.MediaType, n))
			if points > 0 && len(pts) > points {
				pts = downsample(pts, points)
			}
			arr := make([][2]float64, len(pts))
			for i, p := range pts {
				arr[i] = [2]float64{float64(p.At.UnixMilli()), math.Round(p.V*100) / 100}
			}
			qj.History[n] = arr
		}
		out = append(out, qj)
	}
	slices.SortFunc(out, func(a, b queueJSON) int {
		if c := strings.Compare(strings.ToLower(a.QueueName), strings.ToLower(b.QueueName)); c != 0 {
			return c
		}
		if c := strings.Compare(a.QueueID, b.QueueID); c != 0 {
			return c
		}
		return strings.Compare(a.MediaType, b.MediaType)
	})
	return out
}

func (s *Server) serveQueues(w http.ResponseWriter, r *http.Request) {
	series, queues, err := s.snapshot(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the engine: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, withNotice(r, map[string]any{"queues": s.buildQueues(series, queues, boardPoints), "generated_at": s.now().UTC()}))
}

func (s *Server) serveQueue(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	series, queues, err := s.snapshot(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the engine: "+err.Error())
		return
	}
	var mine []alert.QueueView
	for _, q := range queues {
		if q.QueueID == id {
			mine = append(mine, q)
		}
	}
	if len(mine) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("queue %q has sent no samples since this queuewatch started", id))
		return
	}
	writeJSON(w, http.StatusOK, withNotice(r, map[string]any{"queues": s.buildQueues(series, mine, 0), "generated_at": s.now().UTC()}))
}

// downsample keeps n points spread evenly, always keeping the last.
func downsample[T any](pts []T, n int) []T {
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, pts[(len(pts)-1)*i/(n-1)])
	}
	return out
}

// deliveredJSON says where an episode's notifications went.
type deliveredJSON struct {
	Destination string               `json:"destination"`
	Type        string               `json:"type,omitempty"`
	Status      store.DeliveryStatus `json:"status"` // of the latest delivery
	Action      alert.Action         `json:"action"`
	LastError   string               `json:"last_error,omitempty"`
	// Handle is how to find the notification at the destination: the
	// OpsGenie alias, the PagerDuty dedup key, the Slack channel/ts.
	Handle string `json:"handle,omitempty"`
	// Link opens it, when queuewatch can tell (Slack).
	Link string `json:"link,omitempty"`
}

type alertJSON struct {
	Key        string          `json:"key"`
	Rule       string          `json:"rule"`
	QueueID    string          `json:"queue_id"`
	QueueName  string          `json:"queue_name"`
	MediaType  string          `json:"media_type,omitempty"`
	Metric     metric.Name     `json:"metric"`
	State      alert.State     `json:"state"`
	Priority   alert.Priority  `json:"priority,omitempty"`
	Since      time.Time       `json:"since"`
	Worst      float64         `json:"worst"`
	WorstAt    time.Time       `json:"worst_at,omitzero"`
	LastValue  float64         `json:"last_value"`
	Threshold  float64         `json:"threshold"`
	EpisodeID  string          `json:"episode_id,omitempty"`
	Notified   bool            `json:"notified"`
	Held       string          `json:"held,omitempty"`
	SilencedBy []string        `json:"silenced_by"`
	Delivered  []deliveredJSON `json:"delivered"`
}

func (s *Server) destType(name string) string {
	for _, d := range s.opts.Destinations {
		if d.Name == name {
			return d.Type
		}
	}
	return ""
}

// delivered summarizes an episode's deliveries per destination.
func (s *Server) delivered(ctx context.Context, key, episodeID string) ([]deliveredJSON, error) {
	ds, err := s.opts.Store.ListDeliveries(ctx, store.DeliveryFilter{Key: key, EpisodeID: episodeID, Limit: 200})
	if err != nil {
		return nil, err
	}
	out := []deliveredJSON{}
	seen := map[string]int{}
	for _, d := range ds { // newest first: the first of each destination is its latest
		if _, ok := seen[d.Destination]; ok {
			continue
		}
		seen[d.Destination] = len(out)
		dj := deliveredJSON{Destination: d.Destination, Type: s.destType(d.Destination), Status: d.Status, Action: d.Action, LastError: d.LastError}
		switch dj.Type {
		case "opsgenie", "jsm", "pagerduty":
			dj.Handle = key
		case "slack":
			if ref, err := s.opts.Store.GetRef(ctx, d.Destination, episodeID); err == nil {
				dj.Handle, dj.Link = slackHandle(ref.Value)
			}
		}
		out = append(out, dj)
	}
	slices.SortFunc(out, func(a, b deliveredJSON) int { return strings.Compare(a.Destination, b.Destination) })
	return out, nil
}

// slackHandle reads a stored Slack reference ("C123/1700000000.000100" or a
// JSON object with channel and ts) into a label and a permalink.
func slackHandle(v string) (string, string) {
	var channel, ts string
	if strings.HasPrefix(v, "{") {
		var j struct{ Channel, TS string }
		if json.Unmarshal([]byte(v), &j) != nil {
			return "", ""
		}
		channel, ts = j.Channel, j.TS
	} else {
		var ok bool
		if channel, ts, ok = strings.Cut(v, "/"); !ok {
			return "", ""
		}
	}
	if channel == "" || ts == "" {
		return "", ""
	}
	return channel + " " + ts, "https://slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

func (s *Server) serveAlerts(w http.ResponseWriter, r *http.Request) {
	series, _, err := s.snapshot(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the engine: "+err.Error())
		return
	}
	now := s.now()
	out := []alertJSON{}
	for _, sv := range series {
		if !sv.State.Open() {
			continue
		}
		a := alertJSON{Key: sv.Key, Rule: sv.Rule, QueueID: sv.QueueID, QueueName: sv.QueueName, MediaType: sv.MediaType,
			Metric: sv.Metric, State: sv.State, Priority: sv.Priority, Since: sv.Since, LastValue: sv.LastValue,
			Threshold: sv.Threshold, Held: sv.Held, SilencedBy: []string{}, Delivered: []deliveredJSON{}}
		for _, sl := range s.opts.Silences.Active(sv.Rule, sv.QueueID, sv.QueueName, now) {
			a.SilencedBy = append(a.SilencedBy, sl.ID)
		}
		if ep := sv.Episode; ep != nil {
			a.Since, a.Worst, a.WorstAt, a.EpisodeID, a.Notified = ep.Start, ep.Worst, ep.WorstAt, ep.ID, ep.Notified
			if ep.Priority != "" {
				a.Priority = ep.Priority
			}
			if a.Delivered, err = s.delivered(r.Context(), sv.Key, ep.ID); err != nil {
				writeError(w, http.StatusServiceUnavailable, "reading deliveries: "+err.Error())
				return
			}
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b alertJSON) int {
		if a.Priority != b.Priority {
			return strings.Compare(string(a.Priority), string(b.Priority))
		}
		return a.Since.Compare(b.Since)
	})
	writeJSON(w, http.StatusOK, withNotice(r, map[string]any{"alerts": out, "generated_at": now.UTC()}))
}

// limitParam reads ?limit=, between 1 and max, default def.
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("limit %q: want a whole number from 1 to %d", v, max)
	}
	return n, nil
}

type episodeJSON struct {
	alert.Episode
	Deliveries []store.Delivery `json:"deliveries"`
}

func (s *Server) serveAlertHistory(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	limit, err := limitParam(r, 20, 500)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad query", err.Error())
		return
	}
	ctx := r.Context()
	eps, err := s.opts.Store.Episodes(ctx, key, limit)
	if err == nil && len(eps) == 0 {
		var hist []alert.Transition
		if hist, err = s.opts.Store.History(ctx, key, 1); err == nil && len(hist) == 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("alert key %q has no history", key))
			return
		}
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the store: "+err.Error())
		return
	}
	// The store's copy of an open episode is as of its last transition; the
	// engine knows its worst value since.
	if len(eps) > 0 && eps[0].Open() {
		if series, _, err := s.snapshot(ctx); err == nil {
			for _, sv := range series {
				if sv.Key == key && sv.Episode != nil && sv.Episode.ID == eps[0].ID {
					eps[0].Worst, eps[0].WorstAt, eps[0].Priority = sv.Episode.Worst, sv.Episode.WorstAt, sv.Episode.Priority
				}
			}
		}
	}
	out := make([]episodeJSON, 0, len(eps))
	for _, ep := range eps {
		ds, err := s.opts.Store.ListDeliveries(ctx, store.DeliveryFilter{Key: key, EpisodeID: ep.ID, Limit: 500})
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "reading deliveries: "+err.Error())
			return
		}
		if ds == nil {
			ds = []store.Delivery{}
		}
		out = append(out, episodeJSON{Episode: ep, Deliveries: ds})
	}
	hist, err := s.opts.Store.History(ctx, key, 10*limit)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the store: "+err.Error())
		return
	}
	if hist == nil {
		hist = []alert.Transition{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": key, "episodes": out, "transitions": hist})
}

// deliveryStatuses are the values ?status= accepts; retrying is a pending
// delivery that has failed at least once.
var deliveryStatuses = []string{"pending", "retrying", "inflight", "sent", "dead"}

func (s *Server) serveDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var reasons []string
	status := q.Get("status")
	if status != "" && !slices.Contains(deliveryStatuses, status) {
		reasons = append(reasons, fmt.Sprintf("status %q: want one of %s", status, strings.Join(deliveryStatuses, ", ")))
	}
	dest := q.Get("destination")
	if dest != "" && len(s.opts.Destinations) > 0 && s.destType(dest) == "" {
		reasons = append(reasons, fmt.Sprintf("destination %q is not configured", dest))
	}
	for k := range q {
		if !slices.Contains([]string{"status", "destination", "key", "limit"}, k) {
			reasons = append(reasons, fmt.Sprintf("unknown parameter %q; known are status, destination, key, limit", k))
		}
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		reasons = append(reasons, err.Error())
	}
	if len(reasons) > 0 {
		slices.Sort(reasons)
		writeError(w, http.StatusBadRequest, "bad query", reasons...)
		return
	}
	f := store.DeliveryFilter{Status: store.DeliveryStatus(status), Destination: dest, Key: q.Get("key"), Limit: limit}
	if status == "retrying" {
		f.Status, f.Limit = store.StatusPending, 1000
	}
	ds, err := s.opts.Store.ListDeliveries(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading deliveries: "+err.Error())
		return
	}
	if status == "retrying" {
		ds = slices.DeleteFunc(ds, func(d store.Delivery) bool { return d.Attempts == 0 })
		if len(ds) > limit {
			ds = ds[:limit]
		}
	}
	if ds == nil {
		ds = []store.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// deliveryID reads the {id} path value.
func deliveryID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("delivery id %q: want a positive whole number", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (s *Server) serveDelivery(w http.ResponseWriter, r *http.Request) {
	id, ok := deliveryID(w, r)
	if !ok {
		return
	}
	attempts, err := s.opts.Store.Attempts(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no delivery %d", id))
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "reading the delivery log: "+err.Error())
		return
	}
	if attempts == nil {
		attempts = []store.Attempt{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "attempts": attempts})
}

func (s *Server) serveRetry(w http.ResponseWriter, r *http.Request) {
	id, ok := deliveryID(w, r)
	if !ok {
		return
	}
	err := s.opts.Retrier.RetryDead(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no delivery %d", id))
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.Info("dead delivery retried through the API", "delivery", id)
		writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "pending"})
	}
}
