package slack

import (
	"encoding/json"
	"strings"

	"github.com/queuewatch/queuewatch/internal/store"
)

// msgRef is this destination's handle on an episode: the channel and ts of
// its message. Storm marks a storm summary shared by many episodes.
//
// A single message is stored as "C0123/1700000000.000100"; a storm summary
// as a small JSON object {"channel":…,"ts":…,"storm":true}.
type msgRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Storm   bool   `json:"storm,omitempty"`
}

// String encodes the handle for store.Ref.Value.
func (r msgRef) String() string {
	if !r.Storm {
		return r.Channel + "/" + r.TS
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// key identifies the message, storm or not.
func (r msgRef) key() string { return r.Channel + "/" + r.TS }

// parseRef decodes a stored handle; ok is false for nil or unreadable ones.
func parseRef(prev *store.Ref) (r msgRef, ok bool) {
	if prev == nil {
		return msgRef{}, false
	}
	v := strings.TrimSpace(prev.Value)
	if strings.HasPrefix(v, "{") {
		if json.Unmarshal([]byte(v), &r) != nil {
			return msgRef{}, false
		}
	} else {
		i := strings.LastIndexByte(v, '/')
		if i < 0 {
			return msgRef{}, false
		}
		r = msgRef{Channel: v[:i], TS: v[i+1:]}
	}
	return r, r.Channel != "" && r.TS != ""
}
