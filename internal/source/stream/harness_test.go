package stream_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/source/stream"
)

// t0 is the start of every test's virtual time.
var t0 = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

// env is a fake Genesys on a manual clock, reached through a front server
// whose WebSocket relay can go silent, a client of it, an observer and a
// fake poller.
type env struct {
	fake   *fakegenesys.Server
	clock  *fakegenesys.ManualClock
	client *genesys.Client
	url    string
	relay  *relay
	obs    *recorder
	poller *fakePoller
	logs   *syncBuffer
	log    *slog.Logger
}

func newEnv(t *testing.T, fo fakegenesys.Options) *env {
	t.Helper()
	e := &env{clock: fakegenesys.NewManualClock(t0), obs: &recorder{}, poller: &fakePoller{}, logs: &syncBuffer{}}
	fo.Clock = e.clock
	e.fake = fakegenesys.New(fo)
	upstream := e.fake.Start(t)
	e.relay = &relay{upstream: "ws" + strings.TrimPrefix(upstream, "http"), conns: map[*relayConn]bool{}}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/channels/") {
			e.relay.serve(w, r)
			return
		}
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		front.CloseClientConnections()
		front.Close()
	})
	e.url = front.URL
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs at %s:\n%s", e.clock.Now().Sub(t0), e.logs)
		}
	})
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.client = e.newClient(t)
	return e
}

// newClient returns a client of the fake with its own token.
func (e *env) newClient(t *testing.T) *genesys.Client {
	t.Helper()
	c, err := genesys.New(genesys.Options{APIURL: e.url, LoginURL: e.url, ClientID: fakegenesys.DefaultClientID,
		ClientSecret: fakegenesys.DefaultClientSecret, RequestBudget: 300, Clock: e.clock, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// options fills in the env's clock, logger and poller.
func (e *env) options(o stream.Options) stream.Options {
	o.Clock, o.Logger = e.clock, e.log
	if o.Poller == nil {
		o.Poller = e.poller
	}
	return o
}

// start runs s.Run on ids until stop (or the end of the test).
func start(t *testing.T, s *stream.Streamer, ids func() []string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ids) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// fixed returns a queue-id source of ids.
func fixed(ids []string) func() []string {
	return func() []string { return ids }
}

// eventually waits, up to a real-time deadline, until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// connectedSleepers is how many goroutines sleep on the clock while one
// channel is connected: Run's refresh, the socket's watchdog and
// subscription upkeep, and the fake's heartbeat sender.
const connectedSleepers = 4

// jump moves the clock by d once exactly sleepers goroutines sleep on it.
// A goroutine computes how long to sleep from the clock before it sleeps,
// so moving the clock in between would push its wake-up later: the test
// waits until everyone is asleep, as a real clock never jumps.
func (e *env) jump(t *testing.T, d time.Duration, sleepers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.clock.WaitFor(ctx, func(n int) bool { return n == sleepers }); err != nil {
		t.Fatalf("waiting for %d sleepers (there are %d): %v", sleepers, e.clock.Sleepers(), err)
	}
	e.clock.Advance(d)
}

// maxBackoffStep is the longest clock step advanceBackoff takes: only the
// streamer's reconnect backoff sleeps that briefly.
const maxBackoffStep = 2 * time.Second

// advanceBackoff waits until cond holds, moving the clock to the end of
// each reconnect backoff it finds (a wake-up due within maxBackoffStep).
// Longer sleeps (heartbeats, watchdogs, refreshes) are never cut short.
func (e *env) advanceBackoff(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually(t, what, func() bool {
		if cond() {
			return true
		}
		if next, ok := e.clock.NextWake(); ok && next.Sub(e.clock.Now()) <= maxBackoffStep {
			e.clock.Set(next)
		}
		return false
	})
}

// waitConnected waits until the streamer is healthy and the fake sees
// channels channels, each with its socket connected.
func (e *env) waitConnected(t *testing.T, s *stream.Streamer, channels int) {
	t.Helper()
	eventually(t, "the stream to connect", func() bool {
		if !s.Connected() {
			return false
		}
		chans := e.fake.Channels()
		for _, c := range chans {
			if !c.Connected {
				return false
			}
		}
		return len(chans) == channels
	})
}

// waitGapFills waits until the poller was asked for n gap fills (they run
// in the background) and checks there were no more.
func (e *env) waitGapFills(t *testing.T, n int) {
	t.Helper()
	eventually(t, "gap fills", func() bool { return e.poller.gapFills() >= n })
	if got := e.poller.gapFills(); got != n {
		t.Errorf("%d gap fills; want %d, one per connect", got, n)
	}
}

// channelCreations counts POST /api/v2/notifications/channels.
func (e *env) channelCreations() int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Method == http.MethodPost && c.Path == "/api/v2/notifications/channels" {
			n++
		}
	}
	return n
}

// connects returns how often the first channel's socket connected.
func connects(s *stream.Streamer) int {
	st := s.Status()
	if len(st.Channels) == 0 {
		return 0
	}
	return st.Channels[0].Connects
}

// fakePoller counts gap fills and records what it is told.
type fakePoller struct {
	mu      sync.Mutex
	polls   int
	healthy []bool
}

func (p *fakePoller) PollNow(context.Context) error {
	p.mu.Lock()
	p.polls++
	p.mu.Unlock()
	return nil
}

func (p *fakePoller) SetStreamHealthy(h bool) {
	p.mu.Lock()
	p.healthy = append(p.healthy, h)
	p.mu.Unlock()
}

func (p *fakePoller) gapFills() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls
}

func (p *fakePoller) health() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.healthy...)
}

// recorder is an Observer that keeps every sample.
type recorder struct {
	mu      sync.Mutex
	samples []metric.Sample
}

func (r *recorder) Observe(_ context.Context, samples ...metric.Sample) error {
	r.mu.Lock()
	r.samples = append(r.samples, samples...)
	r.mu.Unlock()
	return nil
}

// all returns the samples received so far.
func (r *recorder) all() []metric.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]metric.Sample(nil), r.samples...)
}

// queues returns the queues with a sample from src.
func (r *recorder) queues(src metric.Source) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for _, s := range r.samples {
		if s.Source == src {
			out[s.QueueID] = true
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// relay passes notification WebSockets through to the fake. mute makes
// the connections open at the time silent both ways without closing them,
// as a dead network path does; later connections relay normally.
type relay struct {
	upstream string
	mu       sync.Mutex
	conns    map[*relayConn]bool
}

type relayConn struct{ muted atomic.Bool }

func (rl *relay) mute() {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for c := range rl.conns {
		c.muted.Store(true)
	}
}

func (rl *relay) serve(w http.ResponseWriter, r *http.Request) {
	up, resp, err := websocket.Dial(r.Context(), rl.upstream+r.URL.Path, nil)
	if err != nil {
		code := http.StatusBadGateway
		if resp != nil {
			code = resp.StatusCode
		}
		http.Error(w, err.Error(), code)
		return
	}
	// Registered before the handshake completes, so that mute covers
	// every connection the client may already see as open.
	rc := &relayConn{}
	rl.mu.Lock()
	rl.conns[rc] = true
	rl.mu.Unlock()
	defer func() {
		rl.mu.Lock()
		delete(rl.conns, rc)
		rl.mu.Unlock()
	}()
	down, err := websocket.Accept(w, r, nil)
	if err != nil {
		_ = up.CloseNow()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go pipe(ctx, cancel, up, down, rc)
	pipe(ctx, cancel, down, up, rc)
	_ = up.CloseNow()
	_ = down.CloseNow()
}

// pipe copies messages from one socket to the other until either fails,
// dropping them while the connection is muted.
func pipe(ctx context.Context, cancel context.CancelFunc, from, to *websocket.Conn, rc *relayConn) {
	defer cancel()
	for {
		typ, data, err := from.Read(ctx)
		if err != nil {
			return
		}
		if rc.muted.Load() {
			continue
		}
		if err := to.Write(ctx, typ, data); err != nil {
			return
		}
	}
}
