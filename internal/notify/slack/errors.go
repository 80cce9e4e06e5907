package slack

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/notify"
)

// blockErrors are answers that mean Slack refused the message's blocks; the
// notifier then retries the same call once with plain text only.
var blockErrors = map[string]bool{
	"invalid_blocks":        true,
	"invalid_blocks_format": true,
	"msg_too_long":          true,
	"msg_blocks_too_long":   true,
	"block_mismatch":        true,
}

// goneErrors are chat.update answers that mean the message cannot be edited
// any more; the notifier then posts a new message.
var goneErrors = map[string]bool{
	"message_not_found":   true,
	"cant_update_message": true,
	"edit_window_closed":  true,
}

// retryableErrors are ok:false answers that mean "try again later".
var retryableErrors = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"update_failed":       true,
}

// classify turns a Slack error code into a *notify.Error with a hint an
// operator can act on.
func (n *Notifier) classify(code string, a answer, status int, retryAfter time.Duration) *notify.Error {
	e := &notify.Error{Reason: code, Code: status, Retryable: retryableErrors[code] || status == 429 || status >= 500}
	if e.Retryable {
		e.RetryAfter = retryAfter
	}
	ch := n.channel
	switch code {
	case "not_in_channel":
		e.Hint = fmt.Sprintf("invite the bot to the channel (/invite @bot in %s), or add the chat:write.public scope", channelMention(ch))
	case "channel_not_found":
		e.Hint = fmt.Sprintf("channel %q does not exist or the bot cannot see it; use the channel ID (C…) and invite the bot to private channels", ch)
	case "is_archived":
		e.Hint = fmt.Sprintf("channel %s is archived; unarchive it or configure another channel", channelMention(ch))
	case "invalid_auth", "not_authed":
		e.Hint = "the bot token is missing or wrong; set the destination's token (xoxb-…) from the Slack app's OAuth page"
	case "token_revoked", "token_expired", "account_inactive":
		e.Hint = "the bot token no longer works (revoked, expired or the app was uninstalled); reinstall the Slack app and update the token"
	case "missing_scope":
		needed := a.Needed
		if needed == "" {
			needed = "chat:write"
		}
		e.Hint = fmt.Sprintf("add the %s scope to the Slack app's bot token and reinstall the app", needed)
		if a.Provided != "" {
			e.Hint += " (token has: " + a.Provided + ")"
		}
	case "no_permission", "not_allowed_token_type":
		e.Hint = "use a bot token (xoxb-…) of an app installed in this workspace"
	case "ratelimited", "rate_limited":
		e.Hint = "Slack rate limit (about 1 message per second per channel); the delivery will be retried"
		if e.RetryAfter > 0 {
			e.Hint += fmt.Sprintf(" after %s", e.RetryAfter)
		}
	case "fatal_error":
		e.Hint = "Slack failed mid-way; the retry may duplicate a message"
	case "internal_error", "service_unavailable", "request_timeout", "update_failed":
		e.Hint = "Slack is having trouble; the delivery will be retried"
	case "message_limit_exceeded":
		e.Hint = "the workspace reached its message limit (free plan); upgrade or wait"
	case "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
		"restricted_action_non_threadable_channel", "restricted_action_thread_locked", "ekm_access_denied":
		e.Hint = fmt.Sprintf("the workspace does not let the bot post in %s; ask a Slack admin", channelMention(ch))
	case "unknown_method":
		e.Hint = "check the destination URL (the Slack Web API base, e.g. https://slack.com/api)"
	default:
		if blockErrors[code] {
			e.Hint = "Slack refused the message even as plain text"
		}
	}
	if len(a.Meta.Messages) > 0 {
		detail := strings.Join(a.Meta.Messages, "; ")
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
		e.Hint = strings.TrimSpace(e.Hint + " [" + detail + "]")
	}
	return e
}

// channelMention renders a channel for hints: #name, or the ID as given.
func channelMention(ch string) string {
	if ch == "" || ch[0] == '#' || ch[0] == 'C' || ch[0] == 'G' {
		return ch
	}
	return "#" + ch
}

// slackCode returns the Slack error code of a call's error, if it was
// refused by Slack.
func slackCode(err error) string {
	var ne *notify.Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	return ""
}

// retryable reports whether err is worth retrying later.
func retryable(err error) bool {
	var ne *notify.Error
	return errors.As(err, &ne) && ne.Retryable
}
