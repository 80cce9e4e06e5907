package genesys

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/sim"
)

// mediaSettingKeys are the mediaSettings keys of a queue.
var mediaSettingKeys = []string{"call", "callback", "chat", "email", "message"}

// queueInfo is a queue's static settings.
type queueInfo struct {
	ID        string
	Name      string
	MediaType string // analytics media type of the simulated queue
	Target    float64
	Answer    time.Duration
	Members   int
}

func newQueueInfo(st sim.QueueState) queueInfo {
	return queueInfo{ID: st.ID, Name: st.Name, MediaType: st.MediaType, Target: st.TargetPercent,
		Answer: st.TargetAnswer, Members: st.MemberAgents}
}

// settingKey maps an analytics media type to its mediaSettings key.
func settingKey(media string) string {
	if media == "voice" {
		return "call"
	}
	return media
}

// wire renders the queue as the API's Queue. Every media type carries the
// simulated queue's target; its own media type also its threshold, the
// others the Genesys defaults for their kind.
func (q queueInfo) wire() map[string]any {
	ms := map[string]any{}
	for _, k := range mediaSettingKeys {
		d := 20 * time.Second
		if k == "email" {
			d = 24 * time.Hour
		}
		if k == settingKey(q.MediaType) {
			d = q.Answer
		}
		alerting := 30
		if k == "call" {
			alerting = 8
		}
		ms[k] = map[string]any{
			"alertingTimeoutSeconds": alerting,
			"enableAutoAnswer":       false,
			"serviceLevel":           map[string]any{"percentage": q.Target / 100, "durationMs": d.Milliseconds()},
		}
	}
	return map[string]any{
		"id":                    q.ID,
		"name":                  q.Name,
		"description":           "Simulated queue",
		"division":              map[string]any{"id": "f3b1c7a2-0000-4000-8000-000000000001", "name": "Home", "selfUri": "/api/v2/authorization/divisions/f3b1c7a2-0000-4000-8000-000000000001"},
		"dateCreated":           "2024-03-01T10:00:00.000Z",
		"memberCount":           q.Members,
		"userMemberCount":       q.Members,
		"joinedMemberCount":     q.Members,
		"mediaSettings":         ms,
		"acwSettings":           map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
		"skillEvaluationMethod": "BEST",
		"scoringMethod":         "TimestampAndPriority",
		"lastAgentRoutingMode":  "Disabled",
		"selfUri":               "/api/v2/routing/queues/" + q.ID,
	}
}

// matchName applies the name filter: exact, with optional leading and
// trailing "*" wildcards, case-insensitive.
func matchName(pattern, name string) bool {
	p, n := strings.ToLower(pattern), strings.ToLower(name)
	pre, suf := strings.HasPrefix(p, "*"), strings.HasSuffix(p, "*") && len(p) > 1
	core := strings.TrimSuffix(strings.TrimPrefix(p, "*"), "*")
	switch {
	case pre && suf:
		return strings.Contains(n, core)
	case pre:
		return strings.HasSuffix(n, core)
	case suf:
		return strings.HasPrefix(n, core)
	}
	return n == p
}

// queryInt reads a positive integer parameter; 0 or absent gives def.
func queryInt(q url.Values, key string, def int) (int, bool) {
	v := q.Get(key)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	if n == 0 {
		return def, true
	}
	return n, true
}

// serveQueues is GET /api/v2/routing/queues.
func (s *Server) serveQueues(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, ok1 := queryInt(q, "pageNumber", 1)
	size, ok2 := queryInt(q, "pageSize", 25)
	if !ok1 || !ok2 {
		writeError(w, r, http.StatusBadRequest, "invalid.value", "pageNumber and pageSize must be positive integers.")
		return
	}
	if size > s.opts.MaxPageSize {
		writeError(w, r, http.StatusBadRequest, "invalid.value", "pageSize must not exceed "+strconv.Itoa(s.opts.MaxPageSize)+".")
		return
	}
	ids := map[string]bool{}
	for _, v := range q["id"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids[id] = true
			}
		}
	}
	var match []queueInfo
	for _, qi := range s.queues {
		if len(ids) > 0 && !ids[qi.ID] {
			continue
		}
		if name := q.Get("name"); name != "" && !matchName(name, qi.Name) {
			continue
		}
		match = append(match, qi)
	}
	desc := strings.EqualFold(q.Get("sortOrder"), "desc")
	sort.SliceStable(match, func(i, j int) bool {
		if desc {
			return match[i].Name > match[j].Name
		}
		return match[i].Name < match[j].Name
	})
	pageCount := (len(match) + size - 1) / size
	entities := []map[string]any{}
	for i := (page - 1) * size; i < min(page*size, len(match)); i++ {
		entities = append(entities, match[i].wire())
	}
	uri := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("pageSize", strconv.Itoa(size))
		v.Set("pageNumber", strconv.Itoa(p))
		return "/api/v2/routing/queues?" + v.Encode()
	}
	body := map[string]any{
		"entities":   entities,
		"pageSize":   size,
		"pageNumber": page,
		"total":      len(match),
		"pageCount":  pageCount,
		"firstUri":   uri(1),
		"selfUri":    uri(page),
		"lastUri":    uri(max(pageCount, 1)),
	}
	if page < pageCount {
		body["nextUri"] = uri(page + 1)
	}
	if page > 1 {
		body["previousUri"] = uri(page - 1)
	}
	writeJSON(w, http.StatusOK, body)
}

// serveQueue is GET /api/v2/routing/queues/{id}.
func (s *Server) serveQueue(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if qi, ok := s.queueByID(id); ok {
		writeJSON(w, http.StatusOK, qi.wire())
		return
	}
	writeError(w, r, http.StatusNotFound, "not.found", "Queue "+id+" not found")
}

// queueByID returns a queue's settings.
func (s *Server) queueByID(id string) (queueInfo, bool) {
	i, ok := s.queueIndex[id]
	if !ok {
		return queueInfo{}, false
	}
	return s.queues[i], true
}
