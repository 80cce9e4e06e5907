package alert

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// memCommitter records committed transitions in memory.
type memCommitter struct {
	mu      sync.Mutex
	ts      []Transition
	commits int
	fail    int // fail this many commits first
}

func (m *memCommitter) Commit(_ context.Context, ts []Transition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return fmt.Errorf("disk on fire")
	}
	m.commits++
	m.ts = append(m.ts, ts...)
	return nil
}

func (m *memCommitter) all() []Transition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Transition(nil), m.ts...)
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday

// step is one input of a scenario: a sample (value at offset) or an advance.
type step struct {
	at      time.Duration
	value   float64
	advance bool
	metric  metric.Name // default: the rule's metric
	queue   string      // default "q1"
}

func smp(at time.Duration, v float64) step { return step{at: at, value: v} }
func adv(at time.Duration) step            { return step{at: at, advance: true} }

// run feeds steps to a fresh engine with rules and returns "from>to:action" codes.
func run(t *testing.T, rules []*rule.Rule, steps []step, opts ...func(*Options)) ([]Transition, *Engine) {
	t.Helper()
	mc := &memCommitter{}
	o := Options{Rules: rules, Committer: mc, Shards: 2}
	for _, f := range opts {
		f(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	ctx := context.Background()
	for _, s := range steps {
		at := t0.Add(s.at)
		if s.advance {
			if err := e.Advance(ctx, at); err != nil {
				t.Fatal(err)
			}
			continue
		}
		m, q := s.metric, s.queue
		if m == "" {
			m = rules[0].Metric
		}
		if q == "" {
			q = "q1"
		}
		if err := e.Observe(ctx, metric.Sample{QueueID: q, QueueName: "Queue " + q, Metric: m, Value: s.value, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	return mc.all(), e
}

func codes(ts []Transition) string {
	var parts []string
	for _, t := range ts {
		c := fmt.Sprintf("%s>%s", t.From, t.To)
		if t.Action != ActionNone {
			c += ":" + string(t.Action)
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, " ")
}

func lvl(thr, clr float64, p rule.Priority) rule.Level {
	return rule.Level{Threshold: rule.Threshold{Value: thr}, Clear: rule.Threshold{Value: clr}, Priority: p}
}

func below(name string, thr, clr float64) *rule.Rule {
	return &rule.Rule{Name: name, Metric: metric.ServiceLevel, Dir: rule.Below, Queues: []string{"*"},
		Levels: []rule.Level{lvl(thr, clr, rule.P1)}, Notify: []string{"oncall"}}
}
