package slack_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// specPath is Slack's published Web API spec, from this package's directory.
const specPath = "../../../../shared/specs/slack-web-openapi-v2.json"

// specParam is one parameter of an operation in the spec.
type specParam struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// loadSpecParams returns the parameters of each POST operation in Slack's
// spec by path, or skips the test when the spec is not there.
func loadSpecParams(t *testing.T) map[string]map[string]specParam {
	t.Helper()
	raw, err := os.ReadFile(specPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("Slack spec not found at %s (it lives in the shared folder next to the repository); contract not checked", specPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			Parameters []specParam `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("spec: %v", err)
	}
	out := map[string]map[string]specParam{}
	for path, ops := range spec.Paths {
		if op, ok := ops["post"]; ok {
			out[path] = map[string]specParam{}
			for _, p := range op.Parameters {
				out[path][p.Name] = p
			}
		}
	}
	return out
}

// TestContractRequestFields checks that every field the notifier sends to
// chat.postMessage and chat.update is a parameter of that method in Slack's
// spec, with the spec's type, and that required ones are present. The spec
// models form fields; in JSON bodies Slack takes blocks as an array, and the
// token goes in the Authorization header, never in the body.
func TestContractRequestFields(t *testing.T) {
	spec := loadSpecParams(t)
	e := newEnv(t, nil)
	// Exercise every kind of call: post, update, resolve with a thread
	// reply, plain-text fallback, and a storm summary post and update.
	ep := newEpisode(1)
	r := send(t, e.n, ep.delivery(alert.ActionCreate, 70, alert.P2, t0), nil)
	r = send(t, e.n, ep.delivery(alert.ActionUpdate, 60, alert.P1, t0.Add(time.Minute)), ref(r))
	send(t, e.n, ep.delivery(alert.ActionResolve, 90, alert.P1, t0.Add(2*time.Minute)), ref(r))
	f := newFleet(6)
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionCreate, t0))
	mustOK(t, f.batch(t, e.n, f.eps, alert.ActionResolve, t0.Add(time.Minute)))

	seen := map[string]map[string]bool{}
	for _, c := range e.fake.Calls() {
		params, ok := spec["/"+c.Method]
		if !ok {
			t.Fatalf("spec has no POST /%s", c.Method)
		}
		if seen[c.Method] == nil {
			seen[c.Method] = map[string]bool{}
		}
		for name, v := range c.Args {
			seen[c.Method][name] = true
			if c.Method == "chat.postMessage" && name == "metadata" {
				// Newer than the frozen spec; documented as an object
				// {event_type, event_payload} (notify-apis.md §Slack).
				m, ok := v.(map[string]any)
				if _, isStr := m["event_type"].(string); !ok || !isStr {
					t.Errorf("%s: metadata is %v, want an object with event_type", c.Method, v)
				}
				continue
			}
			p, ok := params[name]
			if !ok || p.In != "formData" {
				t.Errorf("%s: field %q is not a form parameter in the spec", c.Method, name)
				continue
			}
			switch {
			case name == "blocks" || name == "attachments":
				if _, ok := v.([]any); !ok {
					t.Errorf("%s: %s is %T, want a JSON array", c.Method, name, v)
				}
			case p.Type == "boolean":
				if _, ok := v.(bool); !ok {
					t.Errorf("%s: %s is %T, want boolean", c.Method, name, v)
				}
			case p.Type == "string":
				if _, ok := v.(string); !ok {
					t.Errorf("%s: %s is %T, want string", c.Method, name, v)
				}
			}
		}
		for name, p := range params {
			if p.Required && p.In == "formData" {
				if _, ok := c.Args[name]; !ok {
					t.Errorf("%s: required field %q missing", c.Method, name)
				}
			}
		}
		if c.TokenIn != "header" {
			t.Errorf("%s: token sent in %q; the spec's token is a header", c.Method, c.TokenIn)
		}
	}
	for _, m := range []string{"chat.postMessage", "chat.update"} {
		names := make([]string, 0, len(seen[m]))
		for n := range seen[m] {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			t.Errorf("no %s call was checked", m)
		}
		t.Logf("%s fields checked: %v", m, names)
	}
}
