package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Block Kit limits (notify-apis.md §3.4).
const (
	maxBlocks         = 50
	maxBlockID        = 255
	maxHeaderText     = 150
	maxSectionText    = 3000
	maxFields         = 10
	maxFieldText      = 2000
	maxContextElems   = 10
	maxActionElems    = 25
	maxButtonText     = 75
	maxActionID       = 255
	maxButtonURL      = 3000
	maxButtonValue    = 2000
	maxMarkdownBlock  = 12000
	maxImageAltText   = 2000
	maxPostTextLength = 40000
	maxUpdateText     = 4000
)

// blockCheck validates one message's blocks and counts their text.
type blockCheck struct {
	msgs  []string
	chars int
}

func (c *blockCheck) fail(ptr, format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf("[ERROR] %s [json-pointer:%s]", fmt.Sprintf(format, args...), ptr))
}

// checkBlocks parses and validates the blocks argument, a JSON array (or a
// string holding one, as in form bodies). It returns the blocks as compact
// JSON, or the error Slack would answer.
func checkBlocks(v any, maxChars int) (json.RawMessage, *apiError) {
	if s, ok := v.(string); ok {
		var parsed any
		if err := json.Unmarshal([]byte(s), &parsed); err != nil {
			return nil, refuse("invalid_blocks_format")
		}
		v = parsed
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, refuse("invalid_blocks_format")
	}
	c := &blockCheck{}
	if len(arr) > maxBlocks {
		c.fail("/blocks", "no more than %d items allowed", maxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range arr {
		c.block(fmt.Sprintf("/blocks/%d", i), b, ids)
	}
	if len(c.msgs) > 0 {
		e := refuse("invalid_blocks")
		e.messages = c.msgs
		return nil, e
	}
	if maxChars > 0 && c.chars > maxChars {
		return nil, refuse("msg_blocks_too_long")
	}
	raw, err := json.Marshal(arr)
	if err != nil {
		return nil, refuse("invalid_blocks_format")
	}
	return raw, nil
}

func (c *blockCheck) block(p string, v any, ids map[string]bool) {
	b, ok := v.(map[string]any)
	if !ok {
		c.fail(p, "must be an object")
		return
	}
	if id, ok := b["block_id"]; ok {
		s, _ := id.(string)
		switch {
		case s == "" || utf8.RuneCountInString(s) > maxBlockID:
			c.fail(p+"/block_id", "must be a string of 1 to %d characters", maxBlockID)
		case ids[s]:
			c.fail(p+"/block_id", "duplicate block_id %q", s)
		}
		ids[s] = true
	}
	typ, _ := b["type"].(string)
	switch typ {
	case "header":
		c.text(p+"/text", b["text"], true, true, maxHeaderText)
	case "section":
		_, hasText := b["text"]
		fields, hasFields := b["fields"]
		if !hasText && !hasFields {
			c.fail(p, "must provide either text or fields")
		}
		if hasText {
			c.text(p+"/text", b["text"], false, true, maxSectionText)
		}
		if hasFields {
			arr, ok := fields.([]any)
			if !ok || len(arr) == 0 || len(arr) > maxFields {
				c.fail(p+"/fields", "must be an array of 1 to %d text objects", maxFields)
			}
			for i, f := range arr {
				c.text(fmt.Sprintf("%s/fields/%d", p, i), f, false, true, maxFieldText)
			}
		}
		if acc, ok := b["accessory"]; ok {
			c.element(p+"/accessory", acc, map[string]bool{})
		}
	case "context":
		arr, ok := b["elements"].([]any)
		if !ok || len(arr) == 0 || len(arr) > maxContextElems {
			c.fail(p+"/elements", "must be an array of 1 to %d elements", maxContextElems)
		}
		for i, e := range arr {
			ep := fmt.Sprintf("%s/elements/%d", p, i)
			if m, ok := e.(map[string]any); ok && m["type"] == "image" {
				c.image(ep, m)
				continue
			}
			c.text(ep, e, false, true, maxSectionText)
		}
	case "actions":
		arr, ok := b["elements"].([]any)
		if !ok || len(arr) == 0 || len(arr) > maxActionElems {
			c.fail(p+"/elements", "must be an array of 1 to %d elements", maxActionElems)
		}
		actionIDs := map[string]bool{}
		for i, e := range arr {
			c.element(fmt.Sprintf("%s/elements/%d", p, i), e, actionIDs)
		}
	case "divider":
	case "image":
		c.image(p, b)
	case "markdown":
		s, ok := b["text"].(string)
		if !ok || s == "" || utf8.RuneCountInString(s) > maxMarkdownBlock {
			c.fail(p+"/text", "must be a string of 1 to %d characters", maxMarkdownBlock)
		}
		c.chars += utf8.RuneCountInString(s)
	case "rich_text":
		if _, ok := b["elements"].([]any); !ok {
			c.fail(p+"/elements", "must be an array")
		}
	case "":
		c.fail(p+"/type", "missing required field: type")
	default:
		c.fail(p+"/type", "unsupported type: %s", typ)
	}
}

// text validates a text object.
func (c *blockCheck) text(p string, v any, plainOnly, required bool, limit int) {
	if v == nil {
		if required {
			c.fail(p, "missing required field: text")
		}
		return
	}
	t, ok := v.(map[string]any)
	if !ok {
		c.fail(p, "must be a text object")
		return
	}
	typ, _ := t["type"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		c.fail(p+"/type", "must be plain_text or mrkdwn")
	case plainOnly && typ != "plain_text":
		c.fail(p+"/type", "must be plain_text")
	}
	s, ok := t["text"].(string)
	n := utf8.RuneCountInString(s)
	switch {
	case !ok || strings.TrimSpace(s) == "":
		c.fail(p+"/text", "must be more than 0 characters")
	case n > limit:
		c.fail(p+"/text", "must be less than %d characters", limit+1)
	}
	c.chars += n
}

// element validates an interactive element (buttons in detail).
func (c *blockCheck) element(p string, v any, actionIDs map[string]bool) {
	e, ok := v.(map[string]any)
	if !ok {
		c.fail(p, "must be an object")
		return
	}
	if id, ok := e["action_id"]; ok {
		s, _ := id.(string)
		switch {
		case s == "" || utf8.RuneCountInString(s) > maxActionID:
			c.fail(p+"/action_id", "must be a string of 1 to %d characters", maxActionID)
		case actionIDs[s]:
			c.fail(p+"/action_id", "duplicate action_id %q", s)
		}
		actionIDs[s] = true
	}
	switch e["type"] {
	case "button":
		c.text(p+"/text", e["text"], true, true, maxButtonText)
		c.optString(p+"/url", e["url"], maxButtonURL)
		c.optString(p+"/value", e["value"], maxButtonValue)
		if st, ok := e["style"]; ok && st != "primary" && st != "danger" {
			c.fail(p+"/style", "must be primary or danger")
		}
		if u, ok := e["url"].(string); ok && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			c.fail(p+"/url", "must be a valid URL")
		}
	case "image":
		c.image(p, e)
	case nil, "":
		c.fail(p+"/type", "missing required field: type")
	}
}

func (c *blockCheck) image(p string, m map[string]any) {
	if _, ok := m["image_url"].(string); !ok {
		if _, ok := m["slack_file"]; !ok {
			c.fail(p+"/image_url", "missing required field: image_url")
		}
	}
	alt, ok := m["alt_text"].(string)
	if !ok || alt == "" || utf8.RuneCountInString(alt) > maxImageAltText {
		c.fail(p+"/alt_text", "must be a string of 1 to %d characters", maxImageAltText)
	}
}

func (c *blockCheck) optString(p string, v any, limit int) {
	if v == nil {
		return
	}
	s, ok := v.(string)
	if !ok || s == "" || utf8.RuneCountInString(s) > limit {
		c.fail(p, "must be a string of 1 to %d characters", limit)
	}
}
