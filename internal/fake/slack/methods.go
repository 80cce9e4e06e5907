package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Handler returns the fake's HTTP handler: the Web API under /api/ (behind
// the fault injector) and the inspection view under /_fake/messages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", s.Faults.Wrap(http.HandlerFunc(s.serveAPI)))
	mux.HandleFunc("GET /_fake/messages", s.serveMessages)
	mux.HandleFunc("GET /_fake/calls", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Calls())
	})
	return mux
}

// method is one Web API method: the scope it needs and its handler, which
// runs with s.mu held.
type method struct {
	scope  string
	handle func(s *Server, req *request) (map[string]any, *apiError)
}

var methods = map[string]method{
	"auth.test":        {"", (*Server).authTest},
	"chat.postMessage": {"chat:write", (*Server).postMessage},
	"chat.update":      {"chat:write", (*Server).update},
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	defer r.Body.Close()
	req, perr := parse(r)
	call := Call{Method: req.method, ContentType: req.contentType, TokenIn: req.tokenIn, Query: r.URL.RawQuery, Args: req.args}
	if q := r.URL.Query(); q.Has("token") {
		q.Set("token", "[redacted]")
		call.Query = q.Encode()
	}
	s.mu.Lock()
	answer, aerr := s.dispatch(req, perr)
	call.Status, call.OK = http.StatusOK, aerr == nil
	if aerr != nil {
		call.Status, call.Error = aerr.status, aerr.code
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	if aerr != nil {
		writeError(w, aerr, req)
		return
	}
	if len(req.warnings) > 0 {
		answer["warning"] = strings.Join(req.warnings, ",")
		answer["response_metadata"] = map[string]any{"warnings": req.warnings}
	}
	writeJSON(w, http.StatusOK, answer)
}

// dispatch runs a parsed request; s.mu must be held.
func (s *Server) dispatch(req *request, perr *apiError) (map[string]any, *apiError) {
	m, known := methods[req.method]
	if !known {
		// Slack answers unknown methods with HTTP 404 and a JSON body.
		e := &apiError{status: http.StatusNotFound, code: "unknown_method"}
		e.extra = map[string]any{"req_method": req.method}
		return nil, e
	}
	if perr != nil {
		return nil, perr
	}
	if err := s.authorize(req, m.scope); err != nil {
		return nil, err
	}
	return m.handle(s, req)
}

func (s *Server) authTest(req *request) (map[string]any, *apiError) {
	return map[string]any{
		"ok": true, "url": "https://fake.slack.invalid/", "team": "Fake Workspace",
		"user": "queuewatch", "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0BOT",
	}, nil
}

// content validates text and blocks of a post or update.
func (s *Server) content(req *request, textLimit int) (text string, hasText bool, blocks json.RawMessage, err *apiError) {
	if v, ok := req.args["text"]; ok && v != nil {
		if text, ok = v.(string); !ok {
			return "", false, nil, refuse("invalid_arguments")
		}
		hasText = text != ""
	}
	if utf8.RuneCountInString(text) > textLimit {
		return "", false, nil, refuse("msg_too_long")
	}
	if v, ok := req.args["blocks"]; ok && v != nil && v != "" {
		if blocks, err = checkBlocks(v, s.maxBlockChars); err != nil {
			return "", false, nil, err
		}
		if string(blocks) == "[]" {
			blocks = nil
		}
	}
	if !hasText && len(blocks) == 0 {
		if _, ok := req.args["attachments"]; !ok {
			return "", false, nil, refuse("no_text")
		}
	}
	return text, hasText, blocks, nil
}

func (s *Server) postMessage(req *request) (map[string]any, *apiError) {
	ref, _ := req.str("channel")
	c := s.lookup(ref)
	switch {
	case c == nil:
		return nil, refuse("channel_not_found")
	case c.Archived:
		return nil, refuse("is_archived")
	case !c.Member:
		return nil, refuse("not_in_channel")
	}
	if err := s.allow("post:"+c.ID, s.postRate); err != nil {
		return nil, err
	}
	text, _, blocks, err := s.content(req, maxPostTextLength)
	if err != nil {
		return nil, err
	}
	threadTS, _ := req.str("thread_ts")
	if threadTS != "" {
		parent := c.byTS[threadTS]
		if parent == nil {
			// Slack does not document this case; the fake refuses it.
			return nil, refuse("thread_not_found")
		}
		if parent.ThreadTS != "" {
			threadTS = parent.ThreadTS // a reply to a reply joins the thread
		}
	}
	var md json.RawMessage
	if v, ok := req.args["metadata"]; ok && v != nil {
		if md, err = checkMetadata(v); err != nil {
			return nil, err
		}
	}
	now := s.now()
	m := &Message{Channel: c.ID, TS: s.nextTS(), ThreadTS: threadTS, Text: text, Blocks: blocks, Metadata: md, Posted: now}
	c.byTS[m.TS] = m
	if threadTS == "" {
		c.msgs = append(c.msgs, m)
	}
	return map[string]any{"ok": true, "channel": c.ID, "ts": m.TS, "message": wireMessage(m)}, nil
}

func (s *Server) update(req *request) (map[string]any, *apiError) {
	ref, _ := req.str("channel")
	c := s.lookup(ref)
	if c == nil {
		return nil, refuse("channel_not_found")
	}
	ts, _ := req.str("ts")
	if ts == "" {
		return nil, refuse("invalid_arguments")
	}
	if err := s.allow("update", s.updateRate); err != nil {
		return nil, err
	}
	m := c.byTS[ts]
	if m == nil {
		return nil, refuse("message_not_found")
	}
	text, hasText, blocks, err := s.content(req, maxUpdateText)
	if err != nil {
		return nil, err
	}
	switch {
	case len(blocks) > 0:
		m.Blocks = blocks
		if hasText {
			m.Text = text
		}
	case hasText:
		// Text without blocks removes the message's blocks.
		m.Text, m.Blocks = text, nil
	}
	m.Edits++
	m.Edited = s.now()
	return map[string]any{"ok": true, "channel": c.ID, "ts": m.TS, "text": m.Text, "message": wireMessage(m)}, nil
}

// wireMessage renders a message the way Slack returns it in answers.
func wireMessage(m *Message) map[string]any {
	out := map[string]any{
		"type": "message", "subtype": "bot_message", "bot_id": "B0BOT",
		"text": m.Text, "ts": m.TS,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if m.Edits > 0 {
		out["edited"] = map[string]any{"user": "U0BOT", "ts": m.TS}
	}
	return out
}

// serveMessages answers GET /_fake/messages[?channel=ID] with the stored
// messages as JSON: one channel's list, or every channel's keyed by ID.
func (s *Server) serveMessages(w http.ResponseWriter, r *http.Request) {
	if ch := r.URL.Query().Get("channel"); ch != "" {
		msgs := s.Messages(ch)
		if msgs == nil {
			msgs = []Message{}
		}
		writeJSON(w, http.StatusOK, msgs)
		return
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	all := map[string][]Message{}
	for _, id := range ids {
		all[id] = s.Messages(id)
		if all[id] == nil {
			all[id] = []Message{}
		}
	}
	writeJSON(w, http.StatusOK, all)
}
