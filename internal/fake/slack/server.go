// Package slack is a faithful fake of the Slack Web API methods queuewatch
// uses (chat.postMessage, chat.update, auth.test, conversations.info,
// conversations.history, conversations.replies), for tests and the demo.
//
// It answers the way Slack does: HTTP 200 with {"ok":false,"error":…} for
// refused calls, HTTP 429 with Retry-After and "ratelimited" when a channel
// posts faster than about one message a second, and Block Kit limits enforced
// with "invalid_blocks". Faults (status codes, hangs, dropped connections)
// can be injected through the Faults field. Messages can be inspected with
// Messages, Calls, or over HTTP under /_fake/messages.
package slack

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/httpserve"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

// Defaults of a new Server.
const (
	// DefaultToken is the bot token a new Server accepts, with chat:write.
	DefaultToken = "xoxb-fake-0000-token"
	// DefaultChannel is the ID of the channel a new Server knows, with the
	// bot as a member.
	DefaultChannel = "C0QUEUES"
	// DefaultChannelName is the name of DefaultChannel.
	DefaultChannelName = "queue-alerts"
	// DefaultMaxBlockChars is the combined text length of a message's blocks
	// above which the fake answers msg_blocks_too_long. Slack does not
	// document the cap; about 13,200 characters was observed (third-party).
	DefaultMaxBlockChars = 13200
)

// Channel is a conversation the fake knows.
type Channel struct {
	ID   string
	Name string
	// Member is whether the bot is in the channel; posting to a channel it is
	// not in answers not_in_channel.
	Member bool
	// Archived channels answer is_archived.
	Archived bool
}

// Rate is a token-bucket rate limit: PerSecond requests a second on
// average, up to Burst at once. A zero PerSecond turns the limit off.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Message is one stored message, as returned by Messages.
type Message struct {
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts,omitempty"`
	Text     string `json:"text"`
	// Blocks is the message's blocks as JSON, nil when it has none.
	Blocks json.RawMessage `json:"blocks,omitempty"`
	// Edits counts the chat.update calls that changed the message.
	// Metadata is the message's metadata as JSON, nil when it has none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Edits    int             `json:"edits"`
	Posted   time.Time       `json:"posted"`
	Edited   time.Time       `json:"edited,omitzero"`
	Replies  []Message       `json:"replies,omitempty"`
}

// Call is one API request the fake received, for assertions.
type Call struct {
	Method      string `json:"method"`
	ContentType string `json:"content_type"`
	// TokenIn says where the request carried a token: "header", "form",
	// "query", "json" or "" for none.
	TokenIn string         `json:"token_in"`
	Query   string         `json:"query,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
	Status  int            `json:"status"`
	OK      bool           `json:"ok"`
	Error   string         `json:"error,omitempty"`
}

type token struct {
	scopes  []string
	revoked bool
}

type channelState struct {
	Channel
	msgs []*Message // top-level messages in post order
	byTS map[string]*Message
}

// Server is a fake Slack Web API. The zero value is not usable; use New.
type Server struct {
	// Faults are applied to /api/ requests before the fake handles them.
	Faults faults.Injector

	mu            sync.Mutex
	now           func() time.Time
	tokens        map[string]*token
	channels      map[string]*channelState
	names         map[string]string // channel name → ID
	postRate      Rate
	updateRate    Rate
	readRate      Rate // conversations.history and .replies, each
	buckets       map[string]*bucket
	lastTS        int64 // microseconds of the last ts handed out
	calls         []Call
	maxBlockChars int

	hs httpserve.Server
}

// New returns a fake that accepts DefaultToken and knows DefaultChannel,
// limits chat.postMessage to 1 message a second per channel with a burst of
// 3 and chat.update to 50 a minute (burst 20), using the real clock.
func New() *Server {
	s := &Server{
		now:           time.Now,
		tokens:        map[string]*token{},
		channels:      map[string]*channelState{},
		names:         map[string]string{},
		postRate:      Rate{PerSecond: 1, Burst: 3},
		updateRate:    Rate{PerSecond: 50.0 / 60, Burst: 20},
		readRate:      Rate{PerSecond: 50.0 / 60, Burst: 20},
		buckets:       map[string]*bucket{},
		maxBlockChars: DefaultMaxBlockChars,
	}
	s.AddToken(DefaultToken)
	s.AddChannel(Channel{ID: DefaultChannel, Name: DefaultChannelName, Member: true})
	return s
}

// Start serves the fake on a loopback port until the test ends and returns
// the Web API base URL (ending in /api), to be used as the notifier's URL.
func (s *Server) Start(t testing.TB) string { return s.hs.Start(t, "fake slack", s.Handler()) + "/api" }

// Listen serves the fake on addr (such as "127.0.0.1:0") in the background
// and returns the Web API base URL. Close stops it.
func (s *Server) Listen(addr string) (string, error) {
	u, err := s.hs.Listen("fake slack", addr, s.Handler())
	if err != nil {
		return "", err
	}
	return u + "/api", nil
}

// Close stops a server started with Listen or Start.
func (s *Server) Close() error { return s.hs.Close() }

// SetClock replaces the clock used for rate limits and message timestamps.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
	s.buckets = map[string]*bucket{}
}

// SetRateLimits sets the chat.postMessage limit (per channel) and the
// chat.update limit (per workspace). A zero Rate turns a limit off.
func (s *Server) SetRateLimits(post, update Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.postRate, s.updateRate = post, update
	s.buckets = map[string]*bucket{}
}

// SetReadRate sets the limit of conversations.history and
// conversations.replies (Tier 3, per method and workspace; 50 a minute with
// a burst of 20 by default). A zero Rate turns it off.
func (s *Server) SetReadRate(r Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readRate = r
	s.buckets = map[string]*bucket{}
}

// SetMaxBlockChars sets the combined block text length above which the fake
// answers msg_blocks_too_long; 0 turns the check off.
func (s *Server) SetMaxBlockChars(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBlockChars = n
}

// AddToken makes tok a valid bot token with the given scopes, chat:write
// when none are given.
func (s *Server) AddToken(tok string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = []string{"chat:write"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = &token{scopes: scopes}
}

// RevokeToken makes tok answer token_revoked.
func (s *Server) RevokeToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		t.revoked = true
	}
}

// AddChannel adds or replaces a channel, keeping its messages.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.channels[c.ID]; ok {
		delete(s.names, old.Name)
		old.Channel = c
	} else {
		s.channels[c.ID] = &channelState{Channel: c, byTS: map[string]*Message{}}
	}
	if c.Name != "" {
		s.names[c.Name] = c.ID
	}
}

// SetMember sets whether the bot is in a channel; false leads to
// not_in_channel on posts.
func (s *Server) SetMember(channelID string, member bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[channelID]; ok {
		c.Member = member
	}
}

// DeleteMessage removes a message (as a user deleting it would), so that a
// later chat.update answers message_not_found. It reports whether it existed.
func (s *Server) DeleteMessage(channelID, ts string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok || c.byTS[ts] == nil {
		return false
	}
	delete(c.byTS, ts)
	for i, m := range c.msgs {
		if m.TS == ts {
			c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
			break
		}
	}
	return true
}

// Messages returns copies of a channel's top-level messages in post order,
// each with its thread replies. The channel may be given by ID or name.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(channel)
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		out = append(out, s.copyMessage(c, m))
	}
	return out
}

// Calls returns every API request received so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// copyMessage copies m and its replies; s.mu must be held.
func (s *Server) copyMessage(c *channelState, m *Message) Message {
	cp := *m
	cp.Blocks = append(json.RawMessage(nil), m.Blocks...)
	cp.Metadata = append(json.RawMessage(nil), m.Metadata...)
	cp.Replies = nil
	if m.ThreadTS == "" {
		var replies []*Message
		for _, r := range c.byTS {
			if r.ThreadTS == m.TS {
				replies = append(replies, r)
			}
		}
		sort.Slice(replies, func(i, j int) bool { return replies[i].TS < replies[j].TS })
		for _, r := range replies {
			cp.Replies = append(cp.Replies, s.copyMessage(c, r))
		}
	}
	return cp
}

// lookup finds a channel by ID, name or #name; s.mu must be held.
func (s *Server) lookup(ref string) *channelState {
	if c, ok := s.channels[ref]; ok {
		return c
	}
	name := ref
	if len(name) > 0 && name[0] == '#' {
		name = name[1:]
	}
	if id, ok := s.names[name]; ok {
		return s.channels[id]
	}
	return nil
}

// nextTS returns a unique message timestamp "seconds.micros"; s.mu must be held.
func (s *Server) nextTS() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}
