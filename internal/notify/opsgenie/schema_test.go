package opsgenie

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// flat is a schema with its $ref resolved and its allOf merged.
type flat struct {
	typ        string
	props      map[string]any
	required   []string
	additional map[string]any
	items      map[string]any
	enum       []any
	// disc is the discriminator property and base its definition's name.
	disc, base string
}

// flatten resolves a schema's $ref and merges its allOf parts.
func (s *swagger) flatten(schema map[string]any) flat {
	f := flat{props: map[string]any{}}
	s.merge(&f, schema, "")
	return f
}

func (s *swagger) merge(f *flat, schema map[string]any, name string) {
	if ref, ok := schema["$ref"].(string); ok {
		name = strings.TrimPrefix(ref, "#/definitions/")
		s.merge(f, s.Definitions[name], name)
		return
	}
	if t, ok := schema["type"].(string); ok && (f.typ == "" || t != "object") {
		f.typ = t
	}
	if d, ok := schema["discriminator"].(string); ok {
		f.disc, f.base = d, name
	}
	if ps, ok := schema["properties"].(map[string]any); ok {
		maps.Copy(f.props, ps)
	}
	if rs, ok := schema["required"].([]any); ok {
		for _, r := range rs {
			f.required = append(f.required, r.(string))
		}
	}
	if a, ok := schema["additionalProperties"].(map[string]any); ok {
		f.additional = a
	}
	if it, ok := schema["items"].(map[string]any); ok {
		f.items = it
	}
	if e, ok := schema["enum"].([]any); ok {
		f.enum = e
	}
	if all, ok := schema["allOf"].([]any); ok {
		for _, part := range all {
			s.merge(f, part.(map[string]any), "")
		}
	}
}

// subtype merges into f the definition that extends f.base for the
// discriminator value v, e.g. TeamRecipient for Recipient type "team".
func (s *swagger) subtype(f *flat, v string) {
	for name, d := range s.Definitions {
		if d["x-discriminator-value"] != v {
			continue
		}
		all, _ := d["allOf"].([]any)
		for _, part := range all {
			if pm, _ := part.(map[string]any); pm["$ref"] == "#/definitions/"+f.base {
				s.merge(f, d, name)
				return
			}
		}
	}
}

// value checks v against schema; path names v in messages.
func (s *swagger) value(v any, schema map[string]any, path string) []string {
	f := s.flatten(schema)
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if len(f.enum) > 0 && !slices.Contains(f.enum, v) {
		bad("%v is not one of %v", v, f.enum)
	}
	switch v := v.(type) {
	case map[string]any:
		if f.typ != "" && f.typ != "object" {
			bad("want %s, got an object", f.typ)
			return errs
		}
		if d, ok := v[f.disc].(string); ok && f.disc != "" {
			s.subtype(&f, d)
		}
		for _, r := range f.required {
			if _, ok := v[r]; !ok {
				bad("required field %s is missing", r)
			}
		}
		for k, fv := range v {
			switch ps, ok := f.props[k].(map[string]any); {
			case ok:
				errs = append(errs, s.value(fv, ps, path+"."+k)...)
			case f.additional != nil:
				errs = append(errs, s.value(fv, f.additional, path+"."+k)...)
			default:
				bad("unknown field %s", k)
			}
		}
	case []any:
		if f.typ != "array" {
			bad("want %s, got an array", f.typ)
			return errs
		}
		for i, it := range v {
			errs = append(errs, s.value(it, f.items, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case string:
		if f.typ != "string" {
			bad("want %s, got a string", f.typ)
		}
	case float64:
		if f.typ != "number" && f.typ != "integer" || f.typ == "integer" && v != math.Trunc(v) {
			bad("want %s, got %v", f.typ, v)
		}
	case bool:
		if f.typ != "boolean" {
			bad("want %s, got a boolean", f.typ)
		}
	}
	return errs
}
