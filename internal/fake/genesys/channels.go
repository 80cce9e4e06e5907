package genesys

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// channel is a notification channel.
type channel struct {
	id       string
	token    string // the token that created it; the channel dies with it
	connect  string
	created  time.Time
	lastUsed time.Time
	expires  time.Time
	topics   []string
	sock     *socketConn
	// last is what was last pushed per topic, to push only changes and
	// at most once a second.
	last map[string]pushed
}

type pushed struct {
	body []byte
	at   time.Time
}

// channelIDChars are those of real channel ids (streaming-0-…).
const channelIDChars = "0123456789abcdefghijklmnopqrstuvwxyz"

func newChannelID() string {
	var b [26]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = channelIDChars[int(b[i])%len(channelIDChars)]
	}
	return "streaming-0-" + string(b[:])
}

func (c *channel) wire() map[string]any {
	return map[string]any{"id": c.id, "connectUri": c.connect, "expires": c.expires.UTC().Format("2006-01-02T15:04:05.000Z")}
}

// serveChannels is POST (create) and GET (list) /api/v2/notifications/channels.
func (s *Server) serveChannels(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("X-Fake-Token")
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	if r.Method == http.MethodGet {
		include := r.URL.Query().Get("includechannels")
		entities := []map[string]any{}
		for _, c := range s.sortedChannelsLocked() {
			switch {
			case c.token == tok:
				entities = append(entities, c.wire())
			case include == "oauthclient":
				// Other tokens' channels are listed without their ids.
				entities = append(entities, map[string]any{"expires": c.expires.UTC().Format("2006-01-02T15:04:05.000Z")})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"entities": entities})
		return
	}
	if len(s.channels) >= s.opts.MaxChannels {
		s.evictLocked()
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	c := &channel{id: newChannelID(), token: tok, created: now, lastUsed: now, expires: now.Add(s.opts.ChannelTTL), last: map[string]pushed{}}
	c.connect = scheme + "://" + r.Host + "/channels/" + c.id
	s.channels[c.id] = c
	writeJSON(w, http.StatusOK, c.wire())
}

func (s *Server) sortedChannelsLocked() []*channel {
	out := make([]*channel, 0, len(s.channels))
	for _, c := range s.channels {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

// evictLocked removes the channel used least recently, unconnected
// channels first, as Genesys does when the 21st is created.
func (s *Server) evictLocked() {
	var victim *channel
	for _, c := range s.sortedChannelsLocked() {
		switch {
		case victim == nil:
			victim = c
		case (c.sock == nil) != (victim.sock == nil):
			if c.sock == nil {
				victim = c
			}
		case c.lastUsed.Before(victim.lastUsed):
			victim = c
		}
	}
	if victim != nil {
		s.removeChannelLocked(victim, "channel evicted")
	}
}

func (s *Server) removeChannelLocked(c *channel, why string) {
	delete(s.channels, c.id)
	if c.sock != nil {
		go c.sock.close(why)
		c.sock = nil
	}
}

// expireLocked removes channels past their expiry or whose token expired.
func (s *Server) expireLocked() {
	now := s.clock.Now()
	for _, c := range s.channels {
		t, ok := s.tokens[c.token]
		switch {
		case !now.Before(c.expires):
			s.removeChannelLocked(c, "channel expired")
		case !ok || !now.Before(t.expires):
			s.removeChannelLocked(c, "token expired")
		}
	}
}

// channelLocked returns a live channel.
func (s *Server) channelLocked(id string) (*channel, bool) {
	s.expireLocked()
	c, ok := s.channels[id]
	return c, ok
}

// serveChannel is HEAD /api/v2/notifications/channels/{id}.
func (s *Server) serveChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.channelLocked(r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// topicRE is the shape of a topic name.
var topicRE = regexp.MustCompile(`^v2\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$`)

// serveSubscriptions is GET, PUT (replace), POST (add) and DELETE
// /api/v2/notifications/channels/{id}/subscriptions.
func (s *Server) serveSubscriptions(w http.ResponseWriter, r *http.Request) {
	var body []struct {
		ID string `json:"id"`
	}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if !decodeJSON(w, r, &body) {
			return
		}
	}
	ignore := strings.EqualFold(r.URL.Query().Get("ignoreErrors"), "true")
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channelLocked(r.PathValue("id"))
	if !ok {
		writeError(w, r, http.StatusNotFound, "not.found", "Channel "+r.PathValue("id")+" not found")
		return
	}
	rejected := map[string]string{}
	switch r.Method {
	case http.MethodDelete:
		c.topics = nil
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPut, http.MethodPost:
		var topics []string
		if r.Method == http.MethodPost {
			topics = append(topics, c.topics...)
		}
		for _, t := range body {
			if !topicRE.MatchString(t.ID) {
				if !ignore {
					writeError(w, r, http.StatusBadRequest, "bad.request", fmt.Sprintf("Invalid topic %q", t.ID))
					return
				}
				rejected[t.ID] = "Invalid topic"
				continue
			}
			topics = append(topics, t.ID)
		}
		topics = unique(topics)
		if len(topics) > s.opts.MaxTopics {
			writeError(w, r, http.StatusBadRequest, "bad.request",
				fmt.Sprintf("Subscription request exceeds the maximum of %d topics per channel", s.opts.MaxTopics))
			return
		}
		c.topics = topics
		c.expires = now.Add(s.opts.ChannelTTL)
		c.lastUsed = now
		for t := range c.last {
			if !contains(topics, t) {
				delete(c.last, t)
			}
		}
	}
	entities := []map[string]any{}
	for _, t := range c.topics {
		entities = append(entities, map[string]any{"id": t, "state": "Permitted",
			"selfUri": "/api/v2/notifications/channels/" + c.id + "/subscriptions"})
	}
	for t, why := range rejected {
		entities = append(entities, map[string]any{"id": t, "state": "Rejected", "rejectionReason": why})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": entities})
}

// ChannelInfo describes a channel, for tests.
type ChannelInfo struct {
	ID        string
	Topics    []string
	Connected bool
	Expires   time.Time
}

// Channels returns the live channels, oldest first.
func (s *Server) Channels() []ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	var out []ChannelInfo
	for _, c := range s.sortedChannelsLocked() {
		out = append(out, ChannelInfo{ID: c.id, Topics: append([]string(nil), c.topics...), Connected: c.sock != nil, Expires: c.expires})
	}
	return out
}

// envelope renders a notification message.
func envelope(topic string, body any) []byte {
	b, _ := json.Marshal(map[string]any{
		"topicName": topic,
		"version":   "2",
		"eventBody": body,
		"metadata":  map[string]string{"CorrelationId": newUUID()},
	})
	return b
}
