package config

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expansion is the result of expanding the environment references in one
// scalar value.
type expansion struct {
	value string
	// refs is true when the text referred to at least one variable.
	refs bool
	// unset lists the variables that were not set; empty those set to "".
	// They explain a value that came out empty.
	unset []string
	empty []string
}

// hint explains an empty result, such as "OPSGENIE_API_KEY is not set", or
// returns "" when no variable is to blame.
func (e expansion) hint() string {
	var parts []string
	if len(e.unset) > 0 {
		parts = append(parts, joinNames(e.unset)+pick(len(e.unset), " is not set", " are not set"))
	}
	if len(e.empty) > 0 {
		parts = append(parts, joinNames(e.empty)+pick(len(e.empty), " is set but empty", " are set but empty"))
	}
	return strings.Join(parts, "; ")
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	default:
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
}

// Expansion syntax errors. They never quote the value, which may be secret.
var (
	errUnterminated = errors.New(`has "${" without a closing "}"`)
	errBadVarName   = errors.New(`has "${...}" with an invalid variable name; names are letters, digits and "_", not starting with a digit`)
	errBadOperator  = errors.New(`has an unsupported "${...}" form; use ${VAR} or ${VAR:-default}`)
)

// expand replaces ${VAR} and ${VAR:-default} in s with values from lookup
// and turns "$$" into a literal "$". A "$" followed by anything else is kept
// as it is. Like the shell, the default is used when the variable is unset
// or empty. An unset variable without a default expands to "".
func expand(s string, lookup func(string) (string, bool)) (expansion, error) {
	if !strings.Contains(s, "$") {
		return expansion{value: s}, nil
	}
	var (
		out strings.Builder
		res expansion
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			out.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			out.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			out.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return expansion{}, errUnterminated
		}
		body := s[i+2 : i+2+end]
		i += 2 + end + 1

		name, def, hasDef := body, "", false
		if k := strings.IndexByte(body, ':'); k >= 0 {
			if !strings.HasPrefix(body[k:], ":-") {
				return expansion{}, errBadOperator
			}
			name, def, hasDef = body[:k], body[k+2:], true
		}
		if !validVarName(name) {
			if strings.ContainsAny(name, "-?=+") {
				return expansion{}, errBadOperator
			}
			return expansion{}, errBadVarName
		}
		res.refs = true
		var val string
		var set bool
		if lookup != nil {
			val, set = lookup(name)
		}
		switch {
		case val != "":
			out.WriteString(val)
		case set:
			res.empty = append(res.empty, name)
		default:
			res.unset = append(res.unset, name)
		}
		if val == "" && hasDef {
			out.WriteString(def)
		}
	}
	res.value = out.String()
	return res, nil
}

func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// refMask hides the ${...} references of a file from the YAML parser.
//
// "${VAR}" is not a valid plain scalar inside a flow collection, where "{"
// and "}" are indicators, so "tokens: [${WEBHOOK_TOKEN}]" would be a syntax
// error. Before parsing, each reference is replaced by a placeholder made of
// letters, digits and "_" on the same line; after parsing, unmask puts the
// original text back into the node values, where expand then handles it.
type refMask struct {
	prefix string
	refs   []string
	re     *regexp.Regexp
}

// maskRefs returns data with every ${...} reference (but not an escaped
// $${...}) replaced by a placeholder.
func maskRefs(data []byte) ([]byte, *refMask) {
	if !bytes.Contains(data, []byte("${")) {
		return data, nil
	}
	prefix := "__qwenv_"
	for bytes.Contains(data, []byte(prefix)) {
		prefix += "x_"
	}
	m := &refMask{prefix: prefix}
	out := make([]byte, 0, len(data)+len(data)/4)
	for i := 0; i < len(data); {
		if data[i] != '$' || i+1 >= len(data) {
			out = append(out, data[i])
			i++
			continue
		}
		if data[i+1] == '$' {
			out = append(out, '$', '$')
			i += 2
			continue
		}
		if data[i+1] != '{' {
			out = append(out, '$')
			i++
			continue
		}
		end := bytes.IndexAny(data[i+2:], "}\n")
		if end < 0 || data[i+2+end] != '}' {
			out = append(out, '$')
			i++
			continue
		}
		ref := string(data[i : i+2+end+1])
		out = append(out, prefix...)
		out = strconv.AppendInt(out, int64(len(m.refs)), 10)
		out = append(out, '_')
		m.refs = append(m.refs, ref)
		i += len(ref)
	}
	m.re = regexp.MustCompile(regexp.QuoteMeta(prefix) + `([0-9]+)_`)
	return out, m
}

// unmask restores the references in every scalar of the tree under n.
func (m *refMask) unmask(n *yaml.Node) {
	if m == nil || n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, m.prefix) {
		n.Value = m.re.ReplaceAllStringFunc(n.Value, func(ph string) string {
			i, err := strconv.Atoi(ph[len(m.prefix) : len(ph)-1])
			if err != nil || i >= len(m.refs) {
				return ph
			}
			return m.refs[i]
		})
	}
	for _, c := range n.Content {
		m.unmask(c)
	}
}
