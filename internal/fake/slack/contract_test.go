package slack

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"testing"
)

// specPath is Slack's published Web API spec, from this package's directory.
const specPath = "../../../../shared/specs/slack-web-openapi-v2.json"

// schema is the part of a response schema the test reads.
type schema struct {
	Required             []string                   `json:"required"`
	Properties           map[string]json.RawMessage `json:"properties"`
	AdditionalProperties json.RawMessage            `json:"additionalProperties"`
}

// enum returns the enum of property k, if it has one.
func (s schema) enum(k string) []string {
	var p struct {
		Enum []string `json:"enum"`
	}
	_ = json.Unmarshal(s.Properties[k], &p)
	return p.Enum
}

// TestContractAnswers checks the fake's answers to chat.postMessage and
// chat.update against the success and error schemas in Slack's spec.
func TestContractAnswers(t *testing.T) {
	raw, err := os.ReadFile(specPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("Slack spec not found at %s (it lives in the shared folder next to the repository); contract not checked", specPath)
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
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	_, base := start(t)
	post := postJSON(t, base, "chat.postMessage", map[string]any{"channel": DefaultChannel, "text": "hi"})
	update := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": post.str("ts"), "text": "edited"})
	failed := postJSON(t, base, "chat.update", map[string]any{"channel": DefaultChannel, "ts": "1.000001", "text": "x"})
	tests := []struct {
		path, code string
		answer     reply
	}{
		{"/chat.postMessage", "200", post},
		{"/chat.update", "200", update},
		{"/chat.update", "default", failed},
	}
	for _, tc := range tests {
		s := spec.Paths[tc.path]["post"].Responses[tc.code].Schema
		if len(s.Required) == 0 {
			t.Fatalf("%s %s: no schema in the spec", tc.path, tc.code)
		}
		for _, k := range s.Required {
			if _, ok := tc.answer.body[k]; !ok {
				t.Errorf("%s %s: answer lacks required %q: %v", tc.path, tc.code, k, tc.answer.body)
			}
		}
		if string(s.AdditionalProperties) == "false" {
			for k := range tc.answer.body {
				if _, ok := s.Properties[k]; !ok {
					t.Errorf("%s %s: answer has %q, which the schema does not allow", tc.path, tc.code, k)
				}
			}
		}
		if enum := s.enum("error"); len(enum) > 0 && !slices.Contains(enum, tc.answer.errCode()) {
			t.Errorf("%s %s: error %q is not in the spec's list", tc.path, tc.code, tc.answer.errCode())
		}
	}
}
