package slack_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/config"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
)

func TestAuthTest(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		prepare  func(f *fakeslack.Server)
		wantCode string
	}{
		{"valid token", fakeslack.DefaultToken, nil, ""},
		{"unknown token", "xoxb-wrong-token", nil, "invalid_auth"},
		{"revoked token", fakeslack.DefaultToken, func(f *fakeslack.Server) { f.RevokeToken(fakeslack.DefaultToken) }, "token_revoked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *slack.Config) { c.Token = config.Secret(tc.token) })
			n := e.n
			if tc.prepare != nil {
				tc.prepare(e.fake)
			}
			info, err := n.AuthTest(context.Background())
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if info.User == "" || info.TeamID == "" || info.UserID == "" {
					t.Fatalf("auth.test info incomplete: %+v", info)
				}
				return
			}
			var ne *notify.Error
			if !errors.As(err, &ne) || ne.Reason != tc.wantCode || ne.Hint == "" {
				t.Fatalf("err = %v, want %s with a hint", err, tc.wantCode)
			}
			if strings.Contains(err.Error(), string(e.cfg.Token)) {
				t.Fatalf("error shows the token: %v", err)
			}
			calls := e.fake.Calls()
			if last := calls[len(calls)-1]; last.Method != "auth.test" || last.TokenIn != "header" {
				t.Fatalf("call %+v, want auth.test with the token in the header", last)
			}
		})
	}
}

func TestChannelInfo(t *testing.T) {
	const readTok = "xoxb-read-token"
	tests := []struct {
		name     string
		token    string
		channel  string
		member   bool
		archived bool
		wantCode string
	}{
		{"member", readTok, fakeslack.DefaultChannel, true, false, ""},
		{"not a member", readTok, "C0OUTSIDE", false, false, ""},
		{"archived", readTok, "C0OLD", true, true, ""},
		{"unknown channel", readTok, "C0NOPE", false, false, "channel_not_found"},
		{"no channels:read", fakeslack.DefaultToken, fakeslack.DefaultChannel, false, false, "missing_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *slack.Config) { c.Token = config.Secret(tc.token); c.Channel = tc.channel })
			e.fake.AddToken(readTok, "chat:write", "channels:read")
			e.fake.AddChannel(fakeslack.Channel{ID: "C0OUTSIDE", Name: "elsewhere"})
			e.fake.AddChannel(fakeslack.Channel{ID: "C0OLD", Name: "old", Member: true, Archived: true})
			info, err := e.n.ChannelInfo(context.Background())
			if tc.wantCode != "" {
				var ne *notify.Error
				if !errors.As(err, &ne) || ne.Reason != tc.wantCode || ne.Hint == "" {
					t.Fatalf("err = %v, want %s with a hint", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.ID != tc.channel || info.IsMember != tc.member || info.IsArchived != tc.archived || info.Name == "" {
				t.Fatalf("info %+v, want %s member %v archived %v", info, tc.channel, tc.member, tc.archived)
			}
		})
	}
}

// TestAuthTestScopes reads the token's scopes from the X-OAuth-Scopes
// header Slack sends with Web API answers.
func TestAuthTestScopes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/auth.test" || r.Header.Get("Authorization") != "Bearer xoxb-1" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-OAuth-Scopes", "chat:write, channels:read,chat:write.public")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"ok":true,"url":"https://x.slack.com/","team":"X","user":"bot","team_id":"T1","user_id":"U1","bot_id":"B1"}`))
	}))
	defer srv.Close()
	n, err := slack.New(slack.Config{Name: "s", BaseURL: srv.URL + "/api", Token: "xoxb-1", Channel: "C1"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	info, err := n.AuthTest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Scopes) != 3 || !info.HasScope("chat:write.public") || !info.HasScope("channels:read") || info.HasScope("groups:read") {
		t.Fatalf("scopes %q", info.Scopes)
	}
	if info.User != "bot" || info.BotID != "B1" {
		t.Fatalf("info %+v", info)
	}
}
