package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/silence"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Limits on silences created through the API.
const (
	maxSilenceLength = 90 * 24 * time.Hour
	maxComment       = 1000
	maxQueuePatterns = 100
	maxBody          = 64 << 10
)

type silenceJSON struct {
	store.Silence
	// State is active, pending (starts later) or expired.
	State string `json:"state"`
}

func (s *Server) silenceView(sl store.Silence, now time.Time) silenceJSON {
	state := "active"
	switch {
	case !now.Before(sl.Ends):
		state = "expired"
	case now.Before(sl.Starts):
		state = "pending"
	}
	return silenceJSON{Silence: sl, State: state}
}

func (s *Server) serveSilences(w http.ResponseWriter, r *http.Request) {
	all, err := s.opts.Store.Silences(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading silences: "+err.Error())
		return
	}
	now := s.now()
	includeExpired := r.URL.Query().Get("expired") == "true"
	out := []silenceJSON{}
	for _, sl := range all {
		v := s.silenceView(sl, now)
		if v.State == "expired" && !includeExpired && now.Sub(sl.Ends) > 24*time.Hour {
			continue // long expired ones only on request
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": out})
}

// silenceRequest is the body of POST /api/v1/silences.
type silenceRequest struct {
	Queues    []string  `json:"queues"`
	Rule      string    `json:"rule"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Duration  string    `json:"duration"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
}

// parseSilence validates a request and returns the silence to store, or
// every reason it is refused.
func (s *Server) parseSilence(req silenceRequest, now time.Time) (store.Silence, []string) {
	var reasons []string
	sl := store.Silence{Queues: []string{}, Rule: strings.TrimSpace(req.Rule), Comment: strings.TrimSpace(req.Comment),
		CreatedBy: strings.TrimSpace(req.CreatedBy), CreatedAt: now.UTC()}
	if len(req.Queues) > maxQueuePatterns {
		reasons = append(reasons, fmt.Sprintf("queues: at most %d patterns", maxQueuePatterns))
	}
	for i, q := range req.Queues {
		q = strings.TrimSpace(q)
		if err := silence.CheckPattern(q); err != nil {
			reasons = append(reasons, fmt.Sprintf("queues[%d]: %q is not a queue id or a valid glob", i, req.Queues[i]))
			continue
		}
		sl.Queues = append(sl.Queues, q)
	}
	if sl.Rule != "" && len(s.opts.Rules) > 0 && !slices.Contains(s.opts.Rules, sl.Rule) {
		reasons = append(reasons, fmt.Sprintf("rule: %q is not a configured rule; known rules are %s", sl.Rule, strings.Join(s.opts.Rules, ", ")))
	}
	if len(sl.Queues) == 0 && sl.Rule == "" && len(reasons) == 0 {
		reasons = append(reasons, "queues, rule: name at least one queue or a rule; use queues [\"*\"] to silence everything on purpose")
	}
	switch {
	case sl.Comment == "":
		reasons = append(reasons, "comment: say why (it is shown next to every held page)")
	case len(sl.Comment) > maxComment:
		reasons = append(reasons, fmt.Sprintf("comment: longer than %d characters", maxComment))
	}
	if sl.CreatedBy == "" {
		sl.CreatedBy = "api"
	}
	sl.Starts = now.UTC()
	if !req.StartsAt.IsZero() {
		sl.Starts = req.StartsAt.UTC()
		if sl.Starts.Before(now.Add(-time.Minute)) {
			sl.Starts = now.UTC() // a start in the past means now
		}
	}
	switch {
	case req.Duration != "" && !req.EndsAt.IsZero():
		reasons = append(reasons, "duration, ends_at: give one of them, not both")
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			reasons = append(reasons, fmt.Sprintf("duration: %q is not a positive Go duration such as 30m or 2h", req.Duration))
		} else {
			sl.Ends = sl.Starts.Add(d)
		}
	case !req.EndsAt.IsZero():
		sl.Ends = req.EndsAt.UTC()
		if !sl.Ends.After(now) {
			reasons = append(reasons, "ends_at: is in the past")
		} else if !sl.Ends.After(sl.Starts) {
			reasons = append(reasons, "ends_at: is not after starts_at")
		}
	default:
		reasons = append(reasons, "ends_at or duration: say when the silence ends")
	}
	if !sl.Ends.IsZero() && sl.Ends.Sub(sl.Starts) > maxSilenceLength {
		reasons = append(reasons, fmt.Sprintf("ends_at: a silence lasts at most %d days", int(maxSilenceLength.Hours()/24)))
	}
	return sl, reasons
}

func newSilenceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) serveCreateSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBody))
			return
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		writeError(w, http.StatusBadRequest, "invalid silence", "body: "+err.Error())
		return
	}
	now := s.now()
	sl, reasons := s.parseSilence(req, now)
	if len(reasons) > 0 {
		writeError(w, http.StatusBadRequest, "invalid silence", reasons...)
		return
	}
	sl.ID = newSilenceID()
	if err := s.opts.Store.CreateSilence(r.Context(), sl); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			writeError(w, http.StatusBadRequest, "invalid silence", err.Error())
			return
		}
		writeError(w, http.StatusServiceUnavailable, "storing the silence: "+err.Error())
		return
	}
	s.afterSilenceChange(r, "created", sl, now)
	writeJSON(w, http.StatusCreated, s.silenceView(sl, now))
}

func (s *Server) serveExpireSilence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	now := s.now()
	if err := s.opts.Store.ExpireSilence(r.Context(), id, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no silence %q", id))
			return
		}
		writeError(w, http.StatusServiceUnavailable, "expiring the silence: "+err.Error())
		return
	}
	all, err := s.opts.Store.Silences(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading silences: "+err.Error())
		return
	}
	idx := slices.IndexFunc(all, func(sl store.Silence) bool { return sl.ID == id })
	if idx < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no silence %q", id))
		return
	}
	s.afterSilenceChange(r, "expired", all[idx], now)
	writeJSON(w, http.StatusOK, s.silenceView(all[idx], now))
}

// afterSilenceChange reloads the matcher at once (the engine consults it on
// its next tick) and tells the dashboards.
func (s *Server) afterSilenceChange(r *http.Request, what string, sl store.Silence, now time.Time) {
	if err := s.opts.Silences.Refresh(r.Context()); err != nil {
		s.log.Warn("reloading silences after a change; the periodic refresh will retry", "err", err)
	}
	s.log.Info("silence "+what, "silence", sl.ID, "queues", sl.Queues, "rule", sl.Rule, "ends", sl.Ends)
	s.hub.Publish(EventSilence, map[string]any{"change": what, "silence": s.silenceView(sl, now)})
}
