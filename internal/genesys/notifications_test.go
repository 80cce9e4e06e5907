package genesys_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
)

func TestQueueTopics(t *testing.T) {
	id := "1d1af111-b11c-11f1-b111-1cf1c11111fc"
	if got := genesys.ObservationsTopic(id); got != "v2.analytics.queues."+id+".observations" {
		t.Errorf("ObservationsTopic = %q", got)
	}
	if got := genesys.ActivityTopic(id); got != "v2.analytics.queues."+id+".activity" {
		t.Errorf("ActivityTopic = %q", got)
	}
	two := []string{"a", "b"}
	if got := genesys.StreamTopics(two, false); !slices.Equal(got, []string{genesys.ObservationsTopic("a"), genesys.ObservationsTopic("b")}) {
		t.Errorf("StreamTopics without activity = %v", got)
	}
	want := []string{genesys.ObservationsTopic("a"), genesys.ActivityTopic("a"), genesys.ObservationsTopic("b"), genesys.ActivityTopic("b")}
	if got := genesys.StreamTopics(two, true); !slices.Equal(got, want) || !slices.Equal(genesys.QueueTopics(two), want) {
		t.Errorf("StreamTopics with activity = %v", got)
	}
	if genesys.TopicsPerQueue(false) != 1 || genesys.TopicsPerQueue(true) != 2 {
		t.Error("TopicsPerQueue disagrees with StreamTopics")
	}
	tests := []struct {
		topic, id, kind string
		ok              bool
	}{
		{"v2.analytics.queues." + id + ".observations", id, "observations", true},
		{"v2.analytics.queues." + id + ".activity", id, "activity", true},
		{"v2.routing.queues." + id + ".observations", "", "", false},
		{"v2.analytics.queues.{id}.observations", "{id}", "observations", true},
		{"v2.analytics.queues..observations", "", "", false},
		{"channel.metadata", "", "", false},
	}
	for _, tt := range tests {
		id, kind, ok := genesys.ParseQueueTopic(tt.topic)
		if id != tt.id || kind != tt.kind || ok != tt.ok {
			t.Errorf("ParseQueueTopic(%q) = %q, %q, %v", tt.topic, id, kind, ok)
		}
	}
}

// streamEnv is a fake with the demo's queues, a client, and a channel
// subscribed to every queue's topics with a socket connected to it.
type streamEnv struct {
	*env
	ids    []string
	ch     genesys.Channel
	socket *genesys.Socket
}

func newStreamEnv(t *testing.T, fo fakegenesys.Options) *streamEnv {
	t.Helper()
	if fo.Sim == nil {
		cfg := sim.DemoScenario(t0, 3)
		cfg.WarmUp = 10 * time.Minute
		fo.Sim = sim.New(cfg)
	}
	e := &streamEnv{env: newEnv(t, fo, genesys.Options{})}
	ctx := testCtx(t)
	qs, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.ids = genesys.QueueIDs(qs)
	if e.ch, err = e.client.CreateChannel(ctx); err != nil {
		t.Fatal(err)
	}
	states, err := e.client.Subscribe(ctx, e.ch.ID, genesys.QueueTopics(e.ids), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2*len(e.ids) {
		t.Fatalf("%d topics subscribed, want %d", len(states), 2*len(e.ids))
	}
	for _, s := range states {
		if s.State != "Permitted" {
			t.Errorf("topic %s is %s", s.ID, s.State)
		}
	}
	if e.socket, err = e.client.Dial(ctx, e.ch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.socket.CloseNow() })
	eventually(t, "the socket to register", func() bool {
		chs := e.fake.Channels()
		return len(chs) == 1 && chs[0].Connected
	})
	return e
}

// next reads the next message that is not a heartbeat.
func (e *streamEnv) next(t *testing.T) genesys.Message {
	t.Helper()
	for {
		m, err := e.socket.Read(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != genesys.KindHeartbeat {
			return m
		}
	}
}

func TestChannelLifecycle(t *testing.T) {
	e := newStreamEnv(t, fakegenesys.Options{})
	ctx := testCtx(t)
	if !strings.HasPrefix(e.ch.ID, "streaming-") || !strings.HasPrefix(e.ch.ConnectURI, "ws://") || !e.ch.Expires.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("channel = %+v", e.ch)
	}
	chs, err := e.client.ListChannels(ctx, "oauthclient")
	if err != nil || len(chs) != 1 || chs[0].ID != e.ch.ID {
		t.Errorf("ListChannels = %+v, %v", chs, err)
	}
	if ok, err := e.client.ChannelExists(ctx, e.ch.ID); !ok || err != nil {
		t.Errorf("ChannelExists = %v, %v", ok, err)
	}
	if ok, err := e.client.ChannelExists(ctx, "streaming-0-nope"); ok || err != nil {
		t.Errorf("ChannelExists(unknown) = %v, %v", ok, err)
	}
	got, err := e.client.Subscriptions(ctx, e.ch.ID)
	if err != nil || len(got) != 2*len(e.ids) {
		t.Errorf("Subscriptions = %d topics, %v", len(got), err)
	}
	// POST adds, PUT replaces.
	if got, err = e.client.Subscribe(ctx, e.ch.ID, []string{"v2.routing.queues." + e.ids[0] + ".conversations"}, false); err != nil || len(got) != 2*len(e.ids)+1 {
		t.Errorf("Subscribe(add) = %d topics, %v", len(got), err)
	}
	if got, err = e.client.Subscribe(ctx, e.ch.ID, []string{genesys.ActivityTopic(e.ids[0])}, true); err != nil || len(got) != 1 {
		t.Errorf("Subscribe(replace) = %d topics, %v", len(got), err)
	}
	// The client refuses more than 1,000 topics; so does the server for a
	// list grown past it.
	many := make([]string, 1001)
	for i := range many {
		many[i] = genesys.ObservationsTopic(fmt.Sprintf("q%04d", i))
	}
	before := e.fake.Requests(fakegenesys.EndpointSubscriptions)
	if _, err := e.client.Subscribe(ctx, e.ch.ID, many, true); err == nil {
		t.Error("1,001 topics accepted")
	}
	if e.fake.Requests(fakegenesys.EndpointSubscriptions) != before {
		t.Error("1,001 topics were sent")
	}
	if _, err := e.client.Subscribe(ctx, e.ch.ID, many[:600], false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Subscribe(ctx, e.ch.ID, many[600:1000], false); genesys.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("growing past 1,000 topics: %v, want a 400", err)
	}
	if err := e.client.Unsubscribe(ctx, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Subscribe(ctx, "streaming-0-nope", many[:1], true); genesys.StatusOf(err) != http.StatusNotFound {
		t.Errorf("unknown channel: %v, want a 404", err)
	}
}

func TestStreamEvents(t *testing.T) {
	e := newStreamEnv(t, fakegenesys.Options{})
	acc := genesys.NewAccumulator(func(id string) string { q, _ := e.client.KnownQueue(id); return q.Name })
	e.fake.Advance(3 * time.Minute)
	got := map[string]float64{}
	topics := map[string]bool{}
	for range 2 * len(e.ids) {
		m := e.next(t)
		if m.Kind != genesys.KindEvent || m.CorrelationID == "" {
			t.Fatalf("message = %+v", m)
		}
		topics[m.Topic] = true
		samples, err := acc.Parse(m.Raw, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			if s.Source != metric.SourceStream || s.QueueName == "" || !s.At.Equal(e.clock.Now()) {
				t.Fatalf("sample = %+v", s)
			}
			got[key(s.QueueID, s.MediaType, s.Metric)] = s.Value
		}
	}
	if len(topics) != 2*len(e.ids) {
		t.Errorf("events of %d topics, want %d", len(topics), 2*len(e.ids))
	}
	e.fake.WithSim(func(s *sim.Sim) {
		for _, st := range s.Snapshot() {
			want := map[string]float64{
				key(st.ID, "", metric.Waiting):                      float64(st.Waiting),
				key(st.ID, st.MediaType, metric.Waiting):            float64(st.Waiting),
				key(st.ID, "", metric.Interacting):                  float64(st.Interacting),
				key(st.ID, "", metric.LongestWait):                  st.LongestWait.Seconds(),
				key(st.ID, "", metric.OnQueueAgents):                float64(st.OnQueueAgents),
				key(st.ID, "", metric.AvailableAgents):              float64(st.AvailableAgents),
				key(st.ID, st.MediaType, metric.ServiceLevelTarget): st.TargetPercent,
			}
			for k, w := range want {
				if v, ok := got[k]; !ok || math.Abs(v-w) > 0.001 {
					t.Errorf("%s = %v (reported %v), want %v", k, v, ok, w)
				}
			}
		}
	})
	// Nothing changed: nothing is pushed. Then a ping is answered.
	e.fake.Publish()
	if err := e.socket.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if m := e.next(t); m.Kind != genesys.KindPong {
		t.Errorf("after a ping: %s %s, want a pong", m.Kind, m.Topic)
	}
}

func TestStreamHeartbeatsAndClosing(t *testing.T) {
	e := newStreamEnv(t, fakegenesys.Options{HeartbeatInterval: 30 * time.Second})
	ctx := testCtx(t)
	waitHeartbeatSleeping := func() {
		t.Helper()
		if err := e.clock.WaitFor(ctx, func(n int) bool { return n == 1 }); err != nil {
			t.Fatal(err)
		}
	}
	waitHeartbeatSleeping()
	e.clock.Advance(30 * time.Second)
	m, err := e.socket.Read(ctx)
	if err != nil || m.Kind != genesys.KindHeartbeat || m.Topic != genesys.TopicMetadata {
		t.Fatalf("after 30s: %+v, %v; want a heartbeat", m, err)
	}
	// Heartbeats stop: after 30s more the next message is the pong.
	e.fake.StopHeartbeats(true)
	waitHeartbeatSleeping()
	e.clock.Advance(30 * time.Second)
	waitHeartbeatSleeping()
	if err := e.socket.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if m, err := e.socket.Read(ctx); err != nil || m.Kind != genesys.KindPong {
		t.Fatalf("with heartbeats stopped: %+v, %v; want only the pong", m, err)
	}
	e.fake.SendSocketClosing()
	if m, err := e.socket.Read(ctx); err != nil || m.Kind != genesys.KindSocketClosing {
		t.Fatalf("%+v, %v; want socket_closing", m, err)
	}
	// A second socket on the channel disconnects the first.
	second, err := e.client.Dial(ctx, e.ch)
	if err != nil {
		t.Fatal(err)
	}
	defer second.CloseNow()
	if _, err := e.socket.Read(ctx); err == nil {
		t.Fatal("the first socket still reads")
	}
	// A dropped connection is an error, not a hang.
	eventually(t, "the second socket to register", func() bool { return e.fake.Channels()[0].Connected })
	e.fake.DropSockets()
	if _, err := second.Read(ctx); err == nil {
		t.Fatal("the dropped socket still reads")
	}
}

func TestChannelDiesWithItsToken(t *testing.T) {
	e := newStreamEnv(t, fakegenesys.Options{})
	e.fake.ExpireTokens()
	if _, err := e.socket.Read(testCtx(t)); err == nil {
		t.Fatal("the socket outlived its token")
	}
	if ok, err := e.client.ChannelExists(testCtx(t), e.ch.ID); ok || err != nil {
		t.Errorf("ChannelExists = %v, %v; want false", ok, err)
	}
}

func TestDialUnknownChannel(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{}, genesys.Options{})
	ctx, cancel := context.WithTimeout(testCtx(t), 10*time.Second)
	defer cancel()
	_, err := genesys.Dial(ctx, strings.Replace(e.url, "http", "ws", 1)+"/channels/streaming-0-nope", nil)
	if err == nil {
		t.Fatal("dialled an unknown channel")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("dial hung")
	}
}
