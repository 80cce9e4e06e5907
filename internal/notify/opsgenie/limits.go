package opsgenie

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Field limits of the Alert API in characters (notify-apis.md §1.2, §1.4).
const (
	maxMessage     = 130
	maxAlias       = 512
	maxDescription = 15000
	maxResponders  = 50
	maxTags        = 20
	maxTagLen      = 50
	maxDetails     = 8000
	maxEntity      = 512
	maxSource      = 100
	maxUser        = 100
	maxNote        = 25000
	// Heartbeat limits (definitions CreateHeartbeatPayload).
	maxHeartbeatName    = 200
	maxHeartbeatMessage = 130
)

const ellipsis = "…"

// truncate cuts s to at most n characters, ending it with an ellipsis when
// something was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + ellipsis
}

// alias returns the OpsGenie alias of an alert key. Keys longer than the
// alias limit are shortened with a hash of the whole key, so that the
// shortened alias stays unique and the same for create and close.
func alias(key string) string {
	if utf8.RuneCountInString(key) <= maxAlias {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	h := "~" + hex.EncodeToString(sum[:8])
	return string([]rune(key)[:maxAlias-len(h)]) + h
}

// tags merges tag lists in order of importance, dropping empty and repeated
// tags, shortening long ones and keeping at most maxTags.
func tags(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, t := range l {
			t = truncate(strings.TrimSpace(t), maxTagLen)
			if t == "" || seen[t] {
				continue
			}
			if len(out) == maxTags {
				return out
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// entry is one custom property of an alert. A whole entry, such as a link,
// is dropped rather than shortened when it does not fit.
type entry struct {
	key, value string
	whole      bool
}

// details builds the alert's custom properties from entries in order of
// importance. It keeps the JSON encoding of the map within maxDetails
// characters, a stricter measure than the API's sum of keys and values:
// entries that no longer fit are shortened, or dropped when even a short
// value would not fit, so the least important give way first.
func details(entries []entry) map[string]string {
	out := map[string]string{}
	used := 2 // {}
	for _, e := range entries {
		if e.value == "" {
			continue
		}
		k := jsonLen(e.key)
		cost := k + 1 + jsonLen(e.value) // "k":"v"
		if len(out) > 0 {
			cost++ // comma
		}
		if used+cost <= maxDetails {
			out[e.key] = e.value
			used += cost
			continue
		}
		room := maxDetails - used - (cost - jsonLen(e.value)) - 2 // quotes of the value
		if e.whole || room < 16 {
			continue
		}
		v := fitJSON(e.value, room)
		out[e.key] = v
		used += cost - jsonLen(e.value) + jsonLen(v)
	}
	return out
}

// jsonLen is the number of characters s takes as a JSON string, quotes
// included.
func jsonLen(s string) int {
	b, _ := json.Marshal(s)
	return utf8.RuneCount(b)
}

// fitJSON shortens s to the longest prefix (with an ellipsis) whose JSON
// encoding without quotes takes at most room characters.
func fitJSON(s string, room int) string {
	lo, hi := 0, min(utf8.RuneCountInString(s), room) // fits(lo) holds
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if jsonLen(truncate(s, mid))-2 <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return truncate(s, lo)
}
