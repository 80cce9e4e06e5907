package stream_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/stream"
)

func TestConnectsSubscribesAndDelivers(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 1)})
	ids := e.fake.QueueIDs()
	var states []bool
	var mu sync.Mutex
	s := stream.New(e.client, e.obs, e.options(stream.Options{ActivityTopics: true,
		OnState: func(c bool) { mu.Lock(); states = append(states, c); mu.Unlock() }}))
	start(t, s, fixed(ids))
	e.waitConnected(t, s, 1)

	chans := e.fake.Channels()
	if len(chans) != 1 || !chans[0].Connected {
		t.Fatalf("channels %+v", chans)
	}
	want := genesys.QueueTopics(ids)
	got := slices.Clone(chans[0].Topics)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("topics %v, want %v", got, want)
	}
	e.fake.Advance(time.Second) // pushes every subscribed queue's figures
	eventually(t, "stream samples of every queue", func() bool { return len(e.obs.queues(metric.SourceStream)) == 3 })
	for _, sm := range e.obs.all() {
		if sm.Source != metric.SourceStream {
			t.Fatalf("sample %+v from another source", sm)
		}
	}
	e.waitGapFills(t, 1)
	if h := e.poller.health(); !slices.Equal(h, []bool{true}) {
		t.Errorf("poller told %v", h)
	}
	st := s.Status()
	if !st.Connected || st.Queues != 3 || st.Events == 0 || len(st.Channels) != 1 || st.Channels[0].Topics != 6 {
		t.Errorf("status %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(states, []bool{true}) {
		t.Errorf("OnState got %v", states)
	}
}

func TestShardsQueuesOverChannels(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(1500, 2)})
	ids := e.fake.QueueIDs()
	s := stream.New(e.client, e.obs, e.options(stream.Options{ActivityTopics: true}))
	start(t, s, fixed(ids))
	e.waitConnected(t, s, 3)

	// Two topics a queue, 1,000 topics a channel: 500 queues a channel.
	chans := e.fake.Channels()
	if len(chans) != 3 {
		t.Fatalf("%d channels for 1,500 queues; want 3", len(chans))
	}
	seen := map[string]bool{}
	for _, c := range chans {
		if !c.Connected || len(c.Topics) > genesys.MaxTopicsPerChannel {
			t.Errorf("channel %s: connected %v, %d topics", c.ID, c.Connected, len(c.Topics))
		}
		for _, topic := range c.Topics {
			if seen[topic] {
				t.Errorf("topic %s subscribed twice", topic)
			}
			seen[topic] = true
		}
	}
	for _, topic := range genesys.QueueTopics(ids) {
		if !seen[topic] {
			t.Fatalf("topic %s not subscribed", topic)
		}
	}
	e.fake.Advance(time.Second)
	eventually(t, "stream samples of all 1,500 queues", func() bool { return len(e.obs.queues(metric.SourceStream)) == 1500 })
	if st := s.Status(); len(st.Channels) != 3 {
		t.Errorf("%d channels in status", len(st.Channels))
	}
	e.waitGapFills(t, 3)
}

func TestUpdatesSubscriptionsWhenQueuesChange(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(5, 3)})
	all := e.fake.QueueIDs()
	var mu sync.Mutex
	current := all[:3]
	ids := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(current) }
	s := stream.New(e.client, e.obs, e.options(stream.Options{}))
	start(t, s, ids)
	eventually(t, "the stream to connect", s.Connected)

	mu.Lock()
	current = []string{all[1], all[2], all[3], all[4]} // one queue gone, two new
	mu.Unlock()
	s.Refresh()
	want := genesys.StreamTopics(ids(), false)
	slices.Sort(want)
	eventually(t, "the new topics", func() bool {
		chans := e.fake.Channels()
		if len(chans) != 1 {
			return false
		}
		got := slices.Clone(chans[0].Topics)
		slices.Sort(got)
		return slices.Equal(got, want) && s.Connected()
	})
	if n := e.channelCreations(); n != 1 {
		t.Errorf("%d channels created; the change needs none", n)
	}
	if connects(s) != 1 {
		t.Errorf("the socket reconnected for a subscription change")
	}
	if st := s.Status(); st.Queues != 4 {
		t.Errorf("status %+v", st)
	}
}

func TestRestartReusesChannel(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 4)})
	ids := e.fake.QueueIDs()
	first := stream.New(e.client, e.obs, e.options(stream.Options{ActivityTopics: true}))
	stop := start(t, first, fixed(ids))
	e.waitConnected(t, first, 1)
	saved := first.Status().Channels[0].Channel
	stop()
	if first.Connected() {
		t.Error("a stopped streamer says it is connected")
	}

	// The same process starts a new streamer: ListChannels finds the
	// channel of this token.
	second := stream.New(e.client, e.obs, e.options(stream.Options{ActivityTopics: true}))
	start(t, second, fixed(ids))
	e.waitConnected(t, second, 1)
	chans := e.fake.Channels()
	if len(chans) != 1 || chans[0].ID != saved.ID || e.channelCreations() != 1 {
		t.Errorf("channels %+v after a restart, %d created; want %s reused", chans, e.channelCreations(), saved.ID)
	}
	if h := e.poller.health(); !slices.Equal(h, []bool{true, false, true}) {
		t.Errorf("poller told %v", h)
	}
}

func TestNewProcessReusesSavedChannel(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 5)})
	ids := e.fake.QueueIDs()
	first := stream.New(e.client, e.obs, e.options(stream.Options{}))
	stop := start(t, first, fixed(ids))
	e.waitConnected(t, first, 1)
	saved := first.Status().Channels[0].Channel
	stop()

	// A new process has a new token, whose listing hides the channel's id:
	// only the saved channel can be reused.
	second := stream.New(e.newClient(t), e.obs, e.options(stream.Options{Channels: []genesys.Channel{saved}}))
	start(t, second, fixed(ids))
	e.waitConnected(t, second, 1)
	if chans := e.fake.Channels(); len(chans) != 1 || chans[0].ID != saved.ID || e.channelCreations() != 1 {
		t.Errorf("channels %+v, %d created; want %s reused", chans, e.channelCreations(), saved.ID)
	}
}

func TestRunNeedsQueueIDs(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(1, 5)})
	s := stream.New(e.client, e.obs, e.options(stream.Options{}))
	if err := s.Run(t.Context(), nil); err == nil {
		t.Error("Run without queue ids did not fail")
	}
	if s.Connected() || s.Status().Running {
		t.Error("a streamer that never ran is connected")
	}
}

// TestDefaultLayoutPutsOneThousandAndOneQueuesOnTwoChannels checks the
// default layout: each queue's observations topic alone, 1,000 queues a
// channel, and the poller never told to slow down, since the longest wait
// then comes from its polls.
func TestDefaultLayoutPutsOneThousandAndOneQueuesOnTwoChannels(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(1001, 9)})
	ids := e.fake.QueueIDs()
	s := stream.New(e.client, e.obs, e.options(stream.Options{}))
	start(t, s, fixed(ids))
	e.waitConnected(t, s, 2)

	chans := e.fake.Channels()
	sizes := []int{len(chans[0].Topics), len(chans[1].Topics)}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{1, 1000}) {
		t.Errorf("channels hold %v topics; want 1,000 and 1", sizes)
	}
	var got []string
	for _, c := range chans {
		got = append(got, c.Topics...)
	}
	want := genesys.StreamTopics(ids, false)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%d topics subscribed; want the %d observations topics, each once", len(got), len(want))
	}
	e.fake.Advance(time.Second)
	eventually(t, "stream samples of all 1,001 queues", func() bool { return len(e.obs.queues(metric.SourceStream)) == 1001 })
	st := s.Status()
	if !st.Connected || st.Queues != 1001 || st.Unstreamed != 0 || len(st.Channels) != 2 ||
		st.Channels[0].Topics+st.Channels[1].Topics != 1001 {
		t.Errorf("status: connected %v, %d queues, %d unstreamed, %d channels", st.Connected, st.Queues, st.Unstreamed, len(st.Channels))
	}
	e.waitGapFills(t, 2)
	for _, h := range e.poller.health() {
		if h {
			t.Fatalf("poller told %v; without activity topics it must keep polling at the full rate", e.poller.health())
		}
	}
}
