package alert

import (
	"math"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

type reqKind int

const (
	reqObserve reqKind = iota
	reqAdvance
	reqRestore
	reqSnapshot
)

type shardReq struct {
	kind    reqKind
	samples []metric.Sample
	now     time.Time
	restore []SeriesState
	snap    chan<- snapshot
	done    chan<- error
}

type snapshot struct {
	series []SeriesView
	queues []QueueView
}

type queueKey struct{ id, media string }

// shard owns a subset of queues and all their series.
type shard struct {
	e      *Engine
	in     chan shardReq
	queues map[queueKey]*queueInfo
	muter  Muter
	held   heldFunc
	out    []Transition
}

func (sh *shard) run() {
	defer sh.e.shardWG.Done()
	for {
		select {
		case req := <-sh.in:
			sh.handle(req)
		case <-sh.e.closing:
			// Finish what was accepted before stopping.
			for {
				select {
				case req := <-sh.in:
					sh.handle(req)
				default:
					return
				}
			}
		}
	}
}

func (sh *shard) handle(req shardReq) {
	sh.out = sh.out[:0]
	switch req.kind {
	case reqObserve:
		for i := range req.samples {
			sh.observe(&req.samples[i])
		}
		sh.e.samples.Add(uint64(len(req.samples)))
	case reqAdvance:
		for _, q := range sh.queues {
			for _, list := range q.byMetric {
				for _, s := range list {
					sh.out = s.advance(sh.out, req.now, sh.held)
				}
			}
		}
	case reqRestore:
		for _, st := range req.restore {
			sh.restore(st)
		}
	case reqSnapshot:
		req.snap <- sh.snapshot()
	}
	if len(sh.out) == 0 {
		req.done <- nil
		return
	}
	ts := sh.out
	sh.out = nil // ownership passes to the committer
	sh.e.commitCh <- commitReq{ts: ts, done: req.done}
}

func (sh *shard) observe(smp *metric.Sample) {
	if math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) || smp.QueueID == "" || smp.At.IsZero() {
		sh.e.invalid.Add(1) // never evaluated: it would poison state and the store refuses it
		return
	}
	q := sh.queue(smp.QueueID, smp.QueueName, smp.MediaType, smp.At)
	if idx, ok := metric.Index(smp.Metric); ok {
		q.values[idx] = smp.Value
		q.valueAt[idx] = smp.At.UnixNano()
	}
	if smp.Metric == metric.ServiceLevelTarget {
		q.target, q.haveTarget = smp.Value, true
	}
	list, ok := q.byMetric[smp.Metric]
	if !ok {
		list = sh.match(q, smp.Metric)
	}
	for _, s := range list {
		var evaluated bool
		sh.out, evaluated = s.observe(sh.out, smp.Value, smp.At, sh.held)
		if !evaluated {
			sh.e.outOfOrder.Add(1)
		} else if s.noTarget {
			sh.e.noTarget.Add(1)
		}
	}
}

// queue finds or creates what the shard knows of a queue; a renamed queue has
// its rules matched again.
func (sh *shard) queue(id, name, media string, at time.Time) *queueInfo {
	k := queueKey{id, media}
	q := sh.queues[k]
	if q == nil {
		q = &queueInfo{
			id: id, name: name, media: media,
			byMetric: map[metric.Name][]*series{},
			values:   make([]float64, metric.Len),
			valueAt:  make([]int64, metric.Len),
		}
		sh.queues[k] = q
		return q
	}
	if name != "" && name != q.name {
		sh.rename(q, name, at)
	}
	return q
}

// match creates the series of every rule on metric m that applies to q.
func (sh *shard) match(q *queueInfo, m metric.Name) []*series {
	var list []*series
	for _, r := range sh.e.rules {
		if r.Metric != m {
			continue
		}
		if levels, ok := r.Applies(q.id, q.name, q.media); ok {
			list = append(list, newSeries(r, levels, q))
		}
	}
	q.byMetric[m] = list // an empty list caches "no rule applies"
	return list
}

// rename updates a queue's name and matches its rules again; an open alert
// whose rule no longer applies is resolved.
func (sh *shard) rename(q *queueInfo, name string, at time.Time) {
	q.name = name
	old := q.byMetric
	q.byMetric = map[metric.Name][]*series{}
	for m, list := range old {
		fresh := sh.match(q, m)
		for i, f := range fresh {
			for _, s := range list {
				if s.rule == f.rule {
					s.levels = f.levels
					s.st.QueueName = name
					fresh[i] = s
				}
			}
		}
		for _, s := range list {
			if !containsSeries(fresh, s) {
				sh.retire(s, at, "queue renamed to "+name+"; rule no longer applies")
			}
		}
	}
}

func containsSeries(list []*series, s *series) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// retire ends a series that no longer belongs to the rule set.
func (sh *shard) retire(s *series, at time.Time, reason string) {
	switch {
	case s.st.State.Open():
		if at.Before(s.st.LastSampleAt) {
			at = s.st.LastSampleAt
		}
		sh.out = s.resolve(sh.out, at, reason, sh.held)
	case s.st.State == Pending:
		sh.out = s.moveTo(sh.out, OK, at, reason)
	}
}

func (sh *shard) restore(st SeriesState) {
	q := sh.queue(st.QueueID, st.QueueName, st.MediaType, st.LastSampleAt)
	list, ok := q.byMetric[st.Metric]
	if !ok {
		list = sh.match(q, st.Metric)
	}
	for _, s := range list {
		if s.rule.Name == st.Rule {
			s.st = st
			s.st.Flaps = append([]time.Time(nil), st.Flaps...)
			if st.Episode != nil {
				ep := *st.Episode
				s.st.Episode = &ep
			}
			return
		}
	}
	// The rule is gone or no longer applies: close what is open.
	var r *rule.Rule
	for _, x := range sh.e.rules {
		if x.Name == st.Rule {
			r = x
		}
	}
	if r == nil {
		r = &rule.Rule{Name: st.Rule, Metric: st.Metric, Dir: rule.Above, Levels: []rule.Level{{}}}
	}
	s := newSeries(r, r.Levels, q)
	s.st = st
	if st.Episode != nil {
		ep := *st.Episode
		s.st.Episode = &ep
	}
	at := st.LastSampleAt
	if at.Before(st.Since) {
		at = st.Since
	}
	sh.retire(s, at, "rule "+st.Rule+" was removed or no longer applies to this queue")
}

func (sh *shard) heldReason(s *series, at time.Time) string {
	if sc := s.rule.Schedule; sc != nil && !sc.Active(at) {
		return "outside schedule " + sc.Name
	}
	if sh.muter != nil {
		return sh.muter.Muted(s.st.Key, s.st.Rule, s.st.QueueID, s.st.QueueName, at)
	}
	return ""
}

func (sh *shard) snapshot() snapshot {
	var out snapshot
	for _, q := range sh.queues {
		qv := QueueView{QueueID: q.id, QueueName: q.name, MediaType: q.media,
			Values: map[metric.Name]float64{}, At: map[metric.Name]time.Time{}}
		for i, n := range metric.Names() {
			if q.valueAt[i] != 0 {
				qv.Values[n] = q.values[i]
				qv.At[n] = time.Unix(0, q.valueAt[i]).UTC()
			}
		}
		out.queues = append(out.queues, qv)
		for _, list := range q.byMetric {
			for _, s := range list {
				out.series = append(out.series, SeriesView{
					SeriesState: s.snapshotState(),
					Threshold:   s.threshold, Clear: s.clear,
					Target: q.target, HaveTarget: q.haveTarget,
					WaitingForTarget: s.noTarget,
				})
			}
		}
	}
	return out
}
