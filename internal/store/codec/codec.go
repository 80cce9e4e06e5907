// Package codec holds the row encoding the SQL stores share: transitions
// normalised to UTC and marshalled to JSON, the "last of its key or episode
// in the batch" flags that let a commit write each state once, and times as
// int64 nanoseconds since the Unix epoch.
package codec

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Encoded is a validated transition normalised to UTC and marshalled, with
// what a write transaction needs to store it.
type Encoded struct {
	T      alert.Transition
	Data   string // the transition as JSON
	Series string // the series state as JSON
	// SeriesEpisode is the id of the episode the series row refers to, when
	// its episode is left out of Series because the episodes table holds it.
	SeriesEpisode string
	Episode       *alert.Episode
	EpisodeID     string
	EpisodeData   string // the episode as JSON
	LastSeries    bool   // the last transition of its key in the batch
	LastEp        bool   // the last transition of its episode in the batch
}

// LastFlags reports, per transition, whether it is the last of the batch to
// change its series and its episode: only those states are written.
func LastFlags(ts []alert.Transition) (series, episode []bool) {
	series, episode = make([]bool, len(ts)), make([]bool, len(ts))
	seenKey := make(map[string]bool, len(ts))
	seenEp := make(map[string]bool, len(ts))
	for i := len(ts) - 1; i >= 0; i-- {
		if k := ts[i].Key; !seenKey[k] {
			seenKey[k], series[i] = true, true
		}
		if ep := EpisodeOf(ts[i]); ep != nil && !seenEp[ep.ID] {
			seenEp[ep.ID], episode[i] = true, true
		}
	}
	return series, episode
}

// EpisodeOf returns the episode a transition belongs to, if any.
func EpisodeOf(t alert.Transition) *alert.Episode {
	if t.Episode != nil {
		return t.Episode
	}
	return t.Series.Episode
}

// pipelineFrom is the batch size from which the JSON encoding runs on its
// own goroutine ahead of the writes.
const pipelineFrom = 16

// encodeAhead bounds how far that goroutine runs ahead of the writes, so a
// batch of thousands does not hold all its encoded rows at once.
const encodeAhead = 64

// Encoder returns a function that yields the encoded transitions of ts in
// order, with LastSeries and LastEp set, and a function the caller must
// call when it is done with it, early or not. Large batches are encoded
// ahead on another goroutine, at most encodeAhead transitions ahead; stop
// ends that goroutine when the caller stopped early.
func Encoder(ts []alert.Transition) (next func() (Encoded, error), stop func()) {
	lastSeries, lastEp := LastFlags(ts)
	flag := func(i int, e Encoded, err error) (Encoded, error) {
		e.LastSeries, e.LastEp = lastSeries[i], lastEp[i]
		return e, err
	}
	if len(ts) < pipelineFrom {
		i := 0
		return func() (Encoded, error) {
			e, err := Encode(ts[i])
			i++
			return flag(i-1, e, err)
		}, func() {}
	}
	type result struct {
		e   Encoded
		err error
	}
	ch := make(chan result, min(len(ts), encodeAhead))
	done := make(chan struct{})
	go func() {
		for _, t := range ts {
			e, err := Encode(t)
			select {
			case ch <- result{e, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	i := 0
	next = func() (Encoded, error) {
		r := <-ch
		i++
		return flag(i-1, r.e, r.err)
	}
	var once sync.Once
	return next, func() { once.Do(func() { close(done) }) }
}

// Encode normalises t to UTC and marshals it and its series state. The
// JSON is what encoding/json writes for these types (see json.go), built in
// a pooled buffer: Data, Series and EpisodeData share one string, and the
// episode of the transition is encoded once, as part of Data.
func Encode(t alert.Transition) (Encoded, error) {
	t.At = UTC(t.At)
	t.Episode = utcEpisode(t.Episode)
	t.Series = utcSeries(t.Series)
	t.Destinations = Dedupe(t.Destinations)
	e := Encoded{T: t, Episode: EpisodeOf(t)}
	st := t.Series
	if st.Episode != nil && e.Episode != nil && st.Episode.ID == e.Episode.ID && sameEpisode(st.Episode, e.Episode) {
		// The series' episode is the one stored in episodes by this
		// transition: the series row refers to it instead of a copy.
		e.SeriesEpisode, st.Episode = st.Episode.ID, nil
	}
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			bufPool.Put(bp)
		}
	}()
	w := jsonWriter{buf: (*bp)[:0]}
	epStart, epEnd := w.transition(&t)
	nData := len(w.buf)
	w.series(&st)
	nSeries := len(w.buf)
	if e.Episode != nil && t.Episode == nil {
		// The series' episode, left out of Series above.
		epStart = len(w.buf)
		w.episode(e.Episode)
		epEnd = len(w.buf)
	}
	*bp = w.buf[:0]
	if w.err != nil {
		return Encoded{}, w.err
	}
	all := string(w.buf)
	e.Data, e.Series = all[:nData], all[nData:nSeries]
	if e.Episode != nil {
		e.EpisodeID, e.EpisodeData = e.Episode.ID, all[epStart:epEnd]
	}
	return e, nil
}

// maxPooledBuf bounds the encoding buffers kept for reuse, so one huge
// transition does not keep its buffer alive.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// sameEpisode reports whether two UTC-normalised episodes are equal as
// reflect.DeepEqual compares them.
func sameEpisode(a, b *alert.Episode) bool {
	return a.ID == b.ID && a.Key == b.Key && a.Rule == b.Rule && a.QueueID == b.QueueID &&
		a.QueueName == b.QueueName && a.MediaType == b.MediaType && a.Metric == b.Metric &&
		a.Start == b.Start && a.End == b.End && a.Worst == b.Worst && a.WorstAt == b.WorstAt &&
		a.Priority == b.Priority && a.Notified == b.Notified &&
		(a.Destinations == nil) == (b.Destinations == nil) && slices.Equal(a.Destinations, b.Destinations)
}

// Dedupe returns names without repeats, in first-seen order; names itself
// when it has none.
func Dedupe(names []string) []string {
	dup := false
	for i := 1; i < len(names) && !dup; i++ {
		dup = slices.Contains(names[:i], names[i])
	}
	if !dup {
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// utcEpisode returns e with its times in UTC: e itself when they are
// already, else a copy.
func utcEpisode(e *alert.Episode) *alert.Episode {
	if e == nil || isUTC(e.Start) && isUTC(e.End) && isUTC(e.WorstAt) {
		return e
	}
	c := *e
	c.Start, c.End, c.WorstAt = UTC(c.Start), UTC(c.End), UTC(c.WorstAt)
	return &c
}

func utcSeries(s alert.SeriesState) alert.SeriesState {
	s.Since, s.PendingSince, s.ClearSince = UTC(s.Since), UTC(s.PendingSince), UTC(s.ClearSince)
	s.LastSampleAt = UTC(s.LastSampleAt)
	if slices.ContainsFunc(s.Flaps, func(f time.Time) bool { return !isUTC(f) }) {
		flaps := make([]time.Time, len(s.Flaps))
		for i, f := range s.Flaps {
			flaps[i] = UTC(f)
		}
		s.Flaps = flaps
	}
	s.Episode = utcEpisode(s.Episode)
	return s
}

// isUTC reports whether UTC would leave t as it is (no location other than
// UTC, no monotonic reading).
func isUTC(t time.Time) bool { return t == UTC(t) }

// NS converts a time to stored nanoseconds; the zero time is 0.
func NS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNS converts stored nanoseconds back to a UTC time; 0 is the zero time.
func FromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// UTC returns t in UTC, keeping the zero time zero.
func UTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Scanner reads one result row, as *sql.Row, *sql.Rows and pgx rows do.
type Scanner interface{ Scan(dest ...any) error }

// ScanDelivery reads an outbox row whose columns are, in order: id,
// destination, key, episode_id, action, the transition's JSON, status,
// attempts, next_attempt_at, last_error, claimed_by, lease_until,
// created_at, updated_at and sent_at (times as stored nanoseconds).
func ScanDelivery(sc Scanner) (store.Delivery, error) {
	var (
		d                                     store.Delivery
		action, data, status                  string
		next, lease, created, updated, sentAt int64
	)
	if err := sc.Scan(&d.ID, &d.Destination, &d.Key, &d.EpisodeID, &action, &data, &status, &d.Attempts,
		&next, &d.LastError, &d.ClaimedBy, &lease, &created, &updated, &sentAt); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(data), &d.Transition); err != nil {
		return d, fmt.Errorf("delivery %d: transition: %w", d.ID, err)
	}
	d.Action, d.Status = alert.Action(action), store.DeliveryStatus(status)
	d.NextAttemptAt, d.LeaseUntil, d.SentAt = FromNS(next), FromNS(lease), FromNS(sentAt)
	d.CreatedAt, d.UpdatedAt = FromNS(created), FromNS(updated)
	return d, nil
}
