package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

const (
	// maxNodes bounds the values one file may decode to, so that a small
	// file with nested aliases cannot make Parse run for ever.
	maxNodes = 100_000
	// maxSecretFile bounds what a *_file key reads.
	maxSecretFile = 1 << 20
)

// status says what decoding one value gave.
type status int

const (
	valSet   status = iota // a value was stored
	valNull                // the YAML value was null; the field keeps its zero value
	valEmpty               // an environment reference expanded to ""; treated as absent
	valBad                 // the value was wrong; a problem was recorded
)

// decoder walks a yaml.Node tree into the configuration types, recording
// for every path the line it came from, and collects problems.
type decoder struct {
	file      string
	dir       string // relative *_file paths are resolved against it
	lookupEnv func(string) (string, bool)

	probs   Errors
	lines   map[string]int    // path → line of its key or list item
	present map[string]bool   // paths that were given a value
	hints   map[string]string // path → why its value came out empty
	bad     map[string]bool   // paths whose value could not be decoded
	nodes   int
	stopped bool
}

func newDecoder(file string, lookupEnv func(string) (string, bool)) *decoder {
	return &decoder{
		file:      file,
		dir:       filepath.Dir(file),
		lookupEnv: lookupEnv,
		lines:     map[string]int{},
		present:   map[string]bool{},
		hints:     map[string]string{},
		bad:       map[string]bool{},
	}
}

// add records a problem at an explicit line.
func (d *decoder) add(line int, key, msg string) {
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Key: key, Msg: msg})
}

// at records a problem about key at the line key came from, unless the
// value of key already failed to decode.
func (d *decoder) at(key, msg string) {
	if d.bad[key] {
		return
	}
	d.add(d.line(key), key, msg)
}

// atf is at with formatting.
func (d *decoder) atf(key, format string, args ...any) {
	d.at(key, fmt.Sprintf(format, args...))
}

// line returns the line key came from, or that of its nearest ancestor.
func (d *decoder) line(key string) int {
	for key != "" {
		if l, ok := d.lines[key]; ok {
			return l
		}
		key = parentPath(key)
	}
	return 0
}

// emptyMsg is the message for a required value that is empty, naming the
// environment variable or file to blame when there is one.
func (d *decoder) emptyMsg(key string) string {
	if h := d.hints[key]; h != "" {
		return "is empty (" + h + ")"
	}
	return "is empty"
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

var (
	secretType    = reflect.TypeFor[Secret]()
	durationType  = reflect.TypeFor[Duration]()
	thresholdType = reflect.TypeFor[*Threshold]()
	boolPtrType   = reflect.TypeFor[*bool]()
)

// fieldInfo describes one YAML key of a struct.
type fieldInfo struct {
	key   string
	index int
	// file is true for Secret and []Secret fields, which also accept a
	// "<key>_file" key.
	file bool
}

// structInfo describes the YAML keys of a struct type.
type structInfo struct {
	fields []fieldInfo
	byKey  map[string]int // key or key_file → position in fields
	known  []string       // every accepted key, in declaration order
	line   int            // index of the Line field, or -1
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byKey: map[string]int{}, line: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || tag == "" {
			if f.Name == "Line" && f.Type.Kind() == reflect.Int {
				si.line = i
			}
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		fi := fieldInfo{key: key, index: i}
		fi.file = f.Type == secretType || (f.Type.Kind() == reflect.Slice && f.Type.Elem() == secretType)
		si.byKey[key] = len(si.fields)
		si.known = append(si.known, key)
		if fi.file {
			si.byKey[key+"_file"] = len(si.fields)
			si.known = append(si.known, key+"_file")
		}
		si.fields = append(si.fields, fi)
	}
	structInfos.Store(t, si)
	return si
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName names what a node holds, for "must be X, not Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "true/false"
		case "!!null":
			return "empty"
		}
		return "a string"
	}
	return "something else"
}

// fail records that the value at path is wrong.
func (d *decoder) fail(n *yaml.Node, path, msg string) status {
	d.bad[path] = true
	d.add(n.Line, path, msg)
	return valBad
}

// text expands the environment references of a scalar value.
func (d *decoder) text(n *yaml.Node, path string) (string, status) {
	exp, err := expand(n.Value, d.lookupEnv)
	if err != nil {
		return "", d.fail(n, path, err.Error())
	}
	if exp.value == "" && exp.refs {
		if h := exp.hint(); h != "" {
			d.hints[path] = h
		}
		return "", valEmpty
	}
	return exp.value, valSet
}

// count adds n values to the number decoded so far and reports whether
// decoding may go on. Past maxNodes it records one problem and stops.
func (d *decoder) count(at *yaml.Node, n int) bool {
	if d.stopped {
		return false
	}
	d.nodes += n
	if d.nodes > maxNodes {
		d.stopped = true
		d.add(at.Line, "", fmt.Sprintf("the file expands to more than %d values; are aliases or merges nested too deep?", maxNodes))
		return false
	}
	return true
}

// decode stores the value of n into v, which is addressable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) status {
	if !d.count(n, 1) {
		return valBad
	}
	if n = resolve(n); n == nil {
		return valNull
	}
	if isNull(n) {
		return valNull
	}
	t := v.Type()
	switch {
	case t == thresholdType:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, errThreshold.Error())
		}
		s, st := d.text(n, path)
		if st != valSet {
			return st
		}
		th, err := parseThreshold(s)
		if err != nil {
			return d.fail(n, path, err.Error())
		}
		v.Set(reflect.ValueOf(&th))
		return valSet
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, errDuration.Error())
		}
		s, st := d.text(n, path)
		if st != valSet {
			return st
		}
		dur, err := parseDuration(s)
		if err != nil {
			return d.fail(n, path, err.Error())
		}
		v.SetInt(int64(dur))
		return valSet
	case t == boolPtrType:
		b := new(bool)
		st := d.decode(n, reflect.ValueOf(b).Elem(), path)
		if st == valSet {
			v.Set(reflect.ValueOf(b))
		}
		return st
	}

	switch t.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, "must be a string, not "+kindName(n))
		}
		s, st := d.text(n, path)
		if st == valSet {
			v.SetString(s)
		}
		return st
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, "must be true or false, not "+kindName(n))
		}
		s, st := d.text(n, path)
		if st != valSet {
			return st
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return d.fail(n, path, "must be true or false")
		}
		return valSet
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, "must be a whole number, not "+kindName(n))
		}
		s, st := d.text(n, path)
		if st != valSet {
			return st
		}
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return d.fail(n, path, "must be a whole number")
		}
		v.SetInt(i)
		return valSet
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, "must be a number, not "+kindName(n))
		}
		s, st := d.text(n, path)
		if st != valSet {
			return st
		}
		f, err := parseFinite(strings.TrimSpace(s))
		if err != nil {
			return d.fail(n, path, "must be a number")
		}
		v.SetFloat(f)
		return valSet
	case reflect.Slice:
		return d.decodeList(n, v, path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	}
	// Not reachable with the configuration types.
	return d.fail(n, path, "has a type the configuration cannot hold")
}

// decodeList decodes a YAML sequence. A scalar item whose environment
// references all expanded to "" is dropped, so that "tokens:
// [${WEBHOOK_TOKEN}]" is an empty list when the variable is unset.
func (d *decoder) decodeList(n *yaml.Node, v reflect.Value, path string) status {
	if n.Kind != yaml.SequenceNode {
		return d.fail(n, path, "must be a list, not "+kindName(n))
	}
	et := v.Type().Elem()
	scalar := et.Kind() == reflect.String
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for _, item := range n.Content {
		ip := indexPath(path, out.Len())
		d.lines[ip] = item.Line
		ev := reflect.New(et).Elem()
		st := d.decode(item, ev, ip)
		if scalar && st == valEmpty {
			delete(d.lines, ip)
			delete(d.hints, ip)
			continue
		}
		if !scalar && st == valNull {
			d.fail(item, ip, "is empty; remove the \"-\" or fill it in")
		}
		out = reflect.Append(out, ev)
	}
	v.Set(out)
	return valSet
}

// pair is one key and its value in a mapping.
type pair struct{ key, val *yaml.Node }

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// pairs lists the keys of a mapping. Keys merged in with "<<: *anchor" come
// after the mapping's own keys and are left out when the mapping sets the
// same key itself; an earlier merged mapping wins over a later one.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			own = append(own, pair{k, val})
			continue
		}
		if depth > 10 {
			d.add(k.Line, path, "has \"<<\" merges nested too deep")
			continue
		}
		src := resolve(val)
		if src == nil {
			continue
		}
		var sources []*yaml.Node
		switch src.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{src}
		case yaml.SequenceNode:
			for _, s := range src.Content {
				sources = append(sources, resolve(s))
			}
		}
		for _, s := range sources {
			if s == nil || s.Kind != yaml.MappingNode {
				d.add(k.Line, path, `"<<" must merge a mapping or a list of mappings`)
				continue
			}
			if !d.count(k, len(s.Content)/2) {
				return nil
			}
			merged = append(merged, d.pairs(s, path, depth+1)...)
		}
	}
	if len(merged) == 0 {
		return own
	}
	have := map[string]bool{}
	for _, p := range own {
		have[p.key.Value] = true
	}
	out := own
	for _, p := range merged {
		if !have[p.key.Value] {
			have[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// decodeStruct decodes a YAML mapping into a struct, refusing unknown keys.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) status {
	if n.Kind != yaml.MappingNode {
		return d.fail(n, path, "must be a mapping of keys, not "+kindName(n))
	}
	si := infoOf(v.Type())
	if si.line >= 0 {
		v.Field(si.line).SetInt(int64(n.Line))
	}
	seen := map[string]int{} // key → line
	for _, p := range d.pairs(n, path, 0) {
		if d.stopped {
			return valBad
		}
		k := p.key
		if k.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "keys must be plain names, not "+kindName(k))
			continue
		}
		key := k.Value
		kp := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.add(k.Line, kp, fmt.Sprintf("is set twice (first at line %d)", first))
			continue
		}
		seen[key] = k.Line
		pos, ok := si.byKey[key]
		if !ok {
			d.add(k.Line, kp, unknownKeyMsg(key, si.known))
			continue
		}
		fi := si.fields[pos]
		d.lines[kp] = k.Line
		if fi.file && key == fi.key+"_file" {
			basePath := joinPath(path, fi.key)
			if _, ok := d.lines[basePath]; !ok {
				d.lines[basePath] = k.Line
			}
			d.secretFile(p.val, v.Field(fi.index), kp, basePath)
			continue
		}
		if d.decode(p.val, v.Field(fi.index), kp) == valSet {
			d.present[kp] = true
		}
	}
	for _, fi := range si.fields {
		if !fi.file {
			continue
		}
		if l1, ok := seen[fi.key]; ok {
			if l2, ok := seen[fi.key+"_file"]; ok {
				fk := joinPath(path, fi.key+"_file")
				d.bad[joinPath(path, fi.key)] = true
				d.add(max(l1, l2), fk, fmt.Sprintf("cannot be used together with %s; set only one of them", fi.key))
			}
		}
	}
	return valSet
}

// secretFile reads the value of a Secret or []Secret field from the file
// named by n. Error messages name the file but never its content.
func (d *decoder) secretFile(n *yaml.Node, field reflect.Value, filePath, basePath string) {
	n = resolve(n)
	if n == nil || isNull(n) {
		d.bad[basePath] = true
		d.fail(&yaml.Node{Line: d.lines[filePath]}, filePath, "is empty; it must name a file")
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.bad[basePath] = true
		d.fail(n, filePath, "must be a file name, not "+kindName(n))
		return
	}
	name, st := d.text(n, filePath)
	if st == valBad {
		d.bad[basePath] = true
		return
	}
	if st == valEmpty || strings.TrimSpace(name) == "" {
		d.bad[basePath] = true
		d.fail(n, filePath, d.emptyMsg(filePath)+"; it must name a file")
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.dir, name)
	}
	data, err := readSecretFile(name)
	if err != nil {
		d.bad[basePath] = true
		d.fail(n, filePath, err.Error())
		return
	}
	d.present[basePath] = true
	if field.Kind() == reflect.Slice {
		var tokens []Secret
		for _, line := range strings.Split(string(data), "\n") {
			if t := strings.TrimSpace(line); t != "" {
				tokens = append(tokens, Secret(t))
			}
		}
		if len(tokens) == 0 {
			d.hints[basePath] = fmt.Sprintf("file %s has no lines", name)
		}
		field.Set(reflect.ValueOf(tokens))
		return
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		d.hints[basePath] = fmt.Sprintf("file %s is empty", name)
	}
	field.SetString(s)
}

// readSecretFile reads a regular file of at most maxSecretFile bytes.
func readSecretFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErrCause(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErrCause(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErrCause(err))
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("cannot read %s: larger than %d bytes", name, maxSecretFile)
	}
	return data, nil
}

// pathErrCause strips the *fs.PathError wrapper, whose text repeats the
// file name.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unknownKeyMsg suggests the closest known key when it is at most two
// edits away, and otherwise lists the known keys.
func unknownKeyMsg(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", best)
	}
	return "unknown key; known keys are " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
