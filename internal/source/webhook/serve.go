package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// ServeHTTP authenticates, decodes and evaluates one delivery; see the
// package documentation for the answers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, ResultMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed: use POST", quote(r.Method)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.fail(w, http.StatusRequestEntityTooLarge, ResultTooLarge,
				fmt.Sprintf("request body is over the limit of %d bytes", h.maxBody))
			return
		}
		h.fail(w, http.StatusBadRequest, ResultBadRequest, "reading the request body: "+err.Error())
		return
	}
	if reason := h.auth.check(r.Header, body); reason != "" {
		h.log.InfoContext(r.Context(), "webhook request refused", "reason", reason, "remote", r.RemoteAddr)
		h.fail(w, http.StatusUnauthorized, ResultUnauthorized, reason)
		return
	}
	now := h.clock()
	var fallback time.Time
	if v := r.Header.Get(TimestampHeader); v != "" {
		if fallback, err = parseTime(v); err != nil {
			h.fail(w, http.StatusBadRequest, ResultBadRequest, "malformed "+TimestampHeader+" header: "+err.Error())
			return
		}
	}
	d := decoder{now: now, fallback: fallback}
	events, err := d.decode(body)
	if err != nil {
		h.log.DebugContext(r.Context(), "webhook request malformed", "reason", err.Error(), "remote", r.RemoteAddr)
		h.fail(w, http.StatusBadRequest, ResultBadRequest, err.Error())
		return
	}
	if code, result, reason := h.checkWindow(events, fallback, now); reason != "" {
		h.log.InfoContext(r.Context(), "webhook request refused", "reason", reason, "remote", r.RemoteAddr)
		h.fail(w, code, result, reason)
		return
	}
	h.evaluate(w, r, events, now)
}

// checkWindow applies the replay window to the events to be evaluated. It
// returns the status, result and reason of a refusal, or an empty reason.
func (h *Handler) checkWindow(events []event, fallback, now time.Time) (int, string, string) {
	if h.maxAge <= 0 {
		return 0, "", ""
	}
	for i, ev := range events {
		if ev.ignored != "" {
			continue
		}
		prefix := ""
		if len(events) > 1 {
			prefix = fmt.Sprintf("batch item %d: ", i)
		}
		ts := ev.at
		if ts.IsZero() {
			ts = fallback
		}
		if ts.IsZero() {
			return http.StatusBadRequest, ResultBadRequest, prefix + "missing timestamp: webhook.max_age requires the event's " +
				"timestamp (tutorial timestamp or time, EventBridge time) or an " + TimestampHeader + " header"
		}
		age := now.Sub(ts)
		switch {
		case age > h.maxAge:
			return http.StatusUnauthorized, ResultStale, fmt.Sprintf("%sevent timestamp %s is %s old, over max_age %s",
				prefix, ts.UTC().Format(time.RFC3339), age.Round(time.Second), h.maxAge)
		case -age > h.maxAge:
			return http.StatusUnauthorized, ResultStale, fmt.Sprintf("%sevent timestamp %s is %s ahead of the server clock, over max_age %s",
				prefix, ts.UTC().Format(time.RFC3339), (-age).Round(time.Second), h.maxAge)
		}
	}
	return 0, "", ""
}

// evaluate skips ignored and duplicate events, hands the samples of the
// rest to the Observer and remembers their ids once it succeeded.
func (h *Handler) evaluate(w http.ResponseWriter, r *http.Request, events []event, now time.Time) {
	var idx []int
	var keys []string
	var ignoredReason string
	for i, ev := range events {
		if ev.ignored != "" || len(ev.samples) == 0 {
			if ignoredReason == "" {
				ignoredReason = ev.ignored
			}
			continue
		}
		idx = append(idx, i)
		keys = append(keys, ev.key)
	}
	ignored := len(events) - len(idx)
	if len(idx) == 0 {
		if len(events) > 1 {
			ignoredReason = fmt.Sprintf("all %d events ignored; the first: %s", len(events), ignoredReason)
		}
		h.respond(w, http.StatusOK, ResultIgnored, answer{Status: "ignored", Reason: ignoredReason})
		return
	}
	dup, res, err := h.dedup.reserve(r.Context(), now, keys)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	var fresh []event
	dups, dupID := 0, ""
	for j, i := range idx {
		if dup[j] {
			dups++
			dupID = clip(events[i].id)
			continue
		}
		fresh = append(fresh, events[i])
	}
	if len(fresh) == 0 {
		h.dedup.release(res)
		if len(idx) > 1 {
			dupID = ""
		}
		h.respond(w, http.StatusOK, ResultDuplicate, answer{Status: "duplicate", ID: dupID, Duplicates: batchCount(events, dups), Ignored: batchCount(events, ignored)})
		return
	}
	samples, dropped := h.accumulate(fresh)
	if dropped > 0 {
		h.dropped.Add(uint64(dropped))
		h.warnQueueCap(r.Context())
	}
	if len(samples) == 0 {
		h.dedup.release(res)
		h.respond(w, http.StatusOK, ResultIgnored, answer{Status: "ignored",
			Reason: "queue limit reached: samples of new queues are dropped"})
		return
	}
	// The evaluation is not abandoned when the client goes away: its
	// outcome decides whether the id is remembered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.observeTimeout)
	defer cancel()
	if err := h.obs.Observe(ctx, samples...); err != nil {
		h.dedup.release(res)
		h.unavailable(w, r, err)
		return
	}
	h.dedup.commit(res, h.clock())
	h.counts.samples.Add(uint64(len(samples)))
	h.log.DebugContext(r.Context(), "webhook events accepted", "events", len(idx)-dups, "samples", len(samples),
		"ignored", ignored, "duplicates", dups)
	n := len(samples)
	h.respond(w, http.StatusAccepted, ResultAccepted, answer{Status: "accepted", Samples: &n,
		Events: batchCount(events, len(idx)-dups), Ignored: batchCount(events, ignored), Duplicates: batchCount(events, dups)})
}

// batchCount returns n for a batch and 0 (left out of the answer) for a
// single event.
func batchCount(events []event, n int) int {
	if len(events) > 1 {
		return n
	}
	return 0
}

// unavailable answers 503 with Retry-After; the error itself is logged, not
// sent, since it may name internals.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "webhook events not evaluated; the sender should retry", "err", err)
	secs := max(1, int(math.Ceil(h.retryAfter.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.fail(w, http.StatusServiceUnavailable, ResultUnavailable,
		fmt.Sprintf("the events could not be evaluated now; retry in %d s", secs))
}

// capWarnEvery is the least time between two warnings that samples of new
// queues are dropped.
const capWarnEvery = time.Minute

// warnQueueCap logs that samples of new queues are being dropped, at most
// once per capWarnEvery, with the total dropped so far.
func (h *Handler) warnQueueCap(ctx context.Context) {
	now := h.clock().UnixNano()
	last := h.capWarned.Load()
	if last != 0 && now-last < int64(capWarnEvery) || !h.capWarned.CompareAndSwap(last, now) {
		return
	}
	h.log.WarnContext(ctx, "webhook queue limit reached: samples of further queues are dropped",
		"max_queues", h.maxQueues, "dropped_samples", h.dropped.Load())
}

// clip shortens a sender's text echoed in an answer to maxQuoted bytes.
func clip(s string) string {
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "…"
	}
	return s
}
