package codec

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// update rewrites testdata/encoded.json from the current encoder. The file
// holds rows as earlier versions stored them (written by encoding/json), so
// rewrite it only when the stored format changes on purpose and old rows
// have been checked to still decode.
var update = flag.Bool("update", false, "rewrite testdata/encoded.json from the current encoder (only for a deliberate format change)")

// row is what the SQL stores write of one transition.
type row struct {
	Name          string `json:"name"`
	Data          string `json:"data"`
	Series        string `json:"series"`
	SeriesEpisode string `json:"series_episode"`
	EpisodeID     string `json:"episode_id"`
	EpisodeData   string `json:"episode_data"`
}

func rowOf(name string, e Encoded) row {
	return row{name, e.Data, e.Series, e.SeriesEpisode, e.EpisodeID, e.EpisodeData}
}

const goldenPath = "testdata/encoded.json"

// TestEncodeMatchesStoredRows checks that Encode writes, byte for byte, the
// rows that the encoding/json encoder of earlier versions wrote (kept in
// testdata), so stored rows and new rows are one format.
func TestEncodeMatchesStoredRows(t *testing.T) {
	var got []row
	for _, f := range fixtures() {
		e, err := Encode(f.t)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		got = append(got, rowOf(f.name, e))
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s:\n got %+v\nwant %+v", want[i].Name, got[i], want[i])
		}
	}
}

func readGolden(t testing.TB) []row {
	t.Helper()
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// BenchmarkEncode encodes the transition of a series firing with its new
// episode and two destinations: one row of the scale burst.
func BenchmarkEncode(b *testing.B) {
	tr := fixtures()[0].t
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(tr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncoder runs a commit's batch of 500 such transitions (the
// scale burst's request size) through Encoder.
func BenchmarkEncoder(b *testing.B) {
	ts := burst(500)
	b.ReportAllocs()
	for b.Loop() {
		next, stop := Encoder(ts)
		for range ts {
			if _, err := next(); err != nil {
				b.Fatal(err)
			}
		}
		stop()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ts)), "ns/transition")
}

// BenchmarkDecode decodes the three rows of that transition as the stores
// read them back: the outbox's transition and the series with its episode.
func BenchmarkDecode(b *testing.B) {
	e, err := Encode(fixtures()[0].t)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var tr alert.Transition
		if err := json.Unmarshal([]byte(e.Data), &tr); err != nil {
			b.Fatal(err)
		}
		var st alert.SeriesState
		if err := json.Unmarshal([]byte(e.Series), &st); err != nil {
			b.Fatal(err)
		}
		st.Episode = new(alert.Episode)
		if err := json.Unmarshal([]byte(e.EpisodeData), st.Episode); err != nil {
			b.Fatal(err)
		}
	}
}

// burst returns n create transitions of distinct series, as a burst of
// breaches gives them.
func burst(n int) []alert.Transition {
	ts := make([]alert.Transition, n)
	for i := range ts {
		t := fixtures()[0].t
		t.Key = fmt.Sprintf("q-%05d_sla", i)
		t.QueueID = fmt.Sprintf("q-%05d", i)
		t.Series.Key, t.Series.QueueID = t.Key, t.QueueID
		t.Episode.ID, t.Episode.Key, t.Episode.QueueID = t.Key+"@1796426236123", t.Key, t.QueueID
		*t.Series.Episode = *clone(t.Episode)
		ts[i] = t
	}
	return ts
}

// TestRowsDecode decodes the stored rows of earlier versions (testdata) and
// those Encode writes now as the stores read them (encoding/json), and
// checks both give back the transition, normalised to UTC.
func TestRowsDecode(t *testing.T) {
	golden := readGolden(t)
	for i, f := range fixtures() {
		if f.name == "escapes" {
			continue // invalid UTF-8 reads back as U+FFFD; TestAppendMatchesEncodingJSON covers it
		}
		e, err := Encode(f.t)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []row{golden[i], rowOf(f.name, e)} {
			var tr alert.Transition
			if err := json.Unmarshal([]byte(r.Data), &tr); err != nil {
				t.Fatalf("%s: transition: %v", f.name, err)
			}
			want := e.T
			want.Series = alert.SeriesState{}
			if !reflect.DeepEqual(tr, want) {
				t.Errorf("%s: transition decodes as\n%+v\nwant\n%+v", f.name, tr, want)
			}
			var st alert.SeriesState
			if err := json.Unmarshal([]byte(r.Series), &st); err != nil {
				t.Fatalf("%s: series: %v", f.name, err)
			}
			if r.SeriesEpisode != "" {
				// As LoadSeries joins the episodes row.
				if r.SeriesEpisode != r.EpisodeID {
					t.Fatalf("%s: series refers to episode %q, row has %q", f.name, r.SeriesEpisode, r.EpisodeID)
				}
				st.Episode = new(alert.Episode)
				if err := json.Unmarshal([]byte(r.EpisodeData), st.Episode); err != nil {
					t.Fatalf("%s: episode: %v", f.name, err)
				}
			}
			if !reflect.DeepEqual(st, e.T.Series) {
				t.Errorf("%s: series decodes as\n%+v\nwant\n%+v", f.name, st, e.T.Series)
			}
			if ep := EpisodeOf(e.T); ep != nil {
				var got alert.Episode
				if err := json.Unmarshal([]byte(r.EpisodeData), &got); err != nil {
					t.Fatalf("%s: episode: %v", f.name, err)
				}
				if !reflect.DeepEqual(got, *ep) {
					t.Errorf("%s: episode decodes as\n%+v\nwant\n%+v", f.name, got, *ep)
				}
			} else if r.EpisodeData != "" || r.EpisodeID != "" {
				t.Errorf("%s: episode row %q %q for a transition without one", f.name, r.EpisodeID, r.EpisodeData)
			}
		}
	}
}

// TestEncodeNormalises checks the UTC normalisation and that Encode leaves
// the caller's transition as it was.
func TestEncodeNormalises(t *testing.T) {
	f := fixtures()[2] // resolve: times in CET, a repeated destination
	before := fixtures()[2].t
	e, err := Encode(f.t)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.t, before) {
		t.Error("Encode changed its argument")
	}
	for _, tm := range []time.Time{e.T.At, e.T.Episode.Start, e.T.Episode.End, e.T.Series.Since, e.T.Series.Flaps[0], e.T.Series.Episode.WorstAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
	if !e.T.At.Equal(f.t.At) {
		t.Errorf("At %v, want %v", e.T.At, f.t.At)
	}
	if got := e.T.Destinations; !reflect.DeepEqual(got, []string{"opsgenie"}) {
		t.Errorf("destinations %q, want one opsgenie", got)
	}
	if e.SeriesEpisode != f.t.Episode.ID || e.Episode != e.T.Episode {
		t.Errorf("series episode %q, episode %p (transition's %p)", e.SeriesEpisode, e.Episode, e.T.Episode)
	}
}

// TestSameEpisodeIsDeepEqual checks sameEpisode against reflect.DeepEqual
// with each field of an episode changed in turn, so a field added to
// alert.Episode and not compared fails here.
func TestSameEpisodeIsDeepEqual(t *testing.T) {
	base := *fullTransition().Episode
	if a, b := base, base; !sameEpisode(&a, &b) {
		t.Fatal("an episode differs from its copy")
	}
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		c := base
		f := reflect.ValueOf(&c).Elem().Field(i)
		f.Set(reflect.Zero(f.Type()))
		if want := reflect.DeepEqual(base, c); sameEpisode(&base, &c) != want {
			t.Errorf("field %s: sameEpisode %v, reflect.DeepEqual %v", v.Type().Field(i).Name, !want, want)
		}
	}
	a, b := base, base
	a.Destinations, b.Destinations = []string{}, nil
	if sameEpisode(&a, &b) != reflect.DeepEqual(a, b) {
		t.Error("empty and nil destinations: sameEpisode disagrees with reflect.DeepEqual")
	}
}

// TestEncoder checks the encoded batch comes in order with its flags, inline
// and pipelined, and that stopping early ends the encoding goroutine.
func TestEncoder(t *testing.T) {
	for _, n := range []int{3, pipelineFrom, 5 * encodeAhead} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ts := burst(n)
			// The last transition repeats the first series and episode.
			ts[n-1] = ts[0]
			next, stop := Encoder(ts)
			defer stop()
			for i := range ts {
				got, err := next()
				if err != nil {
					t.Fatal(err)
				}
				want, err := Encode(ts[i])
				if err != nil {
					t.Fatal(err)
				}
				if got.Data != want.Data || got.Series != want.Series || got.EpisodeData != want.EpisodeData {
					t.Fatalf("transition %d: rows differ from Encode's", i)
				}
				if wantLast := i != 0; got.LastSeries != wantLast || got.LastEp != wantLast {
					t.Errorf("transition %d: last series %v, last episode %v, want %v", i, got.LastSeries, got.LastEp, wantLast)
				}
			}
		})
	}

	t.Run("error", func(t *testing.T) {
		ts := burst(2 * pipelineFrom)
		ts[5].Value = math.NaN()
		next, stop := Encoder(ts)
		defer stop()
		for i := range 6 {
			if _, err := next(); (err != nil) != (i == 5) {
				t.Fatalf("transition %d: error %v", i, err)
			}
		}
	})

	t.Run("stop early", func(t *testing.T) {
		before := runtime.NumGoroutine()
		for range 20 {
			next, stop := Encoder(burst(4 * encodeAhead))
			if _, err := next(); err != nil {
				t.Fatal(err)
			}
			stop()
			stop() // twice is harmless
		}
		deadline := time.Now().Add(30 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines, %d before: encoding goroutines left running", runtime.NumGoroutine(), before)
			}
			runtime.Gosched()
		}
	})
}
