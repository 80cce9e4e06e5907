package webhook

import (
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// totalKey is one queue's total of one metric.
type totalKey struct {
	queue  string
	metric metric.Name
}

// accumulate turns the events of one request, in order, into the samples
// to evaluate, and returns them with the number of samples dropped because
// their queue is beyond MaxQueues.
//
// Every event goes through the handler's genesys.Accumulator, which admits
// at most MaxQueues queues and remembers the latest figures of each media
// type of a queue: a notification with all its figures, a tutorial sample
// with a media type when it is a count or a longest wait
// (genesys.SampleStats). An event gives its own samples (per media type
// and, for notifications, agents on queue) and the queue totals over every
// media type remembered. Queue totals are emitted once per queue and
// metric per request, as they stand after the request's last event that
// gave them, so that a batch never shows a transient total; a queue-level
// tutorial sample of the same queue and metric in the request wins over
// the derived total.
func (h *Handler) accumulate(events []event) ([]metric.Sample, int) {
	var out []metric.Sample
	dropped := 0
	totals := map[totalKey]metric.Sample{}
	explicit := map[totalKey]bool{}
	var order []totalKey
	setTotal := func(s metric.Sample) {
		k := totalKey{s.QueueID, s.Metric}
		if _, seen := totals[k]; !seen {
			order = append(order, k)
		}
		totals[k] = s
	}
	for _, ev := range events {
		if e := ev.notification; e != nil {
			if !h.acc.Admit(e.QueueID) {
				dropped += len(ev.samples)
				continue
			}
			s := h.acc.ApplyEvent(*e)
			at := ev.stamp
			own := genesys.QueueStats{QueueID: s.QueueID, QueueName: s.QueueName, Media: s.Media, Agents: s.Agents}
			out = own.AppendSamples(out, at, metric.SourceWebhook)
			total := genesys.QueueStats{QueueID: s.QueueID, QueueName: s.QueueName, Total: s.Total}
			for _, t := range total.AppendSamples(nil, at, metric.SourceWebhook) {
				setTotal(t)
			}
			continue
		}
		for _, smp := range ev.samples {
			if !h.acc.Admit(smp.QueueID) {
				dropped++
				continue
			}
			out = append(out, smp)
			if smp.MediaType == "" {
				explicit[totalKey{smp.QueueID, smp.Metric}] = true
				continue
			}
			st, ok := genesys.SampleStats(smp)
			if !ok {
				continue
			}
			s := h.acc.Apply(st, false)
			total := genesys.QueueStats{QueueID: s.QueueID, QueueName: s.QueueName, Total: s.Total}
			for _, t := range total.AppendSamples(nil, smp.At, smp.Source) {
				if t.Metric == smp.Metric {
					setTotal(t)
				}
			}
		}
	}
	for _, k := range order {
		if !explicit[k] {
			out = append(out, totals[k])
		}
	}
	return out, dropped
}
