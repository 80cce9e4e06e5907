package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
)

func TestAuth(t *testing.T) {
	s, base := start(t)
	s.AddToken("xoxb-noscope", "channels:read")
	s.AddToken("xoxb-revoked")
	s.RevokeToken("xoxb-revoked")
	body := `{"channel":"C0QUEUES","text":"hi"}`
	jsonCT := "application/json; charset=utf-8"
	tests := []struct {
		name, path, auth, ct, body, want, tokenIn string
	}{
		{"bearer", "/chat.postMessage", "Bearer " + DefaultToken, jsonCT, body, "", "header"},
		{"missing", "/chat.postMessage", "", jsonCT, body, "not_authed", ""},
		{"wrong", "/chat.postMessage", "Bearer xoxb-wrong", jsonCT, body, "invalid_auth", "header"},
		{"not bearer", "/chat.postMessage", "Basic " + DefaultToken, jsonCT, body, "invalid_auth", "header"},
		{"revoked", "/chat.postMessage", "Bearer xoxb-revoked", jsonCT, body, "token_revoked", "header"},
		{"query token", "/chat.postMessage?token=" + DefaultToken, "", jsonCT, body, "not_authed", "query"},
		{"query token with header", "/chat.postMessage?token=" + DefaultToken, "Bearer " + DefaultToken, jsonCT, body, "not_authed", "query"},
		{"json body token", "/chat.postMessage", "", jsonCT, `{"token":"` + DefaultToken + `","channel":"C0QUEUES","text":"hi"}`, "not_authed", "json"},
		{"form token", "/chat.postMessage", "", "application/x-www-form-urlencoded", "token=" + DefaultToken + "&channel=C0QUEUES&text=hi", "", "form"},
		{"form wrong token", "/chat.postMessage", "", "application/x-www-form-urlencoded", "token=xoxb-x&channel=C0QUEUES&text=hi", "invalid_auth", "form"},
		{"missing scope", "/chat.postMessage", "Bearer xoxb-noscope", jsonCT, body, "missing_scope", "header"},
		{"auth.test", "/auth.test", "Bearer " + DefaultToken, jsonCT, `{}`, "", "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", base+tc.path, tc.auth, tc.ct, tc.body)
			if r.status != 200 || r.errCode() != tc.want || r.ok() != (tc.want == "") {
				t.Fatalf("got HTTP %d %v, want error %q", r.status, r.body, tc.want)
			}
			calls := s.Calls()
			last := calls[len(calls)-1]
			if last.TokenIn != tc.tokenIn {
				t.Errorf("token in %q, want %q", last.TokenIn, tc.tokenIn)
			}
			if strings.Contains(last.Query, DefaultToken) {
				t.Errorf("call log keeps the token: %q", last.Query)
			}
			if _, ok := last.Args["token"]; ok {
				t.Error("call log keeps the token argument")
			}
			if tc.want == "missing_scope" && (r.str("needed") != "chat:write" || r.str("provided") != "channels:read") {
				t.Errorf("missing_scope answer lacks needed/provided: %v", r.body)
			}
		})
	}
}

func TestRequestFormat(t *testing.T) {
	_, base := start(t)
	auth := "Bearer " + DefaultToken
	tests := []struct {
		name, method, ct, body, want string
		status                       int
	}{
		{"no content type", "POST", "", `{}`, "missing_post_type", 200},
		{"bad content type", "POST", "text/xml", `<x/>`, "invalid_post_type", 200},
		{"bad json", "POST", "application/json; charset=utf-8", `{`, "invalid_json", 200},
		{"json array", "POST", "application/json; charset=utf-8", `[1]`, "json_not_object", 200},
		{"bad charset", "POST", "application/json; charset=latin1", `{}`, "invalid_charset", 200},
		{"GET", "GET", "", "", "method_not_allowed", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base+"/chat.postMessage", auth, tc.ct, tc.body)
			if r.status != tc.status || r.errCode() != tc.want {
				t.Fatalf("got HTTP %d %v, want %d %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	t.Run("unknown method", func(t *testing.T) {
		r := do(t, "POST", base+"/chat.nope", auth, "application/json; charset=utf-8", `{}`)
		if r.status != http.StatusNotFound || r.errCode() != "unknown_method" || r.str("req_method") != "chat.nope" {
			t.Fatalf("got HTTP %d %v", r.status, r.body)
		}
	})
	t.Run("missing charset warns", func(t *testing.T) {
		r := do(t, "POST", base+"/chat.postMessage", auth, "application/json", `{"channel":"C0QUEUES","text":"x"}`)
		if !r.ok() || r.str("warning") != "missing_charset" {
			t.Fatalf("got %v", r.body)
		}
	})
}

func TestChannels(t *testing.T) {
	s, base := start(t)
	s.AddChannel(Channel{ID: "C0OUT", Name: "outside"})
	s.AddChannel(Channel{ID: "C0OLD", Name: "old", Member: true, Archived: true})
	tests := []struct{ channel, want string }{
		{"C0QUEUES", ""},
		{"queue-alerts", ""},
		{"#queue-alerts", ""},
		{"", "channel_not_found"},
		{"C0NOPE", "channel_not_found"},
		{"C0OUT", "not_in_channel"},
		{"C0OLD", "is_archived"},
	}
	for _, tc := range tests {
		t.Run(tc.channel, func(t *testing.T) {
			r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": tc.channel, "text": "hello"})
			if r.errCode() != tc.want {
				t.Fatalf("got %v, want %q", r.body, tc.want)
			}
			if tc.want == "" && r.str("channel") != DefaultChannel {
				t.Errorf("answer channel %q, want the ID", r.str("channel"))
			}
		})
	}
	s.SetMember("C0OUT", true)
	if r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": "C0OUT", "text": "now in"}); !r.ok() {
		t.Fatalf("after invite: %v", r.body)
	}
}

func TestContentLimits(t *testing.T) {
	_, base := start(t)
	section := func(n int) map[string]any {
		return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Repeat("x", n)}}
	}
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"type": "divider"}
	}
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"text only", map[string]any{"text": "hi"}, ""},
		{"no text", map[string]any{}, "no_text"},
		{"text 40000", map[string]any{"text": strings.Repeat("é", 40000)}, ""},
		{"text 40001", map[string]any{"text": strings.Repeat("a", 40001)}, "msg_too_long"},
		{"50 blocks", map[string]any{"text": "t", "blocks": many[:50]}, ""},
		{"51 blocks", map[string]any{"text": "t", "blocks": many}, "invalid_blocks"},
		{"blocks not array", map[string]any{"text": "t", "blocks": map[string]any{}}, "invalid_blocks_format"},
		{"blocks string", map[string]any{"text": "t", "blocks": `[{"type":"divider"}]`}, ""},
		{"blocks bad string", map[string]any{"text": "t", "blocks": `[{`}, "invalid_blocks_format"},
		{"unknown type", map[string]any{"text": "t", "blocks": []any{map[string]any{"type": "banner"}}}, "invalid_blocks"},
		{"header 150", map[string]any{"blocks": []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", 150)}}}}, ""},
		{"header 151", map[string]any{"blocks": []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", 151)}}}}, "invalid_blocks"},
		{"header mrkdwn", map[string]any{"blocks": []any{map[string]any{"type": "header", "text": map[string]any{"type": "mrkdwn", "text": "h"}}}}, "invalid_blocks"},
		{"section 3000", map[string]any{"blocks": []any{section(3000)}}, ""},
		{"section 3001", map[string]any{"blocks": []any{section(3001)}}, "invalid_blocks"},
		{"section empty", map[string]any{"blocks": []any{map[string]any{"type": "section"}}}, "invalid_blocks"},
		{"11 fields", map[string]any{"blocks": []any{map[string]any{"type": "section", "fields": repeat(map[string]any{"type": "mrkdwn", "text": "f"}, 11)}}}, "invalid_blocks"},
		{"field 2001", map[string]any{"blocks": []any{map[string]any{"type": "section", "fields": []any{map[string]any{"type": "mrkdwn", "text": strings.Repeat("f", 2001)}}}}}, "invalid_blocks"},
		{"button text 76", map[string]any{"blocks": []any{actions(map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("b", 76)}, "url": "https://x.invalid"})}}, "invalid_blocks"},
		{"button url 3001", map[string]any{"blocks": []any{actions(map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": "b"}, "url": "https://x.invalid/" + strings.Repeat("u", 2983)})}}, "invalid_blocks"},
		{"button ok", map[string]any{"blocks": []any{actions(map[string]any{"type": "button", "action_id": "a", "text": map[string]any{"type": "plain_text", "text": "b"}, "url": "https://x.invalid/"})}}, ""},
		{"duplicate block_id", map[string]any{"blocks": []any{map[string]any{"type": "divider", "block_id": "a"}, map[string]any{"type": "divider", "block_id": "a"}}}, "invalid_blocks"},
		{"blocks too long", map[string]any{"blocks": []any{section(3000), section(3000), section(3000), section(3000), section(3000)}}, "msg_blocks_too_long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.args["channel"] = DefaultChannel
			r := postJSON(t, base, "chat.postMessage", tc.args)
			if r.errCode() != tc.want {
				t.Fatalf("got %v, want %q", r.body, tc.want)
			}
			if tc.want == "invalid_blocks" {
				meta, _ := r.body["response_metadata"].(map[string]any)
				if msgs, _ := meta["messages"].([]any); len(msgs) == 0 {
					t.Errorf("invalid_blocks without response_metadata.messages: %v", r.body)
				}
			}
		})
	}
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func actions(elems ...any) map[string]any {
	return map[string]any{"type": "actions", "elements": elems}
}

func TestUpdateAndThreads(t *testing.T) {
	s, base := start(t)
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "first"}}}
	r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": "queue-alerts", "text": "first", "blocks": blocks})
	ts := r.str("ts")
	if !r.ok() || ts == "" {
		t.Fatalf("post: %v", r.body)
	}
	msg, _ := r.body["message"].(map[string]any)
	if msg["ts"] != ts || msg["text"] != "first" {
		t.Errorf("answer message %v", msg)
	}

	u := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": ts, "text": "second", "blocks": blocks})
	if !u.ok() || u.str("ts") != ts || u.str("text") != "second" {
		t.Fatalf("update: %v", u.body)
	}
	// Text without blocks removes the blocks, as Slack does.
	if u := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": ts, "text": "third"}); !u.ok() {
		t.Fatalf("update: %v", u.body)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"channel": DefaultChannel, "ts": "1.000001", "text": "x"}, "message_not_found"},
		{map[string]any{"channel": "C0NOPE", "ts": ts, "text": "x"}, "channel_not_found"},
		{map[string]any{"channel": DefaultChannel, "text": "x"}, "invalid_arguments"},
		{map[string]any{"channel": DefaultChannel, "ts": ts, "text": strings.Repeat("x", 4001)}, "msg_too_long"},
	} {
		if u := postJSON(t, base, "chat.update", tc.args); u.errCode() != tc.want {
			t.Errorf("update %v: got %v, want %q", tc.args, u.body, tc.want)
		}
	}

	// Thread replies, by JSON and by form; a reply to a reply joins the thread.
	r1 := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": "reply 1", "thread_ts": ts})
	r2 := postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {DefaultChannel}, "text": {"reply 2"}, "thread_ts": {r1.str("ts")}})
	if !r1.ok() || !r2.ok() {
		t.Fatalf("replies: %v %v", r1.body, r2.body)
	}
	if r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": "x", "thread_ts": "9.000009"}); r.errCode() != "thread_not_found" {
		t.Errorf("unknown thread: %v", r.body)
	}

	msgs := s.Messages(DefaultChannel)
	if len(msgs) != 1 {
		t.Fatalf("%d top-level messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.TS != ts || m.Text != "third" || m.Blocks != nil || m.Edits != 2 || len(m.Replies) != 2 {
		t.Fatalf("message %+v", m)
	}
	if m.Replies[0].Text != "reply 1" || m.Replies[1].Text != "reply 2" || m.Replies[1].ThreadTS != ts {
		t.Errorf("replies %+v", m.Replies)
	}

	if !s.DeleteMessage(DefaultChannel, ts) {
		t.Fatal("delete")
	}
	if u := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": ts, "text": "x"}); u.errCode() != "message_not_found" {
		t.Errorf("update of deleted: %v", u.body)
	}
}

func TestRateLimit(t *testing.T) {
	s := New()
	c := newClock()
	s.SetClock(c.Now)
	s.SetRateLimits(Rate{PerSecond: 1, Burst: 2}, Rate{PerSecond: 1, Burst: 1})
	base := s.Start(t)
	post := func(ch string) reply {
		return postJSON(t, base, "chat.postMessage", map[string]any{"channel": ch, "text": "x"})
	}
	s.AddChannel(Channel{ID: "C0OTHER", Member: true})
	for i := 0; i < 2; i++ {
		if r := post(DefaultChannel); !r.ok() {
			t.Fatalf("burst post %d: %v", i, r.body)
		}
	}
	r := post(DefaultChannel)
	if r.status != http.StatusTooManyRequests || r.errCode() != "ratelimited" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("over the limit: HTTP %d %v Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	if r := post("C0OTHER"); !r.ok() {
		t.Fatalf("limits are per channel: %v", r.body)
	}
	c.Advance(time.Second)
	if r := post(DefaultChannel); !r.ok() {
		t.Fatalf("after waiting: %v", r.body)
	}
	ts := s.Messages(DefaultChannel)[0].TS
	if u := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": ts, "text": "y"}); !u.ok() {
		t.Fatalf("update: %v", u.body)
	}
	if u := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": ts, "text": "z"}); u.status != 429 || u.errCode() != "ratelimited" {
		t.Fatalf("update over the limit: %d %v", u.status, u.body)
	}
}

func TestFaultsAndInspection(t *testing.T) {
	s, base := start(t)
	s.Faults.Add(faults.Fault{Status: 503, Body: "<html>down</html>", Path: "chat.postMessage"})
	req, _ := http.NewRequest("POST", base+"/chat.postMessage", strings.NewReader(`{"channel":"C0QUEUES","text":"x"}`))
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("fault not applied: %d", resp.StatusCode)
	}
	if r := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": "after <fault>"}); !r.ok() {
		t.Fatalf("after fault: %v", r.body)
	}

	root := strings.TrimSuffix(base, "/api")
	resp, err = http.Get(root + "/_fake/messages?channel=" + DefaultChannel)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []Message
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Text != "after <fault>" {
		t.Fatalf("view %+v", msgs)
	}
	resp2, err := http.Get(root + "/_fake/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var all map[string][]Message
	if err := json.NewDecoder(resp2.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	if len(all[DefaultChannel]) != 1 {
		t.Fatalf("all view %+v", all)
	}
}

func TestListen(t *testing.T) {
	s := New()
	base, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := postJSON(t, base, "auth.test", map[string]any{}); !r.ok() {
		t.Fatalf("auth.test: %v", r.body)
	}
}
