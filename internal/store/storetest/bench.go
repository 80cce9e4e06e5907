package storetest

import (
	"fmt"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// BenchBatch returns n firing transitions of round, each owed to two
// destinations ("oncall" and "cc-slack"), spread over 1,000 series keys:
// the workload of the stores' commit benchmarks.
func BenchBatch(n int, round int64) []alert.Transition {
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC).Add(time.Duration(round) * time.Second)
	ts := make([]alert.Transition, n)
	for i := range ts {
		key := fmt.Sprintf("queue-%04d_sla_breach", (int(round)*n+i)%1000)
		ep := &alert.Episode{ID: fmt.Sprintf("%s@%d", key, round), Key: key, Rule: "sla_breach",
			QueueID: key[:10], QueueName: "Support", Metric: metric.ServiceLevel, Start: at, Worst: 61.5,
			WorstAt: at, Priority: alert.P1, Notified: true}
		series := alert.SeriesState{Key: key, Rule: "sla_breach", QueueID: key[:10], QueueName: "Support",
			Metric: metric.ServiceLevel, State: alert.Firing, Since: at, PendingSince: at.Add(-time.Minute),
			Level: 0, Priority: alert.P1, LastValue: 61.5, LastSampleAt: at, Episode: ep, Version: round + 1}
		c := *ep
		ts[i] = alert.Transition{Key: key, Rule: "sla_breach", QueueID: key[:10], QueueName: "Support",
			Metric: metric.ServiceLevel, At: at, From: alert.Pending, To: alert.Firing, Action: alert.ActionCreate,
			Reason: "service level 61.5% below 80% for 1m", Value: 61.5, Threshold: 80, Clear: 85,
			Priority: alert.P1, Destinations: []string{"oncall", "cc-slack"}, Episode: &c, Series: series}
	}
	return ts
}
