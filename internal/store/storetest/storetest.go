// Package storetest is the contract suite every store.Store implementation
// must pass. An implementation's tests call Run with a function that opens a
// new, empty store, and RunReopen when the same database can be opened again.
//
// The suite never reads the wall clock for semantics: every time it passes
// is derived from Base, which has nanoseconds set, and every time it reads
// back must be Equal to what it wrote and in UTC.
package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/store"
)

// Base is the time the suite's fixtures are built around.
var Base = time.Date(2025, time.March, 14, 9, 26, 53, 589793238, time.UTC)

// at returns Base+d.
func at(d time.Duration) time.Time { return Base.Add(d) }

type test struct {
	name string
	f    func(t *testing.T, s store.Store)
}

// Run runs the contract suite, one subtest per documented behaviour. open
// must return a new, empty store each time it is called; the suite closes
// every store it opens, so open should not.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	var tests []test
	tests = append(tests, commitTests...)
	tests = append(tests, readTests...)
	tests = append(tests, claimTests...)
	tests = append(tests, finishTests...)
	tests = append(tests, outboxTests...)
	tests = append(tests, concurrencyTests...)
	tests = append(tests, silenceTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.f(t, s)
		})
	}
}

// episode returns an open episode of key with every field set.
func episode(key, id string, start time.Time) *alert.Episode {
	return &alert.Episode{
		ID: id, Key: key, Rule: "sla_breach", QueueID: "queue-" + key, QueueName: "Support " + key,
		MediaType: "voice", Metric: metric.ServiceLevel, Start: start, Worst: 71.25,
		WorstAt: start.Add(13), Priority: alert.P2, Notified: true,
	}
}

// tr builds a transition of key at when, with every field set so that round
// trips are checked; ep (copied) becomes its episode and its series' episode.
func tr(key string, when time.Time, from, to alert.State, action alert.Action, ep *alert.Episode,
	version int64, dests ...string) alert.Transition {
	s := alert.SeriesState{
		Key: key, Rule: "sla_breach", QueueID: "queue-" + key, QueueName: "Support " + key,
		MediaType: "voice", Metric: metric.ServiceLevel, State: to, Since: when, Level: -1,
		LastValue: 71.25, LastSampleAt: when.Add(-1500*time.Millisecond + 7), Version: version,
	}
	if to != alert.OK {
		s.PendingSince, s.Level, s.Priority = when.Add(-time.Minute-3), 1, alert.P2
	}
	if to == alert.Resolving {
		s.ClearSince = when.Add(-11)
	}
	t := alert.Transition{
		Key: key, Rule: s.Rule, QueueID: s.QueueID, QueueName: s.QueueName, MediaType: s.MediaType,
		Metric: s.Metric, At: when, From: from, To: to, Action: action,
		Reason: fmt.Sprintf("%s to %s", from, to), Value: 71.25, Threshold: 80, Clear: 85, Target: 80,
		Priority: s.Priority, Note: "note for " + key, Destinations: dests, Series: s,
	}
	if ep != nil {
		c, sc := *ep, *ep
		t.Episode, t.Series.Episode = &c, &sc
	}
	return t
}

// simple returns a firing create of key at when owed to dests, in an episode
// named after key and when.
func simple(key string, when time.Time, dests ...string) alert.Transition {
	ep := episode(key, fmt.Sprintf("%s@%d", key, when.UnixNano()), when)
	return tr(key, when, alert.Pending, alert.Firing, alert.ActionCreate, ep, 1, dests...)
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func normEpisode(e *alert.Episode) *alert.Episode {
	if e == nil {
		return nil
	}
	c := *e
	c.Start, c.End, c.WorstAt = utc(c.Start), utc(c.End), utc(c.WorstAt)
	return &c
}

func normSeries(s alert.SeriesState) alert.SeriesState {
	s.Since, s.PendingSince, s.ClearSince, s.LastSampleAt = utc(s.Since), utc(s.PendingSince),
		utc(s.ClearSince), utc(s.LastSampleAt)
	var flaps []time.Time
	for _, f := range s.Flaps {
		flaps = append(flaps, utc(f))
	}
	s.Flaps = flaps
	s.Episode = normEpisode(s.Episode)
	return s
}

// normTransition drops Series, which stores do not return with transitions.
func normTransition(t alert.Transition) alert.Transition {
	t.At = utc(t.At)
	t.Episode = normEpisode(t.Episode)
	t.Series = alert.SeriesState{}
	if len(t.Destinations) == 0 {
		t.Destinations = nil
	}
	return t
}

func normDelivery(d store.Delivery) store.Delivery {
	d.Transition = normTransition(d.Transition)
	d.NextAttemptAt, d.LeaseUntil, d.CreatedAt, d.UpdatedAt, d.SentAt = utc(d.NextAttemptAt),
		utc(d.LeaseUntil), utc(d.CreatedAt), utc(d.UpdatedAt), utc(d.SentAt)
	return d
}

// same fails t unless got and want are equal (after times were normalised
// by the caller); what names the compared thing.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// checkUTC fails t when a non-zero time is not in UTC.
func checkUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, x := range ts {
		if !x.IsZero() && x.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, x, x.Location())
		}
	}
}
