package app

import (
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
)

// benchRateYAML lifts the configured rate limits of a destination, so that
// a benchmark measures the pipeline and not the limiter (the defaults are
// OpsGenie 5/s and Slack 1/s).
const benchRateYAML = "rate: 100000\nburst: 10000"

// BenchmarkDeliveryThroughput measures deliveries per second from commit to
// the fake OpsGenie and Slack: b.N queues breach (b.N transitions, each owing
// one OpsGenie and one Slack delivery), posted to the webhook in batches of
// 500; the clock runs from the first webhook request to the last request the
// fakes recorded (OpsGenie's request-status check that confirms the last
// create, Slack's last post or edit).
//
// Rate limits are lifted (YAML, the fake Slack's and the Slack notifier's
// own pacing), so the sub-benchmarks show what the pipeline carries: the
// default 8 workers per destination, and 32 set in the YAML. An OpsGenie
// send frees its worker once OpsGenie accepted it and is confirmed apart:
// first check after 200 ms, and one more (400 ms later) when OpsGenie has
// not processed it yet, as the fake answers by default ("quick-confirm"
// makes the fake process a request at its first check). Slack is no
// bottleneck: storm mode rolls a batch of up to 50 new alerts into one
// request. "cpu-µs/delivery" is the CPU the whole test process (service,
// fakes, webhook client) used per delivery, which other load on the machine
// does not change the way it changes deliveries/s.
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, bc := range []struct {
		name         string
		yaml         string
		quickConfirm bool
	}{
		{name: "workers=8(default)"},
		{name: "workers=8(default)/quick-confirm", quickConfirm: true},
		{name: "workers=32", yaml: "\nworkers: 32"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			h.slack.SetRateLimits(fakeslack.Rate{}, fakeslack.Rate{})
			if bc.quickConfirm {
				h.og.SetNotProcessedPolls(0)
			}
			h.start(rules(waitRule, "oncall", "cc-slack"), e2eOpts{
				dests: []string{"oncall", "cc-slack"},
				extra: map[string]string{"*": benchRateYAML + bc.yaml},
			})
			liftSlackPacing(h.svc.dests.list)
			at := time.Now().Add(-time.Minute)
			var evs []event
			for i := range b.N {
				evs = append(evs, event{queue: queueID(i), metric: "longest_wait", value: 200, at: at})
			}

			b.ResetTimer()
			cpu0 := processCPU(b)
			start := time.Now()
			var wg sync.WaitGroup
			for lo := 0; lo < len(evs); lo += 500 {
				wg.Go(func() {
					if err := h.post(evs[lo:min(lo+500, len(evs))]...); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			waitEvery(b, 10*time.Minute, 250*time.Millisecond, "every delivery", func() bool { return h.owed() == 0 }, h.outboxSummary)
			b.StopTimer()
			cpu := processCPU(b) - cpu0

			end := start
			for _, r := range h.og.Requests() {
				if r.At.After(end) {
					end = r.At
				}
			}
			for _, m := range h.slack.Messages(fakeslack.DefaultChannel) {
				for _, t := range []time.Time{m.Posted, m.Edited} {
					if t.After(end) {
						end = t
					}
				}
			}
			if n := len(h.og.Alerts()); n != b.N {
				b.Fatalf("%d OpsGenie alerts, want %d", n, b.N)
			}
			b.ReportMetric(float64(2*b.N)/end.Sub(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(2*b.N), "cpu-µs/delivery")
		})
	}
}

// BenchmarkCommitToRequestLatency measures, for an idle service and an idle
// fake OpsGenie, the time from the commit of a transition to the create
// request arriving at OpsGenie, as recorded by the fake. The commit is
// acknowledged by the webhook's 202 (the answer is written once the
// transition is durable), so "ms" runs from the 202 reaching the client;
// "from-send" runs from the start of the webhook request (before the
// commit), an upper bound. Each sample waits until the previous delivery is
// confirmed and recorded, so nothing queues. At least 50 samples are taken
// whatever b.N (each takes about 0.25 s: the OpsGenie notifier confirms
// every request), so that p99 means something with the default -benchtime.
func BenchmarkCommitToRequestLatency(b *testing.B) {
	h := newHarness(b)
	h.og.SetNotProcessedPolls(0)
	h.start(rules(waitRule, "oncall"), e2eOpts{dests: []string{"oncall"}})
	samples := max(b.N, 50)
	from202 := make([]float64, 0, samples)
	fromSend := make([]float64, 0, samples)

	b.ResetTimer()
	for i := range samples {
		q := queueID(i)
		sent := time.Now()
		h.send(event{queue: q, metric: "longest_wait", value: 200, at: sent.Add(-time.Second)})
		acked := time.Now()
		var arrived time.Time
		waitEvery(b, 10*time.Second, time.Millisecond, "the create of "+q, func() bool {
			reqs := h.og.Requests()
			for j := len(reqs) - 1; j >= 0; j-- {
				if o := classifyOG(reqs[j].Method, reqs[j].Path, reqs[j].Body, reqs[j].Status, reqs[j].At); o.Op == "create" && o.Alias == q+"_long_wait" {
					arrived = o.At
					return true
				}
			}
			return false
		}, nil)
		from202 = append(from202, ms(arrived.Sub(acked)))
		fromSend = append(fromSend, ms(arrived.Sub(sent)))
		// Idle again: the delivery confirmed and recorded.
		waitEvery(b, 10*time.Second, 2*time.Millisecond, "the delivery of "+q, func() bool { return h.owed() == 0 }, h.outboxSummary)
	}
	b.StopTimer()

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentile(from202, 50), "p50-ms")
	b.ReportMetric(percentile(from202, 99), "p99-ms")
	b.ReportMetric(percentile(fromSend, 50), "from-send-p50-ms")
	b.ReportMetric(percentile(fromSend, 99), "from-send-p99-ms")
	b.ReportMetric(float64(samples), "samples")
}

// processCPU returns the CPU time (user and system) the test process used so
// far: the service, the fakes and the benchmark itself, which share it.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the p-th percentile (nearest rank) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
