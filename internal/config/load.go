package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	// Schedules name IANA time zones; embed the database so that they
	// load on machines without zoneinfo files.
	_ "time/tzdata"
)

// Load reads the configuration file at path, expands ${VAR} references
// from the process environment and parses it with Parse.
//
// A file that cannot be read gives an error wrapping the *fs.PathError; a
// file with problems gives a *Errors listing all of them.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	c, err := Parse(path, data, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	c.File = path
	return c, nil
}

// Parse decodes, completes and validates the configuration in data.
//
// file names the configuration in problem reports, and relative *_file
// paths are resolved against its directory. lookupEnv resolves ${VAR}
// references; nil means no variable is set. Parse applies every default,
// so the returned Config needs no further completion.
//
// When anything is wrong Parse returns a nil Config and a *Errors holding
// every problem found, sorted by line.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	d := newDecoder(file, lookupEnv)
	c := &Config{File: file}

	masked, mask := maskRefs(data)
	root, err := parseYAML(masked)
	mask.unmask(root)
	if err != nil {
		line, key, msg := syntaxProblem(err)
		d.add(refineSyntaxLine(masked, line, err), key, msg)
	} else if root != nil && !isNull(root) {
		if root.Kind != yaml.MappingNode {
			d.add(root.Line, "", "the configuration must be a mapping of keys such as listen:, rules: and destinations:, not "+kindName(root))
		} else {
			d.decode(root, reflect.ValueOf(c).Elem(), "")
		}
	}
	if !d.stopped {
		d.applyDefaults(c)
		d.validate(c)
	}
	if len(d.probs) > 0 {
		errs := d.probs.sorted()
		return nil, &errs
	}
	return c, nil
}

// parseYAML parses a single YAML document and returns its root node, or nil
// for a document without content.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The YAML library reports its errors by panicking internally; keep
		// any panic it fails to turn into an error from escaping Parse.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, &docError{line: next.Line}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// docError reports a second YAML document in the file.
type docError struct{ line int }

func (e *docError) Error() string {
	return "only one YAML document is allowed; remove the \"---\" separator"
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a YAML syntax error into a line number and message.
func syntaxProblem(err error) (line int, key, msg string) {
	var de *docError
	if errors.As(err, &de) {
		return de.line, "", de.Error()
	}
	s := err.Error()
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, "", "invalid YAML: " + m[2]
	}
	s, _ = strings.CutPrefix(s, "yaml: ")
	return 0, "", "invalid YAML: " + s
}

// maxRefineWork bounds the files whose syntax errors are located by
// re-parsing prefixes: lines × bytes, as that takes quadratic time.
const maxRefineWork = 20_000_000

// refineSyntaxLine finds the line a YAML syntax error is really on. The
// YAML library reports the line where the enclosing block began, which can
// be far above the mistake; the first prefix of the file, at or after that
// line, that fails with the same message ends on the offending line.
func refineSyntaxLine(data []byte, reported int, err error) int {
	var de *docError
	if errors.As(err, &de) {
		return reported
	}
	_, _, want := syntaxProblem(err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines)*len(data) > maxRefineWork {
		return reported
	}
	end := 0
	for k, l := range lines {
		end += len(l)
		if k+2 < reported { // the reported line may be one too low
			continue
		}
		_, perr := parseYAML(data[:end])
		if perr == nil {
			continue
		}
		if _, _, msg := syntaxProblem(perr); msg == want {
			return k + 1
		}
	}
	return reported
}
