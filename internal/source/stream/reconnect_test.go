package stream_test

import (
	"slices"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
	"github.com/queuewatch/queuewatch/internal/source/stream"
)

// connected starts a streamer of 3 queues, with both topics of each, and
// waits until it is healthy.
func connected(t *testing.T, o stream.Options) (*env, *stream.Streamer) {
	t.Helper()
	o.ActivityTopics = true
	e := newEnv(t, fakegenesys.Options{Queues: sim.DefaultQueues(3, 6)})
	s := stream.New(e.client, e.obs, e.options(o))
	start(t, s, fixed(e.fake.QueueIDs()))
	e.waitConnected(t, s, 1)
	return e, s
}

func TestReconnectsAfterDrop(t *testing.T) {
	e, s := connected(t, stream.Options{})
	id := e.fake.Channels()[0].ID
	e.fake.DropSockets()
	e.advanceBackoff(t, "a reconnect", func() bool { return connects(s) == 2 && s.Connected() })
	e.waitConnected(t, s, 1)

	if chans := e.fake.Channels(); len(chans) != 1 || chans[0].ID != id || !chans[0].Connected {
		t.Errorf("channels %+v; want %s reused", chans, id)
	}
	if n := e.channelCreations(); n != 1 {
		t.Errorf("%d channels created; want the channel reused", n)
	}
	e.waitGapFills(t, 2)
	if h := e.poller.health(); !slices.Equal(h, []bool{true, false, true}) {
		t.Errorf("poller told %v; want healthy, not, healthy", h)
	}
	if st := s.Status(); st.Reconnects != 1 || st.LastError == "" {
		t.Errorf("status %+v", st)
	}
	// Events flow on the new socket.
	e.fake.Advance(time.Second)
	eventually(t, "events after the reconnect", func() bool { return s.Status().Events > 0 })
}

func TestSocketClosingReconnectsAtOnce(t *testing.T) {
	e, s := connected(t, stream.Options{})
	before := e.clock.Now()
	e.fake.SendSocketClosing()
	// No backoff: the clock does not move.
	eventually(t, "a prompt reconnect", func() bool { return connects(s) == 2 && s.Connected() })
	if !e.clock.Now().Equal(before) {
		t.Error("the clock moved")
	}
	e.waitGapFills(t, 2)
	if n := e.channelCreations(); n != 1 || len(e.fake.Channels()) != 1 {
		t.Errorf("%d channels created; want the channel reused", n)
	}
}

func TestPingKeepsQuietSocket(t *testing.T) {
	e, s := connected(t, stream.Options{HeartbeatTimeout: 90 * time.Second})
	e.fake.StopHeartbeats(true)
	for i := 1; i <= 3; i++ {
		e.jump(t, 46*time.Second, connectedSleepers)
		now := e.clock.Now()
		// Silent for 46s: ping; the pong proves the socket alive.
		eventually(t, "a ping answered", func() bool {
			st := s.Status()
			return st.Pings == int64(i) && st.Channels[0].LastMessage.Equal(now)
		})
	}
	if st := s.Status(); !st.Connected || st.Reconnects != 0 || st.Channels[0].Connects != 1 {
		t.Errorf("a socket answering pings was dropped: %+v", st)
	}
}

func TestSilentSocketReconnects(t *testing.T) {
	e, s := connected(t, stream.Options{HeartbeatTimeout: 90 * time.Second})
	e.relay.mute() // neither heartbeats nor pongs get through
	e.jump(t, 46*time.Second, connectedSleepers)
	eventually(t, "a ping", func() bool { return s.Status().Pings == 1 })
	if !s.Connected() {
		t.Fatal("dropped the socket at the ping")
	}
	e.jump(t, 45*time.Second, connectedSleepers) // 91s without a message
	e.advanceBackoff(t, "a reconnect", func() bool { return connects(s) == 2 && s.Connected() })
	e.waitGapFills(t, 2)
	if n := e.channelCreations(); n != 1 {
		t.Errorf("%d channels created; want the channel reused", n)
	}
	if h := e.poller.health(); !slices.Equal(h, []bool{true, false, true}) {
		t.Errorf("poller told %v", h)
	}
}

func TestReplacesChannelThatDied(t *testing.T) {
	e, s := connected(t, stream.Options{})
	old := e.fake.Channels()[0].ID
	e.fake.ExpireTokens() // the channel dies with the token that made it
	e.advanceBackoff(t, "a new channel", func() bool {
		chans := e.fake.Channels()
		return len(chans) == 1 && chans[0].ID != old && chans[0].Connected && s.Connected()
	})
	if n := e.channelCreations(); n != 2 {
		t.Errorf("%d channels created; want 2", n)
	}
	if got := len(e.fake.Channels()[0].Topics); got != 6 {
		t.Errorf("the new channel has %d topics, want 6", got)
	}
}

func TestResubscribesBeforeExpiry(t *testing.T) {
	// A long heartbeat timeout lets the clock jump an hour at once.
	e, s := connected(t, stream.Options{ResubscribeEvery: time.Hour, HeartbeatTimeout: 48 * time.Hour})
	expires := e.fake.Channels()[0].Expires
	e.jump(t, time.Hour, connectedSleepers)
	eventually(t, "a resubscription", func() bool {
		chans := e.fake.Channels()
		return len(chans) == 1 && chans[0].Expires.After(expires)
	})
	if got := e.fake.Channels()[0].Expires; !got.Equal(t0.Add(25 * time.Hour)) {
		t.Errorf("channel expires at %s, want 25h", got.Sub(t0))
	}
	if connects(s) != 1 || !s.Connected() {
		t.Error("resubscribing dropped the socket")
	}
}
