package webhook

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// The fast path of the decoder reads the commonest body, one flat tutorial
// event, in a single pass without maps or reflection. It accepts only
// bodies whose meaning is plain: strictly valid JSON, a top-level object
// with event_type, scalar values except data, data an object of scalar
// values, no escapes or invalid UTF-8 in any string, no repeated field.
// Anything else, and every body that would be refused, goes to the general
// decoder, which gives the same events (FuzzFastTutorial checks this) and
// the documented error messages.

// tutorialRaw holds the raw JSON values of a tutorial envelope's fields;
// a nil value is an absent field.
type tutorialRaw struct {
	eventID, id, timestamp, time, eventType, data json.RawMessage
	// fields are the fields of data when the fast path read them; nil
	// when data is still to be decoded.
	fields *tutorialData
}

// tutorialData holds the raw values of a tutorial event's data fields.
type tutorialData struct {
	QueueID   json.RawMessage `json:"queue_id"`
	QueueName json.RawMessage `json:"queue_name"`
	MediaType json.RawMessage `json:"media_type"`
	Metric    json.RawMessage `json:"metric"`
	Value     json.RawMessage `json:"value"`
	Unit      json.RawMessage `json:"unit"`
}

// fastTutorial decodes raw on the fast path; ok is false when raw is not
// a plain, valid tutorial event, which the general decoder then reads.
func (d *decoder) fastTutorial(raw []byte) (event, bool) {
	s := flatScanner{b: raw}
	var f tutorialRaw
	var data tutorialData
	if !s.object(func(key []byte) bool {
		var dst *json.RawMessage
		switch string(key) {
		case "data":
			if f.data != nil || !s.at('{') {
				return false
			}
			start := s.i
			if !s.object(data.field(&s)) {
				return false
			}
			f.data, f.fields = raw[start:s.i], &data
			return true
		case "event_id":
			dst = &f.eventID
		case "id":
			dst = &f.id
		case "timestamp":
			dst = &f.timestamp
		case "time":
			dst = &f.time
		case "event_type":
			dst = &f.eventType
		}
		return s.scalarInto(dst)
	}) {
		return event{}, false
	}
	s.ws()
	if s.i != len(raw) || f.eventType == nil {
		return event{}, false
	}
	ev, err := d.tutorialFrom(f)
	if err != nil {
		return event{}, false
	}
	return ev, true
}

// field returns the member reader of a data object: the six tutorial
// fields, each once, with scalar values.
func (t *tutorialData) field(s *flatScanner) func(key []byte) bool {
	return func(key []byte) bool {
		var dst *json.RawMessage
		switch string(key) {
		case "queue_id":
			dst = &t.QueueID
		case "queue_name":
			dst = &t.QueueName
		case "media_type":
			dst = &t.MediaType
		case "metric":
			dst = &t.Metric
		case "value":
			dst = &t.Value
		case "unit":
			dst = &t.Unit
		default:
			// encoding/json ignores other fields but matches field names
			// without regard to case: skip only ASCII names that match
			// none of the six.
			if !otherDataField(key) {
				return false
			}
		}
		return s.scalarInto(dst)
	}
}

// tutorialDataFields are the JSON names of tutorialData's fields.
var tutorialDataFields = []string{"queue_id", "queue_name", "media_type", "metric", "value", "unit"}

// otherDataField reports whether key is an ASCII name that encoding/json
// would match to none of tutorialData's fields.
func otherDataField(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, f := range tutorialDataFields {
		if strings.EqualFold(string(key), f) {
			return false
		}
	}
	return true
}

// flatScanner reads strictly valid JSON of the limited shapes the fast
// path accepts; every method returns false on anything else.
type flatScanner struct {
	b []byte
	i int
}

func (s *flatScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// at skips white space and reports whether the next byte is c.
func (s *flatScanner) at(c byte) bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] == c
}

// object reads an object, calling member with each key (unquoted) once
// the scanner stands before the key's value. An empty object is refused.
func (s *flatScanner) object(member func(key []byte) bool) bool {
	if !s.at('{') {
		return false
	}
	s.i++
	for {
		s.ws()
		key, ok := s.str()
		if !ok || !s.at(':') {
			return false
		}
		s.i++
		s.ws()
		if !member(key[1 : len(key)-1]) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// scalar reads a string, number, true, false or null and returns it.
func (s *flatScanner) scalar() (json.RawMessage, bool) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		v, ok := s.str()
		return v, ok
	case c == '-' || c >= '0' && c <= '9':
		if !s.number() {
			return nil, false
		}
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return s.b[start:s.i], true
			}
		}
		return nil, false
	}
	return s.b[start:s.i], true
}

// scalarInto reads a scalar into *dst, refusing a field already read; a
// nil dst skips the value.
func (s *flatScanner) scalarInto(dst *json.RawMessage) bool {
	v, ok := s.scalar()
	switch {
	case !ok:
		return false
	case dst == nil:
		return true
	case *dst != nil:
		return false // repeated
	}
	*dst = v
	return true
}

// str reads a string without escapes, control characters or invalid
// UTF-8 and returns it with its quotes.
func (s *flatScanner) str() (json.RawMessage, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	ascii := true
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			v := s.b[start:s.i]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *flatScanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// plainString returns the text of a raw JSON string that needs no
// unescaping (no backslash, no control character, valid UTF-8), and false
// for any other value.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	ascii := true
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(in) {
		return "", false
	}
	if w, ok := commonWords[string(in)]; ok {
		return w, true // no copy
	}
	return string(in), true
}

// commonWords are strings senders repeat in every event (the tutorial
// event type, media types, metric and unit names), kept once so that
// decoding them does not copy them.
var commonWords = func() map[string]string {
	words := []string{TutorialEventType, "voice", "call", "chat", "email", "message", "callback",
		"s", "ms", "seconds", "percent", "%", "count", "ratio"}
	for _, n := range metric.Names() {
		words = append(words, string(n))
	}
	for alias := range tutorialAliases {
		words = append(words, alias)
	}
	m := make(map[string]string, len(words))
	for _, w := range words {
		m[w] = w
	}
	return m
}()
