package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/store/postgres"
	"github.com/queuewatch/queuewatch/internal/web"
)

// fakeLease answers Leader with a fixed row.
type fakeLease struct {
	mu  sync.Mutex
	li  postgres.LeaderInfo
	err error
	n   int
}

func (f *fakeLease) Leader(ctx context.Context, _ string) (postgres.LeaderInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if err := ctx.Err(); err != nil {
		return postgres.LeaderInfo{}, err
	}
	return f.li, f.err
}

func (f *fakeLease) set(li postgres.LeaderInfo, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.li, f.err = li, err
}

// testReplica is one replica's live read behind a leaderProxy.
type testReplica struct {
	p       *leaderProxy
	lease   *fakeLease
	leading atomic.Bool
	closing chan struct{} // close to shut the proxy down
	hits    atomic.Int64  // requests its own handler served
	seen    chan http.Header
	srv     *httptest.Server
}

func newTestReplica(t *testing.T, name string) *testReplica {
	t.Helper()
	r := &testReplica{lease: &fakeLease{}, seen: make(chan http.Header, 16), closing: make(chan struct{})}
	closing := r.closing
	r.p = &leaderProxy{leading: r.leading.Load, self: name, lease: "leader", find: r.lease,
		transport: http.DefaultTransport, log: slog.New(slog.DiscardHandler),
		closing: func() <-chan struct{} { return closing }}
	own := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.seen <- req.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"replica":"`+name+`","notice":"`+noticeOf(req)+`"}`)
	})
	r.srv = httptest.NewServer(r.p.wrap(own))
	t.Cleanup(r.srv.Close)
	return r
}

// noticeOf reads the follower notice the way the web package does, through
// a handler that puts it in a Health answer.
func noticeOf(req *http.Request) string {
	var got string
	srv, err := web.New(web.Options{Engine: nopEngine{}, Store: nopStore{}, Retrier: nopRetrier{}, Silences: nopSilencer{},
		Health: func(context.Context) web.Health { return web.Health{} }})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequestWithContext(req.Context(), "GET", "/api/v1/health", nil))
	if i := strings.Index(rec.Body.String(), `"follower_notice":"`); i >= 0 {
		got = rec.Body.String()[i+len(`"follower_notice":"`):]
		got = got[:strings.Index(got, `"`)]
	}
	return got
}

func getWith(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestLeaderProxy covers a follower's decisions with a fake lease row: it
// passes a live read to the advertised leader with the client's
// Authorization and Last-Event-ID and its marker, and otherwise serves it
// itself with the reason in a header and in the context.
func TestLeaderProxy(t *testing.T) {
	leader, follower := newTestReplica(t, "a"), newTestReplica(t, "b")
	leader.leading.Store(true)

	// The leader serves its own reads and says so.
	resp, body := getWith(t, leader.srv.URL+"/x", nil)
	if resp.Header.Get(headerServedBy) != "leader" || !strings.Contains(body, `"replica":"a"`) {
		t.Fatalf("leader answered %v %s", resp.Header, body)
	}
	<-leader.seen

	cases := []struct {
		name   string
		li     postgres.LeaderInfo
		err    error
		reason string
	}{
		{"no lease", postgres.LeaderInfo{}, nil, "no replica holds the leader lease"},
		{"expired", postgres.LeaderInfo{Holder: "a", Epoch: 1, URL: leader.srv.URL}, nil, "no replica holds the leader lease"},
		{"no url", postgres.LeaderInfo{Holder: "a", Epoch: 1, Live: true}, nil, "the leader (a) has no advertise_url configured"},
		{"itself", postgres.LeaderInfo{Holder: "b", Epoch: 2, Live: true, URL: follower.srv.URL}, nil, "this replica is taking over the leadership"},
		{"database down", postgres.LeaderInfo{}, errors.New("connection refused"), "looking up the leader in the database failed: connection refused"},
		{"unreachable", postgres.LeaderInfo{Holder: "a", Epoch: 1, Live: true, URL: "http://127.0.0.1:1"}, nil, "passing the request to http://127.0.0.1:1 failed: "},
	}
	for _, c := range cases {
		follower.lease.set(c.li, c.err)
		follower.p.forget()
		resp, body := getWith(t, follower.srv.URL+"/x", nil)
		<-follower.seen
		n := resp.Header.Get(headerNotice)
		if resp.StatusCode != http.StatusOK || resp.Header.Get(headerServedBy) != "follower" ||
			!strings.HasPrefix(n, noticePrefix+c.reason) || !strings.Contains(body, `"replica":"b"`) ||
			!strings.Contains(body, `"notice":"`+noticePrefix+c.reason) {
			t.Errorf("%s: %d %s=%q %s=%q %s", c.name, resp.StatusCode, headerServedBy, resp.Header.Get(headerServedBy), headerNotice, n, body)
		}
	}
	if leader.hits.Load() != 1 {
		t.Fatalf("the leader served %d requests, want only its own", leader.hits.Load())
	}

	// With the leader's URL the read is passed on, with the client's
	// headers and the marker.
	follower.lease.set(postgres.LeaderInfo{Holder: "a", Epoch: 1, Live: true, URL: leader.srv.URL}, nil)
	follower.p.forget()
	resp, body = getWith(t, follower.srv.URL+"/x?y=1", map[string]string{"Authorization": "Bearer tok", "Last-Event-ID": "41"})
	if resp.Header.Get(headerServedBy) != "leader" || resp.Header.Get(headerNotice) != "" || !strings.Contains(body, `"replica":"a","notice":""`) {
		t.Fatalf("passed-on read answered %v %s", resp.Header, body)
	}
	h := <-leader.seen
	if h.Get("Authorization") != "Bearer tok" || h.Get("Last-Event-ID") != "41" || h.Get(headerProxied) != "b" || h.Get("X-Forwarded-For") == "" {
		t.Errorf("the leader saw headers %v", h)
	}
	// The lease row is read at most once a second.
	before := follower.lease.n
	for range 5 {
		getWith(t, follower.srv.URL+"/x", nil)
		<-leader.seen
	}
	if follower.lease.n != before {
		t.Errorf("the lease row was read %d more times for 5 requests within a second", follower.lease.n-before)
	}
}

// TestLeaderProxyNeverLoops: two followers that each take the other for
// the leader pass a read on once; the second answers it itself, and the
// first, seeing a follower's answer, serves it with a notice.
func TestLeaderProxyNeverLoops(t *testing.T) {
	a, b := newTestReplica(t, "a"), newTestReplica(t, "b")
	a.lease.set(postgres.LeaderInfo{Holder: "b", Epoch: 3, Live: true, URL: b.srv.URL}, nil)
	b.lease.set(postgres.LeaderInfo{Holder: "a", Epoch: 3, Live: true, URL: a.srv.URL}, nil)
	resp, body := getWith(t, a.srv.URL+"/x", nil)
	<-a.seen
	<-b.seen
	if a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Fatalf("a served %d, b %d; want one each", a.hits.Load(), b.hits.Load())
	}
	want := noticePrefix + "passing the request to " + b.srv.URL + " failed: it answered as a follower"
	if resp.Header.Get(headerServedBy) != "follower" || resp.Header.Get(headerNotice) != want || !strings.Contains(body, `"replica":"a"`) {
		t.Errorf("a answered %s=%q %s=%q %s; want its own answer with %q", headerServedBy, resp.Header.Get(headerServedBy),
			headerNotice, resp.Header.Get(headerNotice), body, want)
	}
}

type nopEngine struct{ web.Engine }
type nopStore struct{ web.Store }
type nopRetrier struct{ web.Retrier }
type nopSilencer struct{ web.Silencer }

// TestLeaderProxyLookupOutlivesClient: a client that leaves during the
// lookup does not leave a failed lookup behind for the others.
func TestLeaderProxyLookupOutlivesClient(t *testing.T) {
	r := newTestReplica(t, "b")
	r.lease.set(postgres.LeaderInfo{Holder: "a", Epoch: 1, Live: true, URL: "http://10.0.0.5:8080"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := r.p.lookup(ctx); got.url == nil || got.url.String() != "http://10.0.0.5:8080" {
		t.Errorf("lookup with a cancelled request = %+v, want the leader's URL", got)
	}
}

// TestLeaderProxyShutdown: shutting a follower down ends the streams it
// relays and answers reads still waiting for the leader with 503.
func TestLeaderProxyShutdown(t *testing.T) {
	started := make(chan string, 2)
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/events" {
			w.Header().Set(headerServedBy, "leader")
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "retry: 2000\n\n")
			w.(http.Flusher).Flush()
		}
		started <- r.URL.Path
		<-r.Context().Done() // a stream, or a leader slow to answer
	}))
	t.Cleanup(leader.Close)
	f := newTestReplica(t, "b")
	f.lease.set(postgres.LeaderInfo{Holder: "a", Epoch: 1, Live: true, URL: leader.URL}, nil)

	stream, err := http.Get(f.srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.Header.Get(headerServedBy) != "leader" {
		t.Fatalf("stream headers %v", stream.Header)
	}
	<-started
	type answer struct {
		code int
		err  error
	}
	slow := make(chan answer, 1)
	go func() {
		resp, err := http.Get(f.srv.URL + "/api/v1/queues")
		if err != nil {
			slow <- answer{0, err}
			return
		}
		resp.Body.Close()
		slow <- answer{resp.StatusCode, nil}
	}()
	<-started
	close(f.closing)
	ended := make(chan error, 1)
	go func() { _, err := io.ReadAll(stream.Body); ended <- err }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the relayed stream did not end at shutdown")
	}
	select {
	case a := <-slow:
		if a.err != nil || a.code != http.StatusServiceUnavailable {
			t.Errorf("a read waiting for the leader at shutdown: %d, %v; want 503", a.code, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read waiting for the leader was not answered at shutdown")
	}
}
