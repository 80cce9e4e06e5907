package codec

import (
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// cet is a zone other than UTC, so the fixtures exercise the normalisation.
var cet = time.FixedZone("CET", 3600)

// fixture is a named transition whose encoding is kept in testdata.
type fixture struct {
	name string
	t    alert.Transition
}

// fixtures are the transitions the engine emits, as the store receives
// them: a create with its episode (the scale burst's case), a pending step
// without one, a flapping resolve, a held create whose series episode
// differs from the transition's, and one with text that needs escaping.
func fixtures() []fixture {
	at := time.Date(2026, 12, 4, 23, 17, 16, 123456789, time.UTC)
	ep := &alert.Episode{
		ID: "q-0042_sla@1796426236123", Key: "q-0042_sla", Rule: "sla", QueueID: "q-0042",
		QueueName: "Billing (EN)", Metric: metric.ServiceLevel, Start: at, Worst: 50, WorstAt: at,
		Priority: alert.P2, Notified: true, Destinations: []string{"opsgenie", "slack-ops"},
	}
	series := alert.SeriesState{
		Key: "q-0042_sla", Rule: "sla", QueueID: "q-0042", QueueName: "Billing (EN)",
		Metric: metric.ServiceLevel, State: alert.Firing, Since: at, PendingSince: at, Level: 0,
		Priority: alert.P2, LastValue: 50, LastSampleAt: at, Version: 1,
	}
	create := alert.Transition{
		Key: "q-0042_sla", Rule: "sla", QueueID: "q-0042", QueueName: "Billing (EN)",
		Metric: metric.ServiceLevel, At: at, From: alert.OK, To: alert.Firing, Action: alert.ActionCreate,
		Reason: "breach", Value: 50, Threshold: 80, Clear: 80, Priority: alert.P2,
		Destinations: []string{"opsgenie", "slack-ops"}, Episode: clone(ep), Series: series,
	}
	create.Series.Episode = clone(ep)

	pending := alert.Transition{
		Key: "q-7_wait_voice", Rule: "wait", QueueID: "q-7", QueueName: "Sales", MediaType: "voice",
		Metric: metric.LongestWait, At: at.In(cet), From: alert.OK, To: alert.Pending,
		Reason: "breach; firing if it holds for 2m0s", Value: 312.5, Threshold: 300, Clear: 240,
		Series: alert.SeriesState{
			Key: "q-7_wait_voice", Rule: "wait", QueueID: "q-7", QueueName: "Sales", MediaType: "voice",
			Metric: metric.LongestWait, State: alert.Pending, Since: at.In(cet), PendingSince: at.In(cet),
			Level: -1, LastValue: 312.5, LastSampleAt: at.In(cet), Version: 7,
		},
	}

	start := time.Date(2026, 12, 4, 22, 0, 0, 0, cet)
	end := start.Add(90*time.Minute + 500*time.Millisecond)
	closed := &alert.Episode{
		ID: "q-9_sla@1796421600000", Key: "q-9_sla", Rule: "sla", QueueID: "q-9", QueueName: "Support",
		Metric: metric.ServiceLevel, Start: start, End: end, Worst: 0.000000125, WorstAt: start.Add(time.Minute),
		Priority: alert.P1, Notified: true, Destinations: []string{"opsgenie"},
	}
	resolve := alert.Transition{
		Key: "q-9_sla", Rule: "sla", QueueID: "q-9", QueueName: "Support", Metric: metric.ServiceLevel,
		At: end, From: alert.Resolving, To: alert.OK, Action: alert.ActionResolve, Reason: "clear held for 5m0s",
		Value: 97.25, Threshold: 80, Clear: 85, Target: 80, Priority: alert.P1, PrevPriority: alert.P2,
		Note: "flapping: 4 changes in 30m0s", Destinations: []string{"opsgenie", "opsgenie"},
		Episode: clone(closed),
		Series: alert.SeriesState{
			Key: "q-9_sla", Rule: "sla", QueueID: "q-9", QueueName: "Support", Metric: metric.ServiceLevel,
			State: alert.OK, Since: end, ClearSince: end.Add(-5 * time.Minute), Level: -1, LastValue: 97.25,
			LastSampleAt: end, Stale: true, Flapping: true,
			Flaps:   []time.Time{start, start.Add(10 * time.Minute), start.Add(20*time.Minute + 1)},
			Episode: clone(closed), Version: 12,
		},
	}

	held := alert.Transition{
		Key: "q-3_queue", Rule: "queue", QueueID: "q-3", QueueName: "Retention", Metric: metric.Waiting,
		At: at, From: alert.Pending, To: alert.Firing, Action: alert.ActionCreate, Reason: "breach held for 1m0s",
		Value: 1e21, Threshold: 50, Clear: 50, Priority: alert.P3, Held: "silence s-1",
		Episode: &alert.Episode{
			ID: "q-3_queue@1", Key: "q-3_queue", Rule: "queue", QueueID: "q-3", QueueName: "Retention",
			Metric: metric.Waiting, Start: at, Worst: 1e21, WorstAt: at, Priority: alert.P3,
		},
		Series: alert.SeriesState{
			Key: "q-3_queue", Rule: "queue", QueueID: "q-3", QueueName: "Retention", Metric: metric.Waiting,
			State: alert.Firing, Since: at, Level: 2, Priority: alert.P3, LastValue: -0.5, Held: "silence s-1",
			// An older copy: the series row keeps its own.
			Episode: &alert.Episode{
				ID: "q-3_queue@1", Key: "q-3_queue", Rule: "queue", QueueID: "q-3", QueueName: "Retention",
				Metric: metric.Waiting, Start: at, Worst: 60, WorstAt: at, Priority: alert.P4,
			},
			Version: 3,
		},
	}

	odd := "Ümlaut <b>&amp;</b> \"quoted\" back\\slash\ttab\nline\r\x00\x01\x1f\x7f é 日本 \u2028\u2029 bad\xff\xfe end"
	escapes := alert.Transition{
		Key: "q-odd_sla", Rule: "sla", QueueID: "q-odd", QueueName: odd, MediaType: "chat",
		Metric: metric.ServiceLevel, At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		From: alert.Firing, To: alert.Resolving, Reason: odd, Value: 1e-7, Threshold: -1e-6, Clear: 123456789012,
		Note: odd, Destinations: []string{odd},
		Series: alert.SeriesState{
			Key: "q-odd_sla", Rule: "sla", QueueID: "q-odd", QueueName: odd, MediaType: "chat",
			Metric: metric.ServiceLevel, State: alert.Resolving, Level: 1, Held: odd, LastValue: 5e-324,
			Version: 1 << 62,
		},
	}
	return []fixture{{"create", create}, {"pending", pending}, {"resolve", resolve}, {"held", held}, {"escapes", escapes}}
}

func clone(e *alert.Episode) *alert.Episode {
	c := *e
	c.Destinations = append([]string(nil), e.Destinations...)
	return &c
}
