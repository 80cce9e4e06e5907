package main

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxRequestsPerWorker bounds every load loop by count as well as by time.
const maxRequestsPerWorker = 5_000_000

// tally is what one worker saw.
type tally struct {
	requests     int64 // requests answered or failed
	events       int64 // events in those requests
	accepted     int64 // events in requests answered 202
	acceptedReqs int64 // requests answered 202
	samples      int64 // samples the 202 answers reported
	notSent      int64 // open loop: events not sent before the drain deadline
	lat          []time.Duration
	slow         []slowEvent // open loop: events over slowThreshold
	errs         map[string]int64
	examples     []string
}

func (t *tally) fail(kind, example string) {
	if t.errs == nil {
		t.errs = map[string]int64{}
	}
	t.errs[kind]++
	if len(t.examples) < 3 {
		t.examples = append(t.examples, example)
	}
}

// record checks one answer: a request of distinct, valid, signed events
// must be answered 202 with at least one sample. Anything else is an error.
func (t *tally) record(events int, code int, body []byte, err error) {
	t.requests++
	t.events += int64(events)
	switch {
	case err != nil:
		t.fail("transport", err.Error())
	case code != http.StatusAccepted:
		t.fail(fmt.Sprintf("status %d", code), fmt.Sprintf("%d %s", code, strings.TrimSpace(string(body))))
	default:
		n := answerSamples(body)
		if n < 1 {
			t.fail("bad 202 body", string(body))
			return
		}
		t.accepted += int64(events)
		t.acceptedReqs++
		t.samples += int64(n)
	}
}

// result is one phase's row.
type result struct {
	name, setup string
	wall        time.Duration // first send to last answer
	tally
	errors      int64
	serverCPU   float64  // seconds
	clientCPU   float64  // seconds
	otherCPU    float64  // seconds used by every other process on the machine
	others      []string // the biggest of them
	peakRSSKB   int64
	rssIsPhase  bool // peak reset at the start of the phase
	serverKnown bool // the server's CPU and RSS could be read (it did not die)
	offered     float64
	sorted      []time.Duration
}

func merge(ts []*tally) tally {
	var m tally
	for _, t := range ts {
		m.requests += t.requests
		m.events += t.events
		m.accepted += t.accepted
		m.acceptedReqs += t.acceptedReqs
		m.samples += t.samples
		m.notSent += t.notSent
		m.lat = append(m.lat, t.lat...)
		m.slow = append(m.slow, t.slow...)
		for k, v := range t.errs {
			if m.errs == nil {
				m.errs = map[string]int64{}
			}
			m.errs[k] += v
		}
		for _, e := range t.examples {
			if len(m.examples) < 5 {
				m.examples = append(m.examples, e)
			}
		}
	}
	return m
}

func (r *result) finish() {
	for _, v := range r.errs {
		r.errors += v
	}
	r.sorted = slices.Clone(r.lat)
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i] < r.sorted[j] })
	r.lat = nil
}

func (r *result) pct(p float64) time.Duration {
	if len(r.sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(r.sorted)))
	if i >= len(r.sorted) {
		i = len(r.sorted) - 1
	}
	return r.sorted[i]
}

// env is what every phase needs.
type env struct {
	srv     *server
	fleet   *fleet
	secret  []byte
	path    string
	timeout time.Duration
}

// measure wraps a phase with the server's and this process's CPU and the
// server's peak RSS.
func (e *env) measure(r *result, run func()) {
	reset := resetPeakRSS(e.srv.pid)
	s0, err0 := cpuSeconds(e.srv.pid)
	c0, _ := cpuSeconds(0)
	m0, _, _ := machineCPU()
	p0 := processCPU()
	run()
	p1 := processCPU()
	s1, err1 := cpuSeconds(e.srv.pid)
	c1, _ := cpuSeconds(0)
	m1, _, _ := machineCPU()
	rss, err2 := statusKB(e.srv.pid, "VmHWM")
	r.serverKnown = err0 == nil && err1 == nil && err2 == nil && e.srv.alive()
	r.serverCPU, r.clientCPU = s1-s0, c1-c0
	if r.serverKnown {
		r.otherCPU = max(0, float64(m1-m0)/clockTicks-r.serverCPU-r.clientCPU)
	}
	r.others = topOthers(p0, p1, map[int]bool{e.srv.pid: true, os.Getpid(): true}, 3)
	r.peakRSSKB = rss
	r.rssIsPhase = reset
	r.finish()
}

// dialAll opens n connections before a phase starts, so that connecting
// is not part of the measurement.
func (e *env) dialAll(n int) ([]*conn, error) {
	cs := make([]*conn, n)
	for i := range cs {
		cs[i] = newConn(e.srv.addr, e.timeout)
		if err := cs[i].dial(); err != nil {
			for _, c := range cs[:i] {
				c.close()
			}
			return nil, err
		}
	}
	return cs, nil
}

// closedLoop runs conns workers, each sending requests of perRequest events
// back to back for d: the throughput the server sustains.
func (e *env) closedLoop(name, tag string, conns, perRequest int, d time.Duration) (*result, error) {
	r := &result{name: name}
	if perRequest == 1 {
		r.setup = fmt.Sprintf("%d keep-alive conns, 1 event/request, closed loop, %s", conns, d)
	} else {
		r.setup = fmt.Sprintf("%d keep-alive conns, %d events/request, closed loop, %s", conns, perRequest, d)
	}
	cs, err := e.dialAll(conns)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	ts := make([]*tally, conns)
	e.measure(r, func() {
		start := time.Now()
		deadline := start.Add(d)
		var wg sync.WaitGroup
		for w := range conns {
			ts[w] = &tally{lat: make([]time.Duration, 0, 4096)}
			wg.Go(func() {
				t, c := ts[w], cs[w]
				s := newSender(e.fleet, e.secret, tag, w)
				for n := 0; n < maxRequestsPerWorker; n++ {
					now := time.Now()
					if now.After(deadline) {
						return
					}
					var body []byte
					if perRequest == 1 {
						body = s.single(now)
					} else {
						body = s.batch(now, perRequest)
					}
					code, resp, err := c.post(e.path, s.sign(body), body)
					t.lat = append(t.lat, time.Since(now))
					t.record(perRequest, code, resp, err)
					if err != nil && !e.srv.alive() {
						return // the failure is reported once, not once per request
					}
				}
			})
		}
		wg.Wait()
		r.wall = time.Since(start)
		r.tally = merge(ts)
	})
	return r, nil
}

// openLoop offers rate events per second, one per request, for d, from a
// schedule fixed in advance: event k is due at start + k/rate. Each latency
// is measured from the event's due time, not from when a connection became
// free, so a stalled server is charged for every event it delayed (no
// coordinated omission). Events still queued drainFor after the end of
// the schedule are counted as not sent.
func (e *env) openLoop(name, tag string, rate float64, d time.Duration, conns int, drainFor time.Duration) (*result, error) {
	r := &result{name: name, offered: rate,
		setup: fmt.Sprintf("open loop, %s events/s offered, 1 event/request, %d conns, %s", thousands(rate), conns, d)}
	total := int(rate * d.Seconds())
	if limit := maxRequestsPerWorker; total > limit {
		total = limit
	}
	cs, err := e.dialAll(conns)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	ts := make([]*tally, conns)
	e.measure(r, func() {
		due := make(chan time.Time, total)
		start := time.Now().Add(20 * time.Millisecond)
		interval := float64(time.Second) / rate
		giveUp := start.Add(d + drainFor)
		go func() {
			defer close(due)
			sent := 0
			for sent < total {
				if elapsed := time.Since(start); elapsed >= 0 {
					n := min(total, int(float64(elapsed)/interval)+1)
					for ; sent < n; sent++ {
						due <- start.Add(time.Duration(float64(sent) * interval))
					}
				}
				if sent < total {
					time.Sleep(200 * time.Microsecond) // the schedule's resolution; latencies still count from each due time
				}
			}
		}()
		var wg sync.WaitGroup
		for w := range conns {
			ts[w] = &tally{lat: make([]time.Duration, 0, total/conns+1024)}
			wg.Go(func() {
				t, c := ts[w], cs[w]
				s := newSender(e.fleet, e.secret, tag, w)
				for at := range due {
					now := time.Now()
					if now.After(giveUp) {
						t.notSent++
						continue
					}
					if !e.srv.alive() {
						t.notSent++
						continue
					}
					body := s.single(now)
					code, resp, err := c.post(e.path, s.sign(body), body)
					lat := time.Since(at)
					t.lat = append(t.lat, lat)
					if lat > slowThreshold {
						t.slow = append(t.slow, slowEvent{due: at.Sub(start), lat: lat, wait: now.Sub(at)})
					}
					t.record(1, code, resp, err)
				}
			})
		}
		wg.Wait()
		r.wall = time.Since(start)
		r.tally = merge(ts)
	})
	return r, nil
}

// slowThreshold is the latency target at the offered rate; the open-loop
// phase describes when events took longer.
const slowThreshold = 10 * time.Millisecond

// slowEvent is an open-loop event that took longer than slowThreshold.
type slowEvent struct {
	due  time.Duration // when it was due, from the start of the schedule
	lat  time.Duration // due time to answer
	wait time.Duration // due time to send: queued behind busy connections or a late qwbench
}

// episode is a run of slow events close together in the schedule.
type episode struct {
	from, to time.Duration
	events   int
	maxLat   time.Duration
	maxWait  time.Duration
}

// episodes groups slow events due less than 50 ms apart, biggest first.
func episodes(slow []slowEvent) []episode {
	ev := slices.Clone(slow)
	slices.SortFunc(ev, func(a, b slowEvent) int { return cmp.Compare(a.due, b.due) })
	var out []episode
	for _, e := range ev {
		if n := len(out); n > 0 && e.due-out[n-1].to < 50*time.Millisecond {
			ep := &out[n-1]
			ep.to, ep.events = e.due, ep.events+1
			ep.maxLat, ep.maxWait = max(ep.maxLat, e.lat), max(ep.maxWait, e.wait)
			continue
		}
		out = append(out, episode{from: e.due, to: e.due, events: 1, maxLat: e.lat, maxWait: e.wait})
	}
	slices.SortStableFunc(out, func(a, b episode) int { return cmp.Compare(b.events, a.events) })
	return out
}
