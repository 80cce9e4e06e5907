package webhook

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
)

// Results of a request, as given to Config.OnResult and counted by Stats;
// the app exports them as queuewatch_webhook_requests_total{result}.
const (
	ResultAccepted         = "accepted"
	ResultIgnored          = "ignored"
	ResultDuplicate        = "duplicate"
	ResultBadRequest       = "bad_request"
	ResultUnauthorized     = "unauthorized"
	ResultStale            = "stale" // outside the replay window
	ResultTooLarge         = "too_large"
	ResultMethodNotAllowed = "method_not_allowed"
	ResultUnavailable      = "unavailable" // Observe failed
)

// rejections lists the results that are refusals, in a fixed order.
var rejections = []string{ResultBadRequest, ResultUnauthorized, ResultStale, ResultTooLarge,
	ResultMethodNotAllowed, ResultUnavailable}

// Stats counts requests by result since the handler was built.
type Stats struct {
	Accepted  uint64
	Ignored   uint64
	Duplicate uint64
	// Rejected counts refused requests by result (ResultBadRequest, …);
	// every refusal result is present, zero or not.
	Rejected map[string]uint64
	// Samples counts the samples of accepted requests.
	Samples uint64
	// Queues is the number of distinct queue ids seen (at most MaxQueues).
	Queues int
	// DroppedSamples counts samples of new queues refused once MaxQueues
	// queues were known.
	DroppedSamples uint64
}

// counters are the live counts behind Stats.
type counters struct {
	byResult map[string]*atomic.Uint64
	samples  atomic.Uint64
}

func newCounters() *counters {
	c := &counters{byResult: map[string]*atomic.Uint64{}}
	for _, r := range append([]string{ResultAccepted, ResultIgnored, ResultDuplicate}, rejections...) {
		c.byResult[r] = new(atomic.Uint64)
	}
	return c
}

// Stats returns the request counts.
func (h *Handler) Stats() Stats {
	s := Stats{
		Accepted:  h.counts.byResult[ResultAccepted].Load(),
		Ignored:   h.counts.byResult[ResultIgnored].Load(),
		Duplicate: h.counts.byResult[ResultDuplicate].Load(),
		Rejected:  make(map[string]uint64, len(rejections)),
		Samples:   h.counts.samples.Load(),
	}
	for _, r := range rejections {
		s.Rejected[r] = h.counts.byResult[r].Load()
	}
	s.Queues, s.DroppedSamples = h.acc.Len(), h.dropped.Load()
	return s
}

// answer is a JSON response body.
type answer struct {
	Status     string `json:"status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	ID         string `json:"id,omitempty"`
	Samples    *int   `json:"samples,omitempty"`
	Events     int    `json:"events,omitempty"`
	Ignored    int    `json:"ignored,omitempty"`
	Duplicates int    `json:"duplicates,omitempty"`
	Error      string `json:"error,omitempty"`
}

// respond writes a JSON answer and records its result.
func (h *Handler) respond(w http.ResponseWriter, code int, result string, a answer) {
	h.counts.byResult[result].Add(1)
	if h.onResult != nil {
		h.onResult(result)
	}
	// The values are shared, read-only slices: net/http never changes them.
	hdr := w.Header()
	hdr["Content-Type"] = headerJSON
	hdr["Cache-Control"] = headerNoStore
	hdr["X-Content-Type-Options"] = headerNoSniff
	w.WriteHeader(code)
	_, _ = w.Write(appendAnswer(make([]byte, 0, 96), a))
}

var (
	headerJSON    = []string{"application/json; charset=utf-8"}
	headerNoStore = []string{"no-store"}
	headerNoSniff = []string{"nosniff"}
)

// appendAnswer appends the JSON of a and a newline, as json.Marshal would
// write it; answers without free text (the common ones) without
// reflection.
func appendAnswer(b []byte, a answer) []byte {
	if a.Reason != "" || a.ID != "" || a.Error != "" || !plainStatus(a.Status) {
		m, _ := json.Marshal(a)
		return append(append(b, m...), '\n')
	}
	b = append(b, '{')
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	if a.Status != "" {
		b = append(append(append(b, `"status":"`...), a.Status...), '"')
	}
	num := func(name string, v int) {
		sep()
		b = strconv.AppendInt(append(append(append(b, '"'), name...), `":`...), int64(v), 10)
	}
	if a.Samples != nil {
		num("samples", *a.Samples)
	}
	if a.Events != 0 {
		num("events", a.Events)
	}
	if a.Ignored != 0 {
		num("ignored", a.Ignored)
	}
	if a.Duplicates != 0 {
		num("duplicates", a.Duplicates)
	}
	return append(b, '}', '\n')
}

// plainStatus reports whether a status word needs no JSON escaping.
func plainStatus(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// fail writes a JSON error answer.
func (h *Handler) fail(w http.ResponseWriter, code int, result, msg string) {
	h.respond(w, code, result, answer{Error: msg})
}
