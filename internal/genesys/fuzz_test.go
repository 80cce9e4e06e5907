package genesys_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// FuzzParseNotification checks that parsing never panics, that every
// error wraps one of the package's errors, and that an accepted event only
// gives plausible samples, on its own and through a bounded Accumulator.
// The seed corpus is in testdata/fuzz/FuzzParseNotification.
func FuzzParseNotification(f *testing.F) {
	f.Add([]byte(observationsEvent))
	f.Add([]byte(activityEvent))
	f.Add([]byte(eventBridgeEvent))
	f.Add([]byte(webhookObservations))
	f.Add([]byte(notificationOf(actTopic(queueB), activityBody(clock.Add(-95*time.Second), clock.Add(-40*time.Second)), "c")))

	acc := genesys.NewBoundedAccumulator(nil, 8)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := genesys.ParseEvent(body, clock)
		if err != nil {
			if !errors.Is(err, genesys.ErrNotNotification) && !errors.Is(err, genesys.ErrUnsupportedTopic) &&
				!errors.Is(err, genesys.ErrMalformedEvent) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			if _, err2 := genesys.ParseNotificationAt(body, clock); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("ParseNotificationAt: %v, ParseEvent: %v", err2, err)
			}
			return
		}
		if e.QueueID == "" || strings.Contains(e.QueueID, ".") || (e.Kind != "observations" && e.Kind != "activity") {
			t.Fatalf("event %+v", e)
		}
		at := clock
		if !e.Time.IsZero() {
			at = e.Time
		}
		samples, err := genesys.ParseNotificationAt(body, clock)
		if err != nil {
			t.Fatal(err)
		}
		check := func(s metric.Sample, limit float64) {
			t.Helper()
			info, ok := metric.Lookup(s.Metric)
			switch {
			case !ok:
				t.Fatalf("unknown metric in %+v", s)
			case s.QueueID != e.QueueID:
				t.Fatalf("queue %q in %+v, want %q", s.QueueID, s, e.QueueID)
			case !(s.Value >= 0 && s.Value <= limit):
				t.Fatalf("implausible value in %+v", s)
			case info.Unit == metric.Percent && s.Value > 100:
				t.Fatalf("percentage over 100 in %+v", s)
			case !s.At.Equal(at) || s.Source != metric.SourceStream:
				t.Fatalf("sample %+v, want at %s from stream", s, at)
			}
		}
		// Counts are sums of rows of at most 10^13 each.
		const limit = 1e13 * float64(1<<20)
		for _, s := range samples {
			check(s, limit)
		}
		merged, err := acc.Parse(body, clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range merged {
			check(s, limit*genesys.MaxMediaPerQueue)
		}
		if acc.Len() > 8 {
			t.Fatalf("the accumulator holds %d queues", acc.Len())
		}
	})
}
