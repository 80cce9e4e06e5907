package opsgenie

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
)

// specPath is the official OpsGenie OpenAPI 2.0 document (opsgenie/opsgenie-oas).
const specPath = "../../../../shared/specs/opsgenie-swagger.json"

// swagger is the part of an OpenAPI 2.0 document the contract test reads.
type swagger struct {
	Paths       map[string]map[string]any `json:"paths"`
	Definitions map[string]map[string]any `json:"definitions"`
	Parameters  map[string]map[string]any `json:"parameters"`
}

func loadSpec(t *testing.T) *swagger {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if os.IsNotExist(err) {
		t.Skipf("contract test skipped: %s not found (it lives in the shared workspace next to the repository)", specPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var s swagger
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("parsing %s: %v", specPath, err)
	}
	return &s
}

// TestContract sends every kind of request through the fake and checks each
// against the spec: the path and method exist, query parameters are defined
// (with allowed values) and the body uses only defined fields of the right
// types, with the required ones present.
func TestContract(t *testing.T) {
	spec := loadSpec(t)
	for _, jsm := range []bool{false, true} {
		t.Run(fmt.Sprintf("jsm=%v", jsm), func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if jsm {
					c.Type, c.BaseURL = "jsm", c.BaseURL+fake.JSMPrefix
				}
			})
			tr := transition(alert.ActionCreate)
			tr.MediaType, tr.Note = "voice", "opened after 1m"
			f.mustSend(t, tr)
			up := transition(alert.ActionUpdate)
			up.PrevPriority, up.Priority = alert.P2, alert.P1
			f.mustSend(t, up)
			up = transition(alert.ActionUpdate)
			up.Note = "Samples are arriving again."
			f.mustSend(t, up)
			f.mustSend(t, resolved())
			if err := f.n.EnsureHeartbeat(t.Context(), "qw", 5*time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := f.n.Ping(t.Context(), "qw"); err != nil {
				t.Fatal(err)
			}
			ops := map[string]bool{}
			for _, rq := range f.fake.Requests() {
				op, errs := spec.check(rq)
				ops[op] = true
				for _, e := range errs {
					t.Errorf("%s %s: %s", rq.Method, rq.Path, e)
				}
			}
			for _, want := range []string{"createAlert", "getRequestStatus", "updateAlertPriority", "addNote", "closeAlert", "getHeartbeat", "createHeartbeat", "ping"} {
				if !ops[want] {
					t.Errorf("scenario never used %s (used %v)", want, ops)
				}
			}
		})
	}
}

// TestContractCatchesMistakes keeps the checker honest: the tutorial's
// mistakes must be reported.
func TestContractCatchesMistakes(t *testing.T) {
	spec := loadSpec(t)
	tests := []struct {
		name string
		rq   fake.RecordedRequest
		want string
	}{
		{"entity object", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts", Body: `{"message":"m","entity":{"id":"q","name":"n","type":"Queue"}}`}, "entity: want string"},
		{"unknown field", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts", Body: `{"message":"m","identifierType":"id"}`}, "unknown field identifierType"},
		{"missing message", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts", Body: `{"alias":"a"}`}, "required field message"},
		{"details not strings", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts", Body: `{"message":"m","details":{"n":1}}`}, "details.n: want string"},
		{"bad priority", fake.RecordedRequest{Method: "PUT", Path: "/v2/alerts/a/priority", Query: "identifierType=alias", Body: `{"priority":"high"}`}, "not one of"},
		{"bad identifierType", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts/a/close", Query: "identifierType=name", Body: `{}`}, "identifierType"},
		{"unknown responder field", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts", Body: `{"message":"m","responders":[{"type":"team","username":"x"}]}`}, "unknown field username"},
		{"v1-style close", fake.RecordedRequest{Method: "POST", Path: "/v2/alerts/close", Body: `{"identifier":"a"}`}, "no operation"},
		{"no such path", fake.RecordedRequest{Method: "POST", Path: "/v2/incidents/create"}, "no operation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := spec.check(tc.rq)
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Fatalf("errors %q, want one containing %q", errs, tc.want)
			}
		})
	}
}

// check validates one recorded request and returns its operation id.
func (s *swagger) check(rq fake.RecordedRequest) (string, []string) {
	path := strings.TrimPrefix(rq.Path, fake.JSMPrefix)
	tmpl := s.match(path)
	op, _ := s.Paths[tmpl][strings.ToLower(rq.Method)].(map[string]any)
	if op == nil {
		return "", []string{"no operation in the spec for " + rq.Method + " " + path}
	}
	id, _ := op["operationId"].(string)
	var errs []string
	params := map[string]map[string]any{}
	var body map[string]any
	pl, _ := op["parameters"].([]any)
	for _, p := range pl {
		pm := s.param(p)
		switch pm["in"] {
		case "query":
			params[pm["name"].(string)] = pm
		case "body":
			body, _ = pm["schema"].(map[string]any)
		}
	}
	q, _ := url.ParseQuery(rq.Query)
	for k, vs := range q {
		pm, ok := params[k]
		if !ok {
			errs = append(errs, "unknown query parameter "+k)
			continue
		}
		if enum, ok := pm["enum"].([]any); ok && !slices.Contains(enum, any(vs[0])) {
			errs = append(errs, fmt.Sprintf("query %s=%s is not one of %v", k, vs[0], enum))
		}
	}
	if rq.Body == "" {
		return id, errs
	}
	if body == nil {
		return id, append(errs, "the operation takes no body")
	}
	var v any
	if err := json.Unmarshal([]byte(rq.Body), &v); err != nil {
		return id, append(errs, "body is not JSON: "+err.Error())
	}
	return id, append(errs, s.value(v, body, "body")...)
}

// match returns the path template that fits path best (most literal segments).
func (s *swagger) match(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, score := "", -1
	for tmpl := range s.Paths {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		n := 0
		for i, t := range ts {
			switch {
			case strings.HasPrefix(t, "{"):
			case t == segs[i]:
				n++
			default:
				n = -1
			}
			if n < 0 {
				break
			}
		}
		if n > score {
			best, score = tmpl, n
		}
	}
	return best
}

func (s *swagger) param(p any) map[string]any {
	pm, _ := p.(map[string]any)
	if ref, ok := pm["$ref"].(string); ok {
		return s.Parameters[strings.TrimPrefix(ref, "#/parameters/")]
	}
	return pm
}
