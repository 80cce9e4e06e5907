package genesys_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

type obsAnswer struct {
	SystemToOrganizationMappings map[string][]string `json:"systemToOrganizationMappings"`
	Results                      []struct {
		Group map[string]string `json:"group"`
		Data  []struct {
			Metric       string             `json:"metric"`
			Qualifier    string             `json:"qualifier"`
			Stats        map[string]float64 `json:"stats"`
			Truncated    *bool              `json:"truncated"`
			Observations []struct {
				ObservationDate time.Time `json:"observationDate"`
			} `json:"observations"`
		} `json:"data"`
	} `json:"results"`
}

func TestObservationAnswerShape(t *testing.T) {
	s := sim.New(sim.DemoScenario(t0, 2))
	f := start(t, fakegenesys.Options{Sim: s, MaxObservations: 4})
	f.srv.Advance(5 * time.Minute) // the second queue's agents log off: callers wait
	var st sim.QueueState
	f.srv.WithSim(func(s *sim.Sim) { st = s.Snapshot()[1] })
	if st.Waiting < 5 {
		t.Fatalf("only %d waiting: the scenario no longer tests truncation", st.Waiting)
	}
	body := `{"filter":{"type":"and","clauses":[{"type":"or","predicates":[{"dimension":"queueId","value":"` + st.ID + `"}]}]},
		"metrics":["oWaiting","oInteracting","oLongestWaiting","oOnQueueUsers","oUserRoutingStatuses","oMemberUsers"],"detailMetrics":["oWaiting"]}`
	r := f.api(t, "POST", "/api/v2/analytics/queues/observations/query", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var a obsAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.SystemToOrganizationMappings) == 0 {
		t.Error("no systemToOrganizationMappings")
	}
	// One queue-level group for user metrics, one group per media type
	// (zero rows included) for interaction metrics.
	if len(a.Results) != 6 || a.Results[0].Group["mediaType"] != "" {
		t.Fatalf("%d groups, first %v", len(a.Results), a.Results[0].Group)
	}
	for _, row := range a.Results[0].Data {
		if row.Qualifier != "" && row.Stats["count"] == 0 {
			t.Errorf("a zero %s row for %s is included", row.Metric, row.Qualifier)
		}
	}
	now := f.clock.Now()
	for _, g := range a.Results[1:] {
		own := g.Group["mediaType"] == st.MediaType
		for _, row := range g.Data {
			switch row.Metric {
			case "oWaiting":
				if own != (row.Stats["count"] == float64(st.Waiting)) && own {
					t.Errorf("oWaiting %v, want %d", row.Stats["count"], st.Waiting)
				}
				if own {
					if row.Truncated == nil || !*row.Truncated || len(row.Observations) != 4 {
						t.Errorf("details: truncated %v, %d observations; want 4 of %d", row.Truncated, len(row.Observations), st.Waiting)
					}
					oldest := row.Observations[0].ObservationDate
					if d := now.Sub(oldest) - st.LongestWait; d < -time.Millisecond || d > time.Millisecond {
						t.Errorf("oldest observation %s, want %s ago", oldest, st.LongestWait)
					}
				}
			case "oLongestWaiting":
				v := row.Stats["calculatedMetricValue"]
				if own && int64(v) != now.Add(-st.LongestWait).UnixMilli() {
					t.Errorf("oLongestWaiting %v is not the epoch ms of the oldest waiting interaction", v)
				}
				if !own && (v != 0 || row.Stats["count"] != 0) {
					t.Errorf("%s: oLongestWaiting %v", g.Group["mediaType"], row.Stats)
				}
			}
		}
	}
}

type aggAnswer struct {
	Results []struct {
		Group map[string]string `json:"group"`
		Data  []struct {
			Interval string `json:"interval"`
			Metrics  []struct {
				Metric string             `json:"metric"`
				Stats  map[string]float64 `json:"stats"`
			} `json:"metrics"`
		} `json:"data"`
	} `json:"results"`
}

func TestAggregateAnswerShape(t *testing.T) {
	cfg := sim.DemoScenario(t0, 3)
	cfg.WarmUp = 0
	f := start(t, fakegenesys.Options{Sim: sim.New(cfg)})
	for range 60 {
		f.srv.Advance(10 * time.Second)
	}
	iv := t0.Format(time.RFC3339) + "/" + t0.Add(10*time.Minute).Format(time.RFC3339)
	body := fmt.Sprintf(`{"interval":%q,"granularity":"PT5M","groupBy":["queueId","mediaType"],
		"filter":{"type":"or","predicates":[{"dimension":"queueId","value":%q}]},
		"metrics":["nOffered","tAnswered","tAbandon","nOverSla","oServiceLevel"]}`, iv, f.srv.QueueIDs()[0])
	r := f.api(t, "POST", "/api/v2/analytics/conversations/aggregates/query", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var a aggAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Results) != 1 || len(a.Results[0].Data) != 2 || a.Results[0].Group["mediaType"] != "voice" {
		t.Fatalf("answer %s", r.body)
	}
	for _, d := range a.Results[0].Data {
		m := map[string]map[string]float64{}
		for _, x := range d.Metrics {
			m[x.Metric] = x.Stats
		}
		sl := m["oServiceLevel"]
		answered, abandoned, over := m["tAnswered"]["count"], m["tAbandon"]["count"], m["nOverSla"]["count"]
		if sl["numerator"] != answered-over || sl["denominator"] != answered+abandoned || sl["target"] != 0.8 {
			t.Errorf("%s: oServiceLevel %v from answered %v, abandoned %v, over %v", d.Interval, sl, answered, abandoned, over)
		}
		for name, stats := range m {
			if c, ok := stats["count"]; ok && c == 0 {
				t.Errorf("%s: zero metric %s is included", d.Interval, name)
			}
		}
	}
}

func TestChannelLimits(t *testing.T) {
	f := start(t, fakegenesys.Options{MaxChannels: 3, MaxTopics: 5, TokenTTL: 72 * time.Hour})
	var ids []string
	create := func() string {
		t.Helper()
		r := f.api(t, "POST", "/api/v2/notifications/channels", "")
		var c struct{ ID, ConnectURI string }
		if err := json.Unmarshal([]byte(r.body), &c); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if !strings.HasPrefix(c.ConnectURI, "ws://") || !strings.HasSuffix(c.ConnectURI, "/channels/"+c.ID) {
			t.Errorf("connectUri %q", c.ConnectURI)
		}
		f.clock.Advance(time.Second)
		return c.ID
	}
	for range 3 {
		ids = append(ids, create())
	}
	// The oldest channel is connected: the oldest unconnected one goes.
	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, strings.Replace(f.url, "http", "ws", 1)+"/channels/"+ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	waitConnected(t, f.srv, ids[0])
	ids = append(ids, create())
	got := map[string]bool{}
	for _, c := range f.srv.Channels() {
		got[c.ID] = true
	}
	if !got[ids[0]] || got[ids[1]] || !got[ids[2]] || !got[ids[3]] || len(got) != 3 {
		t.Errorf("after the 4th channel: %v; want the 2nd evicted", got)
	}
	topics := func(n, from int) string {
		var ts []string
		for i := range n {
			ts = append(ts, fmt.Sprintf(`{"id":"v2.analytics.queues.q%d.observations"}`, from+i))
		}
		return "[" + strings.Join(ts, ",") + "]"
	}
	path := "/api/v2/notifications/channels/" + ids[2] + "/subscriptions"
	if r := f.api(t, "PUT", path, topics(5, 0)); r.status != 200 {
		t.Fatalf("5 topics: %d %s", r.status, r.body)
	}
	if r := f.api(t, "POST", path, topics(1, 5)); r.status != 400 || errorCode(t, r) != "bad.request" {
		t.Errorf("a 6th topic: %d %s", r.status, r.body)
	}
	if r := f.api(t, "PUT", path, `[{"id":"not a topic"}]`); r.status != 400 {
		t.Errorf("an invalid topic: %d %s", r.status, r.body)
	}
	if r := f.api(t, "PUT", path+"?ignoreErrors=true", `[{"id":"not a topic"},{"id":"v2.analytics.queues.q.activity"}]`); r.status != 200 || !strings.Contains(r.body, "Rejected") {
		t.Errorf("ignoreErrors: %d %s", r.status, r.body)
	}
	// A channel lives 24 hours unless resubscribed.
	f.clock.Advance(23 * time.Hour)
	if r := f.api(t, "PUT", path, topics(1, 0)); r.status != 200 {
		t.Fatal(r.body)
	}
	f.clock.Advance(2 * time.Hour)
	head := func(id string) int {
		return f.do(t, "HEAD", "/api/v2/notifications/channels/"+id, "", map[string]string{"Authorization": "Bearer " + f.token}).status
	}
	if got := head(ids[2]); got != 200 {
		t.Errorf("resubscribed channel: HEAD %d, want 200", got)
	}
	if got := head(ids[3]); got != 404 {
		t.Errorf("channel left alone for 25h: HEAD %d, want 404", got)
	}
}

func waitConnected(t *testing.T, srv *fakegenesys.Server, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, c := range srv.Channels() {
			if c.ID == id && c.Connected {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the socket never registered")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSocketProtocol(t *testing.T) {
	f := start(t, fakegenesys.Options{TokenTTL: 48 * time.Hour})
	r := f.api(t, "POST", "/api/v2/notifications/channels", "")
	var c struct{ ID, ConnectURI string }
	_ = json.Unmarshal([]byte(r.body), &c)
	id := f.srv.QueueIDs()[0]
	if r := f.api(t, "PUT", "/api/v2/notifications/channels/"+c.ID+"/subscriptions",
		`[{"id":"v2.analytics.queues.`+id+`.activity"}]`); r.status != 200 {
		t.Fatal(r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, c.ConnectURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	waitConnected(t, f.srv, c.ID)
	read := func() map[string]any {
		t.Helper()
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	f.srv.Advance(time.Second)
	m := read()
	if m["topicName"] != "v2.analytics.queues."+id+".activity" || m["version"] != "2" || m["metadata"].(map[string]any)["CorrelationId"] == "" {
		t.Errorf("event %v", m)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"message":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["topicName"] != "channel.metadata" || m["eventBody"].(map[string]any)["message"] != "pong" {
		t.Errorf("pong %v", m)
	}
	if err := f.clock.WaitFor(ctx, func(n int) bool { return n == 1 }); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(fakegenesys.DefaultHeartbeatInterval)
	if m := read(); m["eventBody"].(map[string]any)["message"] != "WebSocket Heartbeat" {
		t.Errorf("heartbeat %v", m)
	}
	// The channel expires after 24h without resubscribing: the socket closes.
	f.clock.Advance(24 * time.Hour)
	f.srv.Publish()
	for i := 0; ; i++ {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
		if i > 10 {
			t.Fatal("the socket outlived its channel")
		}
	}
}

func TestManualClock(t *testing.T) {
	c := fakegenesys.NewManualClock(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, time.Minute) }()
	if err := c.WaitFor(ctx, func(n int) bool { return n == 1 }); err != nil {
		t.Fatal(err)
	}
	if next, ok := c.NextWake(); !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextWake = %s, %v", next, ok)
	}
	c.Advance(59 * time.Second)
	select {
	case <-done:
		t.Fatal("woke early")
	default:
	}
	c.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	go func() { done <- c.Sleep(cctx, time.Hour) }()
	if err := c.WaitFor(ctx, func(n int) bool { return n == 1 }); err != nil {
		t.Fatal(err)
	}
	ccancel()
	if err := <-done; err == nil {
		t.Error("a cancelled sleep returned nil")
	}
	if c.Sleepers() != 0 {
		t.Errorf("%d sleepers left", c.Sleepers())
	}
}
