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
	out := make([]metric.Sample, 0, 2*len(events))
	dropped := 0
	var totals totalSet
	var explicit map[totalKey]bool // made on first use
	var buf []metric.Sample
	setTotal := totals.set
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
			buf = total.AppendSamples(buf[:0], at, metric.SourceWebhook)
			for _, t := range buf {
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
				if explicit == nil {
					explicit = map[totalKey]bool{}
				}
				explicit[totalKey{smp.QueueID, smp.Metric}] = true
				continue
			}
			st, ok := genesys.SampleStats(smp)
			if !ok {
				continue
			}
			s := h.acc.Apply(st, false)
			total := genesys.QueueStats{QueueID: s.QueueID, QueueName: s.QueueName, Total: s.Total}
			buf = total.AppendSamples(buf[:0], smp.At, smp.Source)
			for _, t := range buf {
				if t.Metric == smp.Metric {
					setTotal(t)
				}
			}
		}
	}
	for i, k := range totals.keys {
		if !explicit[k] {
			out = append(out, totals.vals[i])
		}
	}
	return out, dropped
}

// totalSet holds the latest sample of each queue total, in the order of
// first appearance. A request has few totals, looked up by a linear
// search; an index map is made once there are many.
type totalSet struct {
	keys  []totalKey
	vals  []metric.Sample
	index map[totalKey]int
}

// indexAbove is how many totals are searched linearly.
const indexAbove = 16

func (t *totalSet) set(s metric.Sample) {
	k := totalKey{s.QueueID, s.Metric}
	if t.index != nil {
		if i, ok := t.index[k]; ok {
			t.vals[i] = s
			return
		}
	} else {
		for i := range t.keys {
			if t.keys[i] == k {
				t.vals[i] = s
				return
			}
		}
	}
	t.keys = append(t.keys, k)
	t.vals = append(t.vals, s)
	switch {
	case t.index != nil:
		t.index[k] = len(t.keys) - 1
	case len(t.keys) > indexAbove:
		t.index = make(map[totalKey]int, 2*len(t.keys))
		for i, key := range t.keys {
			t.index[key] = i
		}
	}
}
