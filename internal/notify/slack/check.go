package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// AuthInfo is what Slack's auth.test says about the bot token.
type AuthInfo struct {
	URL    string // the workspace URL
	Team   string
	TeamID string
	User   string // the bot user's name
	UserID string
	BotID  string
	// Scopes are the token's scopes, from the X-OAuth-Scopes answer
	// header; nil when Slack did not send it.
	Scopes []string
}

// HasScope reports whether the token is known to have scope. It reports
// false when the scopes are unknown (Scopes is nil).
func (a AuthInfo) HasScope(scope string) bool {
	for _, s := range a.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// AuthTest checks the bot token with auth.test, which needs no scope: it
// sends nothing to any channel. A refused token comes back as a
// *notify.Error whose Reason is Slack's error code (invalid_auth,
// token_revoked, …) and whose Hint says what to do.
func (n *Notifier) AuthTest(ctx context.Context) (AuthInfo, error) {
	var a struct {
		URL    string `json:"url"`
		Team   string `json:"team"`
		TeamID string `json:"team_id"`
		User   string `json:"user"`
		UserID string `json:"user_id"`
		BotID  string `json:"bot_id"`
	}
	h, err := n.callForm(ctx, "auth.test", nil, &a)
	if err != nil {
		return AuthInfo{}, fmt.Errorf("slack: auth.test: %w", err)
	}
	info := AuthInfo{URL: a.URL, Team: a.Team, TeamID: a.TeamID, User: a.User, UserID: a.UserID, BotID: a.BotID}
	if v := h.Values("X-OAuth-Scopes"); len(v) > 0 {
		info.Scopes = []string{}
		for _, s := range strings.Split(strings.Join(v, ","), ",") {
			if s = strings.TrimSpace(s); s != "" {
				info.Scopes = append(info.Scopes, s)
			}
		}
	}
	return info, nil
}

// ChannelInfo describes the configured channel, from conversations.info.
type ChannelInfo struct {
	ID         string
	Name       string
	IsMember   bool // the bot is in the channel
	IsArchived bool
	IsPrivate  bool
}

// ChannelInfo looks up the configured channel with conversations.info, to
// tell whether the bot is a member (posting to a channel it is not in
// answers not_in_channel). The call needs the channels:read scope
// (groups:read for private channels); without it the error's Reason is
// missing_scope. Slack looks channels up by ID only: a channel configured
// by name answers channel_not_found.
func (n *Notifier) ChannelInfo(ctx context.Context) (ChannelInfo, error) {
	var a struct {
		Channel struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			IsMember   bool   `json:"is_member"`
			IsArchived bool   `json:"is_archived"`
			IsPrivate  bool   `json:"is_private"`
		} `json:"channel"`
	}
	ch := strings.TrimPrefix(n.channel, "#")
	if _, err := n.callForm(ctx, "conversations.info", url.Values{"channel": {ch}}, &a); err != nil {
		return ChannelInfo{}, fmt.Errorf("slack: conversations.info: %w", err)
	}
	c := a.Channel
	return ChannelInfo{ID: c.ID, Name: c.Name, IsMember: c.IsMember, IsArchived: c.IsArchived, IsPrivate: c.IsPrivate}, nil
}

// callForm POSTs args form-encoded (which every Web API method accepts,
// unlike JSON) with the token in the Authorization header, decodes a
// successful answer into out and returns the answer's headers. Failures are
// *notify.Error values, classified like those of chat calls.
func (n *Notifier) callForm(ctx context.Context, method string, args url.Values, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.base+"/"+method, strings.NewReader(args.Encode()))
	if err != nil {
		return nil, &notify.Error{Reason: "build " + method + " request", Err: n.scrub(err)}
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		err = n.scrub(err)
		return nil, &notify.Error{Reason: method + ": " + err.Error(), Retryable: true, Err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
	}()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		err = n.scrub(err)
		return resp.Header, &notify.Error{Reason: method + ": read answer: " + err.Error(), Code: resp.StatusCode, Retryable: true, Err: err}
	}
	// The answer's own fields: "channel" is an object here, not the
	// channel ID of chat answers, so it is kept raw.
	var got struct {
		answer
		Channel json.RawMessage `json:"channel"`
	}
	parsed := isJSON(resp.Header.Get("Content-Type"), raw) && json.Unmarshal(raw, &got) == nil
	a := got.answer
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), n.now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		code := "ratelimited"
		if parsed && a.Error != "" {
			code = a.Error
		}
		return resp.Header, n.classify(code, a, resp.StatusCode, retryAfter)
	case resp.StatusCode >= 500:
		return resp.Header, &notify.Error{
			Reason: fmt.Sprintf("%s: server error %s", method, http.StatusText(resp.StatusCode)),
			Hint:   "Slack is having trouble; try again later",
			Code:   resp.StatusCode, Retryable: true, RetryAfter: retryAfter,
		}
	case !parsed:
		return resp.Header, &notify.Error{
			Reason: fmt.Sprintf("%s: unexpected answer (HTTP %d, not JSON)", method, resp.StatusCode),
			Hint:   "check the destination URL (the Slack Web API base, e.g. https://slack.com/api)",
			Code:   resp.StatusCode,
		}
	case !a.OK:
		code := a.Error
		if code == "" {
			code = "unknown_error"
		}
		return resp.Header, n.classify(code, a, resp.StatusCode, retryAfter)
	case resp.StatusCode != http.StatusOK:
		return resp.Header, &notify.Error{Reason: fmt.Sprintf("%s: unexpected HTTP %d", method, resp.StatusCode), Code: resp.StatusCode}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.Header, &notify.Error{Reason: method + ": decoding the answer: " + err.Error(), Code: resp.StatusCode}
		}
	}
	return resp.Header, nil
}

// CheckHistory reads one message of the configured channel with
// conversations.history, which the notifier needs after a crash to find a
// message it had posted (see EventType). Without the channels:history
// scope (groups:history for a private channel) the error's Reason is
// missing_scope.
func (n *Notifier) CheckHistory(ctx context.Context) error {
	ch := strings.TrimPrefix(n.channel, "#")
	if _, err := n.callForm(ctx, "conversations.history", url.Values{"channel": {ch}, "limit": {"1"}}, nil); err != nil {
		return fmt.Errorf("slack: conversations.history: %w", err)
	}
	return nil
}
