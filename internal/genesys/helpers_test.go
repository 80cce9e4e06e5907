package genesys_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// t0 is the start of every test's virtual time.
var t0 = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

// env is a fake Genesys, a manual clock and a client of the fake.
type env struct {
	fake   *fakegenesys.Server
	clock  *fakegenesys.ManualClock
	client *genesys.Client
	url    string
	logs   *syncBuffer
	hits   *hookCounter
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

// hookCounter records the client's request hook.
type hookCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (h *hookCounter) hook(endpoint string, code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.calls == nil {
		h.calls = map[string]int{}
	}
	h.calls[endpoint+" "+http.StatusText(code)]++
}

func (h *hookCounter) get(endpoint string, code int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[endpoint+" "+http.StatusText(code)]
}

// newEnv starts a fake of the given options (clock and credentials filled
// in) and a client with the given options (URLs, credentials, clock, hook
// and logger filled in).
func newEnv(t *testing.T, fo fakegenesys.Options, co genesys.Options) *env {
	t.Helper()
	e := &env{clock: fakegenesys.NewManualClock(t0), logs: &syncBuffer{}, hits: &hookCounter{}}
	if fo.Clock == nil {
		fo.Clock = e.clock
	}
	if fo.Sim == nil && fo.Queues == nil {
		fo.Queues = sim.DefaultQueues(3, 7)
	}
	e.fake = fakegenesys.New(fo)
	e.url = e.fake.Start(t)
	co.APIURL, co.LoginURL = e.url, e.url
	if co.ClientID == "" {
		co.ClientID, co.ClientSecret = fakegenesys.DefaultClientID, fakegenesys.DefaultClientSecret
	}
	if co.Clock == nil {
		co.Clock = e.clock
	}
	co.OnRequest = e.hits.hook
	co.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := genesys.New(co)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// ctx returns a context that ends with the test, bounded by a generous
// real-time limit so that a bug hangs no test forever.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// answer is a fixed answer of fixtureServer.
type answer struct {
	status int
	header map[string]string
	body   string
}

// fixtureServer serves fixed answers per path, with a token endpoint, and
// returns a client of it on a manual clock.
func fixtureServer(t *testing.T, answers map[string]answer) (*genesys.Client, *fakegenesys.ManualClock) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":86399}`))
			return
		}
		a, ok := answers[r.URL.Path]
		if !ok {
			a = answer{status: http.StatusNotFound, body: `{"message":"not found","code":"not.found","status":404}`}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	clock := fakegenesys.NewManualClock(t0)
	c, err := genesys.New(genesys.Options{APIURL: srv.URL, LoginURL: srv.URL, ClientID: "id", ClientSecret: "secret", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

// eventually waits until cond holds, checking after every scheduling
// yield; it fails the test if that takes unreasonably long.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// drive runs n workers, advancing the clock to the next wake-up whenever
// every unfinished worker sleeps on it, until all are done.
func drive(t *testing.T, clock *fakegenesys.ManualClock, n int, work func(i int)) {
	t.Helper()
	var done atomic.Int64
	for i := range n {
		go func() {
			defer func() {
				done.Add(1)
				clock.Poke()
			}()
			work(i)
		}()
	}
	ctx := testCtx(t)
	for {
		err := clock.WaitFor(ctx, func(sleepers int) bool { return int64(sleepers) == int64(n)-done.Load() })
		if err != nil {
			t.Fatalf("workers neither finished nor slept: %v", err)
		}
		if done.Load() == int64(n) {
			return
		}
		next, ok := clock.NextWake()
		if !ok {
			continue
		}
		clock.Set(next)
	}
}
