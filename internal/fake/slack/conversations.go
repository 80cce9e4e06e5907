package slack

import "strings"

// conversationsReadScopes are the scopes of which conversations.info needs
// one (channels:read for public channels, groups:read for private ones,
// im:read and mpim:read for direct messages); Slack names them all in
// "needed" when the token has none.
var conversationsReadScopes = []string{"channels:read", "groups:read", "im:read", "mpim:read"}

func init() {
	methods["conversations.info"] = method{"", (*Server).conversationsInfo}
}

// conversationsInfo serves conversations.info: the channel named by its ID
// (names are not accepted, as on Slack) with is_member telling whether the
// bot is in it. The fake's channels are public, so the token needs
// channels:read.
func (s *Server) conversationsInfo(req *request) (map[string]any, *apiError) {
	if !s.hasScope(req.token, "channels:read") {
		e := refuse("missing_scope")
		e.extra = map[string]any{"needed": strings.Join(conversationsReadScopes, ","), "provided": strings.Join(s.tokens[req.token].scopes, ",")}
		return nil, e
	}
	id, _ := req.str("channel")
	c, ok := s.channels[id]
	if !ok {
		return nil, refuse("channel_not_found")
	}
	return map[string]any{"ok": true, "channel": wireChannel(c.Channel)}, nil
}

// hasScope reports whether a known token has scope; s.mu must be held.
func (s *Server) hasScope(tok, scope string) bool {
	t, ok := s.tokens[tok]
	if !ok {
		return false
	}
	for _, have := range t.scopes {
		if have == scope {
			return true
		}
	}
	return false
}

// wireChannel renders a channel as conversations.info does (objs_conversation
// in Slack's spec, with every field the spec requires).
func wireChannel(c Channel) map[string]any {
	empty := map[string]any{"value": "", "creator": "", "last_set": 0}
	return map[string]any{
		"id": c.ID, "name": c.Name, "name_normalized": strings.ToLower(c.Name),
		"created": 1700000000, "creator": "U0CREATOR",
		"is_channel": true, "is_group": false, "is_im": false, "is_mpim": false, "is_private": false,
		"is_general": false, "is_shared": false, "is_org_shared": false, "is_ext_shared": false,
		"is_archived": c.Archived, "is_member": c.Member,
		"topic": empty, "purpose": empty,
	}
}
