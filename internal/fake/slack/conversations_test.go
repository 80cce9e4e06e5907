package slack

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"testing"
)

func TestConversationsInfo(t *testing.T) {
	s, base := start(t)
	const readTok = "xoxb-read"
	s.AddToken(readTok, "chat:write", "channels:read")
	s.AddChannel(Channel{ID: "C0OUTSIDE", Name: "elsewhere"})
	s.AddChannel(Channel{ID: "C0OLD", Name: "old", Member: true, Archived: true})
	info := func(tok, channel string) reply {
		return do(t, "POST", base+"/conversations.info", "Bearer "+tok, "application/x-www-form-urlencoded",
			url.Values{"channel": {channel}}.Encode())
	}
	tests := []struct {
		name, tok, channel string
		wantErr            string
		member, archived   bool
	}{
		{"member", readTok, DefaultChannel, "", true, false},
		{"not a member", readTok, "C0OUTSIDE", "", false, false},
		{"archived", readTok, "C0OLD", "", true, true},
		{"unknown", readTok, "C0NOPE", "channel_not_found", false, false},
		{"name instead of id", readTok, DefaultChannelName, "channel_not_found", false, false},
		{"no channels:read", DefaultToken, DefaultChannel, "missing_scope", false, false},
		{"bad token", "xoxb-wrong", DefaultChannel, "invalid_auth", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := info(tc.tok, tc.channel)
			if r.status != 200 || r.errCode() != tc.wantErr || r.ok() != (tc.wantErr == "") {
				t.Fatalf("got HTTP %d %v, want error %q", r.status, r.body, tc.wantErr)
			}
			if tc.wantErr == "missing_scope" && r.str("needed") == "" {
				t.Errorf("missing_scope answer lacks needed: %v", r.body)
			}
			if tc.wantErr != "" {
				return
			}
			ch, _ := r.body["channel"].(map[string]any)
			if ch["id"] != tc.channel || ch["is_member"] != tc.member || ch["is_archived"] != tc.archived {
				t.Fatalf("channel %v, want id %s member %v archived %v", ch, tc.channel, tc.member, tc.archived)
			}
		})
	}
}

// TestContractReadMethods checks the fake's auth.test and conversations.info
// answers against the schemas in Slack's spec.
func TestContractReadMethods(t *testing.T) {
	raw, err := os.ReadFile(specPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("Slack spec not found at %s; contract not checked", specPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Schema schema `json:"schema"`
			} `json:"responses"`
		} `json:"paths"`
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	s, base := start(t)
	s.AddToken("xoxb-read", "chat:write", "channels:read")
	form := func(method, tok string, v url.Values) reply {
		return do(t, "POST", base+"/"+method, "Bearer "+tok, "application/x-www-form-urlencoded", v.Encode())
	}
	okInfo := form("conversations.info", "xoxb-read", url.Values{"channel": {DefaultChannel}})
	tests := []struct {
		path, code string
		answer     reply
	}{
		{"/auth.test", "200", form("auth.test", DefaultToken, nil)},
		{"/auth.test", "default", form("auth.test", "xoxb-wrong", nil)},
		{"/conversations.info", "200", okInfo},
		{"/conversations.info", "default", form("conversations.info", "xoxb-read", url.Values{"channel": {"C0NOPE"}})},
		{"/conversations.info", "default", form("conversations.info", DefaultToken, url.Values{"channel": {DefaultChannel}})},
	}
	check := func(what string, s schema, body map[string]any) {
		for _, k := range s.Required {
			if _, ok := body[k]; !ok {
				t.Errorf("%s: answer lacks required %q: %v", what, k, body)
			}
		}
		if string(s.AdditionalProperties) == "false" {
			for k := range body {
				if _, ok := s.Properties[k]; !ok {
					t.Errorf("%s: answer has %q, which the schema does not allow", what, k)
				}
			}
		}
	}
	for _, tc := range tests {
		s := spec.Paths[tc.path]["get"].Responses[tc.code].Schema
		if len(s.Required) == 0 {
			t.Fatalf("%s %s: no schema in the spec", tc.path, tc.code)
		}
		check(tc.path+" "+tc.code, s, tc.answer.body)
		if enum := s.enum("error"); tc.code == "default" && !slices.Contains(enum, tc.answer.errCode()) {
			t.Errorf("%s: error %q is not in the spec's list %v", tc.path, tc.answer.errCode(), enum)
		}
	}
	var conversation struct {
		Items []schema `json:"items"`
	}
	_ = json.Unmarshal(spec.Definitions["objs_conversation"], &conversation)
	conv := conversation.Items
	if len(conv) == 0 {
		t.Fatal("objs_conversation not in the spec")
	}
	ch, _ := okInfo.body["channel"].(map[string]any)
	check("conversations.info channel", conv[0], ch)
}
