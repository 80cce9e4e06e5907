package slack

import (
	"encoding/json"
	"fmt"
	"testing"
)

// histTok is a token that may read history.
const histTok = "xoxb-history"

// postWithMeta posts n top-level messages, the i-th with metadata
// {event_type: t, event_payload: {n: i}}, and returns their ts in order.
func postWithMeta(t *testing.T, base string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": fmt.Sprint("m", i),
			"metadata": map[string]any{"event_type": "t", "event_payload": map[string]any{"n": i}}})
		if !r.ok() {
			t.Fatalf("post %d: %v", i, r.body)
		}
		out = append(out, r.str("ts"))
	}
	return out
}

// read calls a history method with histTok.
func read(t *testing.T, base, method string, args map[string]any) reply {
	t.Helper()
	return do(t, "POST", base+"/"+method, "Bearer "+histTok, "application/json; charset=utf-8", mustJSON(t, args))
}

func TestHistoryPagesNewestFirstWithMetadataOnRequest(t *testing.T) {
	s, base := start(t)
	s.AddToken(histTok, "chat:write", "channels:history")
	ts := postWithMeta(t, base, 5)

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		args := map[string]any{"channel": DefaultChannel, "limit": 2, "include_all_metadata": true}
		if cursor != "" {
			args["cursor"] = cursor
		}
		r := read(t, base, "conversations.history", args)
		if !r.ok() {
			t.Fatalf("page %d: %v", page, r.body)
		}
		for _, m := range r.body["messages"].([]any) {
			msg := m.(map[string]any)
			if _, ok := msg["metadata"].(map[string]any); !ok {
				t.Errorf("message %v has no metadata with include_all_metadata", msg["ts"])
			}
			got = append(got, msg["ts"].(string))
		}
		meta, _ := r.body["response_metadata"].(map[string]any)
		cursor, _ = meta["next_cursor"].(string)
		if more, _ := r.body["has_more"].(bool); more != (cursor != "") {
			t.Fatalf("has_more %v with next_cursor %q", more, cursor)
		}
		if cursor == "" {
			break
		}
	}
	want := []string{ts[4], ts[3], ts[2], ts[1], ts[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history %v, want newest first %v", got, want)
	}

	r := read(t, base, "conversations.history", map[string]any{"channel": DefaultChannel, "oldest": ts[2]})
	msgs := r.body["messages"].([]any)
	if len(msgs) != 2 {
		t.Errorf("oldest=%s (exclusive): %d messages, want 2", ts[2], len(msgs))
	}
	if _, ok := msgs[0].(map[string]any)["metadata"]; ok {
		t.Error("metadata returned without include_all_metadata")
	}
}

func TestHistoryRefusals(t *testing.T) {
	s, base := start(t)
	s.AddToken(histTok, "chat:write", "channels:history")
	s.AddChannel(Channel{ID: "C0OUTSIDE", Name: "elsewhere"})
	ts := postWithMeta(t, base, 1)
	tests := []struct {
		name, tok, method string
		args              map[string]any
		want              string
	}{
		{"no history scope", DefaultToken, "conversations.history", map[string]any{"channel": DefaultChannel}, "missing_scope"},
		{"channel by name", histTok, "conversations.history", map[string]any{"channel": DefaultChannelName}, "channel_not_found"},
		{"not a member", histTok, "conversations.history", map[string]any{"channel": "C0OUTSIDE"}, "not_in_channel"},
		{"no channel", histTok, "conversations.history", map[string]any{}, "invalid_arguments"},
		{"bad cursor", histTok, "conversations.history", map[string]any{"channel": DefaultChannel, "cursor": "x"}, "invalid_cursor"},
		{"replies without ts", histTok, "conversations.replies", map[string]any{"channel": DefaultChannel}, "invalid_arguments"},
		{"replies of no message", histTok, "conversations.replies", map[string]any{"channel": DefaultChannel, "ts": "1.000001"}, "thread_not_found"},
		{"replies fine", histTok, "conversations.replies", map[string]any{"channel": DefaultChannel, "ts": ts[0]}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", base+"/"+tc.method, "Bearer "+tc.tok, "application/json; charset=utf-8", mustJSON(t, tc.args))
			if r.errCode() != tc.want || r.ok() != (tc.want == "") {
				t.Fatalf("got %v, want error %q", r.body, tc.want)
			}
			if tc.want == "missing_scope" && r.str("needed") == "" {
				t.Errorf("missing_scope without needed: %v", r.body)
			}
		})
	}
}

func TestRepliesThreadWithMetadata(t *testing.T) {
	s, base := start(t)
	s.AddToken(histTok, "chat:write", "channels:history")
	parent := postWithMeta(t, base, 1)[0]
	for i := range 3 {
		r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "thread_ts": parent, "text": fmt.Sprint("r", i),
			"metadata": map[string]any{"event_type": "t", "event_payload": map[string]any{"r": i}}})
		if !r.ok() {
			t.Fatal(r.body)
		}
	}
	r := read(t, base, "conversations.replies", map[string]any{"channel": DefaultChannel, "ts": parent, "include_all_metadata": "true"})
	msgs := r.body["messages"].([]any)
	if len(msgs) != 4 || msgs[0].(map[string]any)["ts"] != parent {
		t.Fatalf("replies: %v, want the parent and 3 replies", r.body)
	}
	if md, _ := msgs[3].(map[string]any)["metadata"].(map[string]any); md["event_type"] != "t" {
		t.Errorf("last reply's metadata %v", md)
	}
	if h := read(t, base, "conversations.history", map[string]any{"channel": DefaultChannel}); len(h.body["messages"].([]any)) != 1 {
		t.Errorf("history lists thread replies: %v", h.body)
	}
}

func TestPostRefusesMalformedMetadata(t *testing.T) {
	_, base := start(t)
	for _, md := range []any{"{", map[string]any{"event_payload": map[string]any{}}, map[string]any{"event_type": "t", "event_payload": 3}} {
		r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": "x", "metadata": md})
		if r.ok() || (r.errCode() != "invalid_metadata_format" && r.errCode() != "invalid_metadata_schema") {
			t.Errorf("metadata %v: %v, want invalid_metadata_*", md, r.body)
		}
	}
}

func TestHistoryRateLimited(t *testing.T) {
	s, base := start(t)
	s.AddToken(histTok, "chat:write", "channels:history")
	c := newClock()
	s.SetClock(c.Now)
	s.SetReadRate(Rate{PerSecond: 1, Burst: 2})
	args := map[string]any{"channel": DefaultChannel}
	for i := range 2 {
		if r := read(t, base, "conversations.history", args); !r.ok() {
			t.Fatalf("call %d: %v", i, r.body)
		}
	}
	if r := read(t, base, "conversations.history", args); r.status != 429 || r.errCode() != "ratelimited" {
		t.Fatalf("third call in a burst of 2: HTTP %d %v, want 429 ratelimited", r.status, r.body)
	}
	if r := read(t, base, "conversations.replies", map[string]any{"channel": DefaultChannel, "ts": "1.000001"}); r.status == 429 {
		t.Error("conversations.replies shares conversations.history's limit; Slack limits each method apart")
	}
	c.Advance(1e9)
	if r := read(t, base, "conversations.history", args); !r.ok() {
		t.Fatalf("after a second: %v", r.body)
	}
}

// mustJSON encodes v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
