package sqlite

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// encoded is a validated transition normalised to UTC and marshalled, with
// what the write transaction needs to store it.
type encoded struct {
	t      alert.Transition
	data   string // the transition as JSON
	series string // the series state as JSON
	// seriesEpisode is the id of the episode the series row refers to, when
	// its episode is left out of series because episodes holds it.
	seriesEpisode string
	episode       *alert.Episode
	episodeID     string
	episodeData   string // the episode as JSON
	lastSeries    bool   // the last transition of its key in the batch
	lastEp        bool   // the last transition of its episode in the batch
}

// lastFlags reports, per transition, whether it is the last of the batch to
// change its series and its episode: only those states are written.
func lastFlags(ts []alert.Transition) (series, episode []bool) {
	series, episode = make([]bool, len(ts)), make([]bool, len(ts))
	seenKey := make(map[string]bool, len(ts))
	seenEp := make(map[string]bool, len(ts))
	for i := len(ts) - 1; i >= 0; i-- {
		if k := ts[i].Key; !seenKey[k] {
			seenKey[k], series[i] = true, true
		}
		if ep := episodeOf(ts[i]); ep != nil && !seenEp[ep.ID] {
			seenEp[ep.ID], episode[i] = true, true
		}
	}
	return series, episode
}

// episodeOf returns the episode a transition belongs to, if any.
func episodeOf(t alert.Transition) *alert.Episode {
	if t.Episode != nil {
		return t.Episode
	}
	return t.Series.Episode
}

// pipelineFrom is the batch size from which the JSON encoding, most of a
// big commit's Go work, runs on its own goroutine ahead of the writes.
const pipelineFrom = 16

// encoder returns a function that yields the encoded transitions of ts in
// order, encoding them ahead on another goroutine for large batches. That
// goroutine never blocks, so it ends even when the caller stops early.
func encoder(ts []alert.Transition) func() (encoded, error) {
	if len(ts) < pipelineFrom {
		i := 0
		return func() (encoded, error) {
			e, err := encode(ts[i])
			i++
			return e, err
		}
	}
	type result struct {
		e   encoded
		err error
	}
	ch := make(chan result, len(ts))
	go func() {
		for _, t := range ts {
			e, err := encode(t)
			ch <- result{e, err}
			if err != nil {
				return
			}
		}
	}()
	return func() (encoded, error) {
		r := <-ch
		return r.e, r.err
	}
}

// encode normalises t to UTC and marshals it and its series state.
func encode(t alert.Transition) (encoded, error) {
	t.At = utc(t.At)
	t.Episode = utcEpisode(t.Episode)
	t.Series = utcSeries(t.Series)
	t.Destinations = dedupe(t.Destinations)
	data, err := json.Marshal(t)
	if err != nil {
		return encoded{}, err
	}
	e := encoded{t: t, data: string(data), episode: episodeOf(t)}
	st := t.Series
	if st.Episode != nil && e.episode != nil && st.Episode.ID == e.episode.ID &&
		reflect.DeepEqual(*st.Episode, *e.episode) {
		// The series' episode is the one stored in episodes by this
		// transition: the series row refers to it instead of a copy.
		e.seriesEpisode, st.Episode = st.Episode.ID, nil
	}
	series, err := json.Marshal(st)
	if err != nil {
		return encoded{}, err
	}
	e.series = string(series)
	if e.episode != nil {
		e.episodeID = e.episode.ID
		b, err := json.Marshal(e.episode)
		if err != nil {
			return encoded{}, err
		}
		e.episodeData = string(b)
	}
	return e, nil
}

// dedupe returns names without repeats, in first-seen order.
func dedupe(names []string) []string {
	if len(names) < 2 {
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

func utcEpisode(e *alert.Episode) *alert.Episode {
	if e == nil {
		return nil
	}
	c := *e
	c.Start, c.End, c.WorstAt = utc(c.Start), utc(c.End), utc(c.WorstAt)
	return &c
}

func utcSeries(s alert.SeriesState) alert.SeriesState {
	s.Since, s.PendingSince, s.ClearSince = utc(s.Since), utc(s.PendingSince), utc(s.ClearSince)
	s.LastSampleAt = utc(s.LastSampleAt)
	if s.Flaps != nil {
		flaps := make([]time.Time, len(s.Flaps))
		for i, f := range s.Flaps {
			flaps[i] = utc(f)
		}
		s.Flaps = flaps
	}
	s.Episode = utcEpisode(s.Episode)
	return s
}
