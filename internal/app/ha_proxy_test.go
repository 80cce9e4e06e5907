package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
)

const haProxyToken = "ha-proxy-test-token"

// haProxyTop makes reads need the API token, so that passing the
// client's Authorization on to the leader is what lets them through.
const haProxyTop = "leader_lease: 30s\napi_token: " + haProxyToken + "\napi_read_auth: true"

var haAuth = map[string]string{"Authorization": "Bearer " + haProxyToken}

// startReplica is startOnPostgres with, when advertise is set, a listen
// port chosen beforehand and advertise_url naming it. A port taken by
// someone else between choosing and listening is chosen again.
func startReplica(t *testing.T, h *harness, dsn, name string, advertise bool) (*Service, func() error) {
	t.Helper()
	return startReplicaTop(t, h, dsn, name, advertise, haProxyTop)
}

// startReplicaTop is startReplica with the top-level YAML top.
func startReplicaTop(t *testing.T, h *harness, dsn, name string, advertise bool, top string) (*Service, func() error) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		text := h.configYAML(haWebhookRule, e2eOpts{dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry}, top: top})
		text = strings.Replace(text, "store: sqlite:"+h.db, "store: "+dsn, 1)
		if advertise {
			port := freePort(t)
			text = strings.Replace(text, "listen: 127.0.0.1:0", "listen: 127.0.0.1:"+port+"\nadvertise_url: http://127.0.0.1:"+port+"/", 1)
		}
		cfg, err := config.Parse("ha.yaml", []byte(text), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		ctx, cancel := context.WithCancel(context.Background())
		svc, err := Start(ctx, cfg, h.logger(t.Name()+"/"+name))
		if err != nil {
			cancel()
			if advertise && attempt < 5 && strings.Contains(err.Error(), "address already in use") {
				continue
			}
			t.Fatal(err)
		}
		return svc, runStarted(ctx, t, svc, cancel, name)
	}
}

// freePort returns a loopback port nothing listens on at the moment.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// servedBy returns who answered GET path on svc, its follower notice
// header and its body.
func servedBy(t *testing.T, svc *Service, path string) (string, string, []byte) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest("GET", "http://"+svc.Addr()+path, nil)
	req.Header.Set("Authorization", haAuth["Authorization"])
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.Header.Get(headerServedBy), resp.Header.Get(headerNotice), b
}

// sseClient reads an event stream.
type sseClient struct {
	resp   *http.Response
	events chan sseMsg
}

type sseMsg struct{ id, typ, data string }

func openStream(t *testing.T, svc *Service, lastID string) *sseClient {
	t.Helper()
	return openStreamAt(t, svc.Addr(), haAuth["Authorization"], lastID)
}

// openStreamAt opens the event stream of the service at addr, with the
// Authorization header auth (none when empty), resuming after lastID when
// it is not empty.
func openStreamAt(t *testing.T, addr, auth, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/v1/events", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("events: %d %s", resp.StatusCode, b)
	}
	c := &sseClient{resp: resp, events: make(chan sseMsg, 256)}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(resp.Body)
		var m sseMsg
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "":
				if m.typ != "" {
					c.events <- m
				}
				m = sseMsg{}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return c
}

// next returns the first event of type typ whose data contains want,
// failing after d or when the stream ends.
func (c *sseClient) next(t *testing.T, d time.Duration, typ, want string) sseMsg {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.events:
			if !ok {
				t.Fatalf("the event stream ended before a %s event with %q", typ, want)
			}
			if m.typ == typ && strings.Contains(m.data, want) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s event with %q within %v", typ, want, d)
		}
	}
}

// ended waits until the stream ends.
func (c *sseClient) ended(d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-c.events:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

type boardJSON struct {
	Queues []struct {
		QueueID string                 `json:"queue_id"`
		State   string                 `json:"state"`
		Values  map[string]float64     `json:"values"`
		History map[string][][]float64 `json:"history"`
	} `json:"queues"`
	Notice string `json:"follower_notice"`
}

// TestHAFollowerPassesLiveReadsToLeader: behind a load balancer, a
// follower's dashboard shows the leader's live data. The follower's queue
// board has the series and chart points only the leader keeps in memory,
// an event stream opened on the follower carries the transition the
// leader makes (and resumes after Last-Event-ID), and reads that need the
// API token pass with the client's. Once the leader stops, the follower
// leads and serves everything itself.
func TestHAFollowerPassesLiveReadsToLeader(t *testing.T) {
	dsn := pgtest.DSN(t)
	h := newHarness(t)
	a, stopA := startReplica(t, h, dsn, "a", true)
	waitFor(t, 20*time.Second, "a to lead", func() bool { return a.ha.role() == "leader" }, nil)
	b, _ := startReplica(t, h, dsn, "b", false)
	if role := roleAt(b.Addr()); role != "follower" {
		t.Fatalf("b's role %q, want follower", role)
	}
	// a advertises its URL once its term has started.
	waitEvery(t, 20*time.Second, 50*time.Millisecond, "b to pass live reads to a", func() bool {
		by, _, _ := servedBy(t, b, "/api/v1/health")
		return by == "leader"
	}, nil)

	// Without the token the leader refuses the read: the follower passed
	// the request on rather than answering it itself.
	resp, body := getWith(t, "http://"+b.Addr()+"/api/v1/queues", nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(headerServedBy) != "leader" {
		t.Fatalf("b without a token: %d %s=%q %s", resp.StatusCode, headerServedBy, resp.Header.Get(headerServedBy), body)
	}

	stream := openStream(t, b, "")
	if by := stream.resp.Header.Get(headerServedBy); by != "leader" {
		t.Fatalf("b's event stream is served by %q, want the leader", by)
	}
	// A breach posted to the follower's webhook is evaluated by the leader;
	// its transition reaches the stream opened on the follower.
	t0 := time.Now().UTC()
	if err := postEvents(http.DefaultClient, b.Addr(), event{queue: queueID(1), metric: "service_level", value: 50, at: t0}); err != nil {
		t.Fatal(err)
	}
	firing := stream.next(t, 30*time.Second, "transition", queueID(1))
	if !strings.Contains(firing.data, `"to":"firing"`) {
		t.Errorf("transition %s, want one to firing", firing.data)
	}

	// b's board shows a's series and chart, which b's own memory lacks.
	_, queues, err := b.engine.Snapshot(t.Context())
	if err != nil || len(queues) != 0 {
		t.Fatalf("b's own engine has %d queues (%v); want none", len(queues), err)
	}
	by, notice, raw := servedBy(t, b, "/api/v1/queues")
	var board boardJSON
	if err := json.Unmarshal(raw, &board); err != nil {
		t.Fatal(err)
	}
	if by != "leader" || notice != "" || board.Notice != "" || len(board.Queues) != 1 || board.Queues[0].QueueID != queueID(1) ||
		board.Queues[0].State != "firing" || board.Queues[0].Values["service_level"] != 50 || len(board.Queues[0].History["service_level"]) == 0 {
		t.Fatalf("b's board served by %q (notice %q): %s; want a's firing queue with its chart", by, notice, raw)
	}
	if by, _, raw := servedBy(t, b, "/api/v1/queues/"+queueID(1)); by != "leader" || !strings.Contains(string(raw), `"state":"firing"`) {
		t.Errorf("b's queue page served by %q: %s", by, raw)
	}
	if by, _, raw := servedBy(t, b, "/api/v1/alerts"); by != "leader" || !strings.Contains(string(raw), queueID(1)) {
		t.Errorf("b's alerts served by %q: %s", by, raw)
	}

	// A stream resumed on the follower after the event before the
	// transition replays the transition from the leader's backlog.
	id, err := strconv.ParseUint(firing.id, 10, 64)
	if err != nil || id == 0 {
		t.Fatalf("transition id %q", firing.id)
	}
	resumed := openStream(t, b, fmt.Sprint(id-1))
	if got := resumed.next(t, 10*time.Second, "transition", queueID(1)); got.id != firing.id {
		t.Errorf("resumed stream replayed event %s, want %s", got.id, firing.id)
	}

	// a stops and hands over: the streams it served end, and b, now the
	// leader, serves its own live data with the resumed alert.
	if err := stopA(); err != nil {
		t.Fatalf("a: shutdown: %v", err)
	}
	if !stream.ended(30 * time.Second) {
		t.Error("the stream passed on to a did not end when a stopped")
	}
	waitFor(t, 20*time.Second, "b to lead", func() bool { return b.ha.role() == "leader" }, nil)
	// Its term resumes the stored series first.
	waitEvery(t, 20*time.Second, 50*time.Millisecond, "b to show the resumed alert", func() bool {
		by, notice, raw = servedBy(t, b, "/api/v1/alerts")
		return strings.Contains(string(raw), queueID(1))
	}, func() string { return string(raw) })
	if by != "leader" || notice != "" || strings.Contains(string(raw), "follower_notice") {
		t.Errorf("b as leader: alerts served by %q (notice %q): %s; want its own", by, notice, raw)
	}
	own := openStream(t, b, "")
	if by := own.resp.Header.Get(headerServedBy); by != "leader" {
		t.Errorf("b's own event stream: %s=%q", headerServedBy, by)
	}
}

// TestHAFollowerWithoutLeaderURL: when the leader has no advertise_url, or
// the one it advertised cannot be reached, a follower serves live reads
// itself and says why, in a header and in the JSON the dashboard shows as
// a banner.
func TestHAFollowerWithoutLeaderURL(t *testing.T) {
	dsn := pgtest.DSN(t)
	h := newHarness(t)
	a, _ := startReplica(t, h, dsn, "a", false)
	waitFor(t, 20*time.Second, "a to lead", func() bool { return a.ha.role() == "leader" }, nil)
	b, _ := startReplica(t, h, dsn, "b", false)

	want := noticePrefix + "the leader (" + a.ha.elector.Holder() + ") has no advertise_url configured"
	for _, path := range []string{"/api/v1/queues", "/api/v1/health", "/api/v1/alerts"} {
		by, notice, raw := servedBy(t, b, path)
		var body struct {
			Notice string `json:"follower_notice"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		if by != "follower" || notice != want || body.Notice != want {
			t.Errorf("GET %s on b: served by %q, notice header %q, follower_notice %q; want the follower with %q", path, by, notice, body.Notice, want)
		}
	}
	stream := openStream(t, b, "")
	if by, n := stream.resp.Header.Get(headerServedBy), stream.resp.Header.Get(headerNotice); by != "follower" || n != want {
		t.Errorf("b's event stream: served by %q, notice %q", by, n)
	}
	// The leader itself never carries a notice.
	if by, notice, raw := servedBy(t, a, "/api/v1/queues"); by != "leader" || notice != "" || strings.Contains(string(raw), "follower_notice") {
		t.Errorf("a: served by %q, notice %q: %s", by, notice, raw)
	}

	// An advertised URL nothing answers at: b says it cannot reach it.
	dead := "http://127.0.0.1:" + freePort(t)
	ok, err := a.ha.st.Advertise(t.Context(), a.ha.elector.Name(), a.ha.elector.Holder(), a.ha.elector.Epoch(), dead)
	if err != nil || !ok {
		t.Fatalf("Advertise: %v, %v", ok, err)
	}
	prefix := noticePrefix + "passing the request to " + dead + " failed: "
	var last string
	waitEvery(t, 10*time.Second, 50*time.Millisecond, "b to try the advertised URL", func() bool {
		var by string
		by, last, _ = servedBy(t, b, "/api/v1/queues")
		return by == "follower" && strings.HasPrefix(last, prefix)
	}, func() string { return "last notice: " + last })
}
