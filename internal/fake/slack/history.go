package slack

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// historyScopes are the scopes of which conversations.history and
// conversations.replies need one (channels:history for public channels,
// groups:history for private ones, im:history and mpim:history for direct
// messages); Slack names them all in "needed" when the token has none.
var historyScopes = []string{"channels:history", "groups:history", "im:history", "mpim:history"}

// Limits of the history methods' page size: Slack's default and maximum.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 999
)

func init() {
	methods["conversations.history"] = method{"", (*Server).history}
	methods["conversations.replies"] = method{"", (*Server).replies}
}

// page holds the arguments the history methods share.
type page struct {
	c              *channelState
	oldest, latest string
	inclusive      bool
	limit, offset  int
	metadata       bool
}

// readPage checks the scope, channel (by ID only, as on Slack), rate limit
// and paging arguments of a history call; s.mu must be held.
func (s *Server) readPage(req *request) (*page, *apiError) {
	if !s.hasScope(req.token, "channels:history") {
		e := refuse("missing_scope")
		e.extra = map[string]any{"needed": strings.Join(historyScopes, ","), "provided": strings.Join(s.tokens[req.token].scopes, ",")}
		return nil, e
	}
	id, ok := req.str("channel")
	if !ok || id == "" {
		return nil, refuse("invalid_arguments")
	}
	c, ok := s.channels[id]
	switch {
	case !ok:
		return nil, refuse("channel_not_found")
	case !c.Member:
		return nil, refuse("not_in_channel")
	}
	if err := s.allow("read:"+req.method, s.readRate); err != nil {
		return nil, err
	}
	p := &page{c: c, limit: defaultHistoryLimit}
	p.oldest, _ = req.str("oldest")
	p.latest, _ = req.str("latest")
	for _, ts := range []string{p.oldest, p.latest} {
		if _, err := strconv.ParseFloat(ts, 64); ts != "" && err != nil {
			return nil, refuse("invalid_ts_oldest")
		}
	}
	p.inclusive = boolArg(req, "inclusive")
	p.metadata = boolArg(req, "include_all_metadata")
	if v, ok := req.str("limit"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, refuse("invalid_limit")
		}
		if n > 0 {
			p.limit = min(n, maxHistoryLimit)
		}
	}
	if cur, ok := req.str("cursor"); ok && cur != "" {
		raw, err := base64.StdEncoding.DecodeString(cur)
		off, ok := strings.CutPrefix(string(raw), "offset:")
		n, aerr := strconv.Atoi(off)
		if err != nil || !ok || aerr != nil || n < 0 {
			return nil, refuse("invalid_cursor")
		}
		p.offset = n
	}
	return p, nil
}

// boolArg reads a boolean argument the way Slack coerces it.
func boolArg(req *request, name string) bool {
	v, _ := req.str(name)
	return v == "true" || v == "1"
}

// within reports whether ts lies in the page's time range.
func (p *page) within(ts string) bool {
	t, _ := strconv.ParseFloat(ts, 64)
	if p.oldest != "" {
		o, _ := strconv.ParseFloat(p.oldest, 64)
		if t < o || (t == o && !p.inclusive) {
			return false
		}
	}
	if p.latest != "" {
		l, _ := strconv.ParseFloat(p.latest, 64)
		if t > l || (t == l && !p.inclusive) {
			return false
		}
	}
	return true
}

// answer cuts msgs (in answer order) to the page and renders it.
func (p *page) answer(msgs []*Message) map[string]any {
	rest := msgs[min(p.offset, len(msgs)):]
	more := len(rest) > p.limit
	if more {
		rest = rest[:p.limit]
	}
	out := make([]map[string]any, 0, len(rest))
	for _, m := range rest {
		w := wireMessage(m)
		if p.metadata && len(m.Metadata) > 0 {
			w["metadata"] = m.Metadata
		}
		out = append(out, w)
	}
	next := ""
	if more {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(p.offset+len(rest))))
	}
	return map[string]any{"ok": true, "messages": out, "has_more": more,
		"response_metadata": map[string]any{"next_cursor": next}}
}

// history serves conversations.history: a channel's top-level messages,
// newest first, in the range oldest…latest, a page at a time. Message
// metadata is included only with include_all_metadata.
func (s *Server) history(req *request) (map[string]any, *apiError) {
	p, err := s.readPage(req)
	if err != nil {
		return nil, err
	}
	var msgs []*Message
	for i := len(p.c.msgs) - 1; i >= 0; i-- {
		if m := p.c.msgs[i]; p.within(m.TS) {
			msgs = append(msgs, m)
		}
	}
	a := p.answer(msgs)
	a["pin_count"] = 0
	return a, nil
}

// replies serves conversations.replies: the thread of message ts, the
// parent first and then its replies oldest first, a page at a time.
func (s *Server) replies(req *request) (map[string]any, *apiError) {
	p, err := s.readPage(req)
	if err != nil {
		return nil, err
	}
	ts, _ := req.str("ts")
	if ts == "" {
		return nil, refuse("invalid_arguments")
	}
	parent := p.c.byTS[ts]
	if parent == nil {
		return nil, refuse("thread_not_found")
	}
	if parent.ThreadTS != "" {
		parent = p.c.byTS[parent.ThreadTS]
	}
	msgs := []*Message{parent}
	for _, r := range s.copyMessage(p.c, parent).Replies {
		if m := p.c.byTS[r.TS]; m != nil && p.within(m.TS) {
			msgs = append(msgs, m)
		}
	}
	return p.answer(msgs), nil
}

// checkMetadata validates a message's metadata argument: an object (or its
// JSON text, as form fields carry it) with a string event_type and an
// object event_payload.
func checkMetadata(v any) (json.RawMessage, *apiError) {
	if s, ok := v.(string); ok {
		if s == "" {
			return nil, nil
		}
		var obj any
		if json.Unmarshal([]byte(s), &obj) != nil {
			return nil, refuse("invalid_metadata_format")
		}
		v = obj
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, refuse("invalid_metadata_format")
	}
	et, _ := obj["event_type"].(string)
	if _, ok := obj["event_payload"].(map[string]any); !ok || et == "" {
		return nil, refuse("invalid_metadata_schema")
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, refuse("invalid_metadata_format")
	}
	return raw, nil
}
