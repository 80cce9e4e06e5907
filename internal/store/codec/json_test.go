package codec

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// fullTransition has every field of a transition, its series and episode
// set, so the differential tests see each one.
func fullTransition() alert.Transition {
	at := time.Date(2026, 12, 4, 23, 0, 0, 1000, time.UTC)
	ep := func() *alert.Episode {
		return &alert.Episode{
			ID: "id", Key: "k", Rule: "r", QueueID: "q", QueueName: "n", MediaType: "voice",
			Metric: metric.ASA, Start: at, End: at.Add(time.Second), Worst: 3, WorstAt: at,
			Priority: alert.P5, Notified: true, Destinations: []string{"a", "b"},
		}
	}
	return alert.Transition{
		Key: "k", Rule: "r", QueueID: "q", QueueName: "n", MediaType: "voice", Metric: metric.ASA,
		At: at, From: alert.Firing, To: alert.OK, Action: alert.ActionResolve, Reason: "why",
		Value: 1.5, Threshold: 2, Clear: 3, Target: 4, Priority: alert.P1, PrevPriority: alert.P2,
		Note: "note", Destinations: []string{"a"}, Held: "held", Episode: ep(),
		Series: alert.SeriesState{
			Key: "k", Rule: "r", QueueID: "q", QueueName: "n", MediaType: "voice", Metric: metric.ASA,
			State: alert.OK, Since: at, PendingSince: at, ClearSince: at, Level: 3, Priority: alert.P4,
			LastValue: 9, LastSampleAt: at, Stale: true, Flapping: true, Flaps: []time.Time{at, at},
			Held: "h", Episode: ep(), Version: 8,
		},
	}
}

// TestFullTransitionIsFull fails when a field is added to the stored types
// and not to fullTransition, which the differential tests rely on.
func TestFullTransitionIsFull(t *testing.T) {
	tr := fullTransition()
	for _, v := range []any{tr, tr.Series, *tr.Episode} {
		rv := reflect.ValueOf(v)
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Errorf("%s.%s is zero in fullTransition: set it (and encode it in json.go)", rv.Type().Name(), rv.Type().Field(i).Name)
			}
		}
	}
}

// marshalCases are the values the differential tests compare.
func marshalCases() []alert.Transition {
	var out []alert.Transition
	for _, f := range fixtures() {
		out = append(out, f.t)
	}
	full := fullTransition()
	empty := alert.Transition{Series: alert.SeriesState{Episode: &alert.Episode{}}, Episode: &alert.Episode{}}
	emptySlices := full
	emptySlices.Destinations, emptySlices.Series.Flaps = []string{}, []time.Time{}
	emptySlices.Episode = &alert.Episode{Destinations: []string{}}
	floats := full
	floats.Value, floats.Threshold, floats.Clear, floats.Target = math.Copysign(0, -1), 1e-6, 999999999999999999999, -1e20
	floats.Series.LastValue = math.MaxFloat64
	floats.Episode.Worst = math.SmallestNonzeroFloat64
	zones := full
	zones.At = full.At.In(time.FixedZone("", -(23*3600 + 59*60)))
	zones.Series.Since = full.At.In(time.FixedZone("", 5*3600+30*60))
	zones.Episode.Start = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	zones.Series.Flaps = []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC)}
	return append(out, full, empty, emptySlices, floats, zones)
}

// TestAppendMatchesEncodingJSON compares the hand encoder with
// encoding/json, which wrote the rows of earlier versions.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	for i, tr := range marshalCases() {
		compareWithJSON(t, i, tr)
	}
}

// TestAppendRefusesWhatJSONRefuses checks the values encoding/json cannot
// encode are errors for the hand encoder and for Encode too.
func TestAppendRefusesWhatJSONRefuses(t *testing.T) {
	bad := map[string]func(*alert.Transition){
		"NaN value":          func(t *alert.Transition) { t.Value = math.NaN() },
		"+Inf last value":    func(t *alert.Transition) { t.Series.LastValue = math.Inf(1) },
		"-Inf worst":         func(t *alert.Transition) { t.Episode.Worst = math.Inf(-1) },
		"year 10000":         func(t *alert.Transition) { t.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1 flap":       func(t *alert.Transition) { t.Series.Flaps = []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} },
		"offset of 24 hours": func(t *alert.Transition) { t.Episode.Start = t.Episode.Start.In(time.FixedZone("", 24*3600)) },
	}
	for name, spoil := range bad {
		tr := fullTransition()
		spoil(&tr)
		compareWithJSON(t, 0, tr)
		if name == "offset of 24 hours" {
			continue // Encode normalises to UTC first, which makes it valid
		}
		if _, err := Encode(tr); err == nil {
			t.Errorf("%s: Encode gave no error", name)
		}
	}
}

// compareWithJSON checks the three append functions write what
// json.Marshal writes for tr, its series and its episode, and fail when it
// fails.
func compareWithJSON(t *testing.T, i int, tr alert.Transition) {
	t.Helper()
	check := func(what string, v any, write func(w *jsonWriter)) {
		t.Helper()
		want, wantErr := json.Marshal(v)
		w := jsonWriter{}
		write(&w)
		if (wantErr != nil) != (w.err != nil) {
			t.Fatalf("case %d, %s: error %v, encoding/json's %v", i, what, w.err, wantErr)
		}
		if wantErr == nil && string(w.buf) != string(want) {
			t.Fatalf("case %d, %s:\n got %s\nwant %s", i, what, w.buf, want)
		}
	}
	check("transition", tr, func(w *jsonWriter) {
		start, end := w.transition(&tr)
		if tr.Episode == nil {
			if start != 0 || end != 0 {
				t.Errorf("case %d: episode at %d:%d of a transition without one", i, start, end)
			}
			return
		}
		if w.err == nil {
			if want, _ := json.Marshal(tr.Episode); string(w.buf[start:end]) != string(want) {
				t.Errorf("case %d: episode span %s, want %s", i, w.buf[start:end], want)
			}
		}
	})
	check("series", tr.Series, func(w *jsonWriter) { w.series(&tr.Series) })
	if tr.Episode != nil {
		check("episode", tr.Episode, func(w *jsonWriter) { w.episode(tr.Episode) })
	}
}

// FuzzAppendMatchesEncodingJSON compares the hand encoder with
// encoding/json on arbitrary strings, numbers and times.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	f.Add("Billing <EN> & \"more\"", "\x00\u2028\xff", 80.5, int64(1796426236), int64(123456789), int32(3600), true)
	f.Add("", "日本", 1e-7, int64(-62135596800), int64(0), int32(0), false)
	f.Add("a", "b", 1e21, int64(253402300799), int64(999999999), int32(-86399), true)
	f.Fuzz(func(t *testing.T, s1, s2 string, v float64, sec, nsec int64, offset int32, flag bool) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", int(offset)))
		tr := fullTransition()
		tr.QueueName, tr.Reason, tr.Note, tr.Held, tr.MediaType = s1, s2, s1+s2, s2, s1
		tr.Destinations = []string{s1, s2}
		tr.Value, tr.Threshold, tr.Target, tr.At = v, -v, v/3, tm
		tr.Series.QueueName, tr.Series.Held, tr.Series.LastValue = s2, s1, v*7
		tr.Series.Since, tr.Series.LastSampleAt, tr.Series.Stale = tm, tm.UTC(), flag
		tr.Series.Flaps = []time.Time{tm, tm.Add(time.Duration(nsec))}
		tr.Series.Level, tr.Series.Version = int(sec), nsec
		tr.Episode.ID, tr.Episode.Worst, tr.Episode.Start, tr.Episode.Notified = s1, v, tm, flag
		tr.Episode.Destinations = []string{s2}
		if flag {
			tr.Series.Episode = nil
			tr.Episode.End = time.Time{}
		}
		compareWithJSON(t, 0, tr)
	})
}
