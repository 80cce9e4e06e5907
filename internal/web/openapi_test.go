package web

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPIListsEveryRoute checks docs/openapi.yaml against the mux: every
// API route is documented with its method, and every documented API path
// is served.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	data, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	e := newEnv(t, nil)
	served := map[string]bool{}
	for _, r := range e.srv.Routes() {
		method, path, ok := strings.Cut(r, " ")
		if !ok || path == "/assets/" {
			continue // the catch-all 404 and static files
		}
		if path == "/{$}" {
			path = "/"
		}
		served[strings.ToLower(method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("docs/openapi.yaml does not document %s %s", method, path)
		}
	}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		for method := range ops {
			if !served[method+" "+path] {
				t.Errorf("docs/openapi.yaml documents %s %s, which is not served", method, path)
			}
		}
	}
	if len(served) != 14 || !slices.Contains(e.srv.Routes(), "GET /api/v1/events") {
		t.Errorf("routes = %v", e.srv.Routes())
	}
}
