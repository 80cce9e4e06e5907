package codec

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
)

// The stored rows are the encoding/json encoding of alert.Transition,
// alert.SeriesState and alert.Episode. The append functions below write
// exactly the bytes json.Marshal writes for them (same field order, omitted
// fields, string escaping, number and time formats), without reflection and
// into one buffer; TestAppendMatchesEncodingJSON and FuzzAppendMatchesEncodingJSON
// compare them with json.Marshal. A field added to those types must be
// added here too; the tests fail until it is.

// errUnsupportedFloat is json.Marshal's refusal of NaN and ±Inf.
var errUnsupportedFloat = errors.New("json: unsupported value: NaN or Inf")

// jsonWriter appends JSON to buf and keeps the first error.
type jsonWriter struct {
	buf []byte
	err error
}

func (w *jsonWriter) raw(s string) { w.buf = append(w.buf, s...) }

// key writes the separator and the quoted key. first is true for the
// first field written in an object.
func (w *jsonWriter) key(first *bool, k string) {
	if !*first {
		w.buf = append(w.buf, ',')
	}
	*first = false
	w.buf = append(w.buf, '"')
	w.buf = append(w.buf, k...)
	w.buf = append(w.buf, '"', ':')
}

func (w *jsonWriter) str(first *bool, k, v string) {
	w.key(first, k)
	w.buf = appendString(w.buf, v)
}

// strOmit writes a string field tagged omitempty.
func (w *jsonWriter) strOmit(first *bool, k, v string) {
	if v != "" {
		w.str(first, k, v)
	}
}

func (w *jsonWriter) float(first *bool, k string, f float64) {
	w.key(first, k)
	w.buf, w.err = appendFloat(w.buf, f, w.err)
}

func (w *jsonWriter) floatOmit(first *bool, k string, f float64) {
	if f != 0 {
		w.float(first, k, f)
	}
}

func (w *jsonWriter) int(first *bool, k string, n int64) {
	w.key(first, k)
	w.buf = strconv.AppendInt(w.buf, n, 10)
}

func (w *jsonWriter) bool(first *bool, k string, b bool) {
	w.key(first, k)
	w.buf = strconv.AppendBool(w.buf, b)
}

func (w *jsonWriter) boolOmit(first *bool, k string, b bool) {
	if b {
		w.bool(first, k, b)
	}
}

func (w *jsonWriter) time(first *bool, k string, t time.Time) {
	w.key(first, k)
	w.buf, w.err = appendTime(w.buf, t, w.err)
}

// timeOmit writes a time field tagged omitzero.
func (w *jsonWriter) timeOmit(first *bool, k string, t time.Time) {
	if !t.IsZero() {
		w.time(first, k, t)
	}
}

// strings writes a []string field tagged omitempty.
func (w *jsonWriter) strings(first *bool, k string, ss []string) {
	if len(ss) == 0 {
		return
	}
	w.key(first, k)
	w.buf = append(w.buf, '[')
	for i, s := range ss {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendString(w.buf, s)
	}
	w.buf = append(w.buf, ']')
}

// transition appends t as json.Marshal encodes it and returns where
// its episode's object starts and ends in buf (0, 0 when it has none).
func (w *jsonWriter) transition(t *alert.Transition) (epStart, epEnd int) {
	first := true
	w.raw("{")
	w.str(&first, "key", t.Key)
	w.str(&first, "rule", t.Rule)
	w.str(&first, "queue_id", t.QueueID)
	w.str(&first, "queue_name", t.QueueName)
	w.strOmit(&first, "media_type", t.MediaType)
	w.str(&first, "metric", string(t.Metric))
	w.time(&first, "at", t.At)
	w.str(&first, "from", string(t.From))
	w.str(&first, "to", string(t.To))
	w.strOmit(&first, "action", string(t.Action))
	w.str(&first, "reason", t.Reason)
	w.float(&first, "value", t.Value)
	w.float(&first, "threshold", t.Threshold)
	w.float(&first, "clear", t.Clear)
	w.floatOmit(&first, "target", t.Target)
	w.strOmit(&first, "priority", string(t.Priority))
	w.strOmit(&first, "prev_priority", string(t.PrevPriority))
	w.strOmit(&first, "note", t.Note)
	w.strings(&first, "destinations", t.Destinations)
	w.strOmit(&first, "held", t.Held)
	if t.Episode != nil {
		w.key(&first, "episode")
		epStart = len(w.buf)
		w.episode(t.Episode)
		epEnd = len(w.buf)
	}
	w.raw("}")
	return epStart, epEnd
}

// series appends s as json.Marshal encodes it.
func (w *jsonWriter) series(s *alert.SeriesState) {
	first := true
	w.raw("{")
	w.str(&first, "key", s.Key)
	w.str(&first, "rule", s.Rule)
	w.str(&first, "queue_id", s.QueueID)
	w.str(&first, "queue_name", s.QueueName)
	w.strOmit(&first, "media_type", s.MediaType)
	w.str(&first, "metric", string(s.Metric))
	w.str(&first, "state", string(s.State))
	w.time(&first, "since", s.Since)
	w.timeOmit(&first, "pending_since", s.PendingSince)
	w.timeOmit(&first, "clear_since", s.ClearSince)
	w.int(&first, "level", int64(s.Level))
	w.strOmit(&first, "priority", string(s.Priority))
	w.float(&first, "last_value", s.LastValue)
	w.timeOmit(&first, "last_sample_at", s.LastSampleAt)
	w.boolOmit(&first, "stale", s.Stale)
	w.boolOmit(&first, "flapping", s.Flapping)
	if len(s.Flaps) > 0 {
		w.key(&first, "flaps")
		w.buf = append(w.buf, '[')
		for i, f := range s.Flaps {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf, w.err = appendTime(w.buf, f, w.err)
		}
		w.buf = append(w.buf, ']')
	}
	w.strOmit(&first, "held", s.Held)
	if s.Episode != nil {
		w.key(&first, "episode")
		w.episode(s.Episode)
	}
	w.int(&first, "version", s.Version)
	w.raw("}")
}

// episode appends e as json.Marshal encodes it.
func (w *jsonWriter) episode(e *alert.Episode) {
	first := true
	w.raw("{")
	w.str(&first, "id", e.ID)
	w.str(&first, "key", e.Key)
	w.str(&first, "rule", e.Rule)
	w.str(&first, "queue_id", e.QueueID)
	w.str(&first, "queue_name", e.QueueName)
	w.strOmit(&first, "media_type", e.MediaType)
	w.str(&first, "metric", string(e.Metric))
	w.time(&first, "start", e.Start)
	w.timeOmit(&first, "end", e.End)
	w.float(&first, "worst", e.Worst)
	w.time(&first, "worst_at", e.WorstAt)
	w.str(&first, "priority", string(e.Priority))
	w.bool(&first, "notified", e.Notified)
	w.strings(&first, "destinations", e.Destinations)
	w.raw("}")
}

// appendFloat appends f as encoding/json formats a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from 1e21
// on, with a one-digit negative exponent written without its zero.
func appendFloat(b []byte, f float64, err error) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if err == nil {
			err = errUnsupportedFloat
		}
		return append(b, '0'), err
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, err
}

// appendTime appends t as time.Time.MarshalJSON does: quoted RFC 3339 with
// as many fractional digits as needed. Like MarshalJSON it refuses years
// outside 0–9999 (and offsets of a day or more, which UTC never has).
func appendTime(b []byte, t time.Time, err error) ([]byte, error) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks of time.Time.MarshalJSON, on what was written.
	switch {
	case b[n0+len("9999")] != '-':
		if err == nil {
			err = errors.New("Time.MarshalJSON: year outside of range [0,9999]")
		}
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		o := b[len(b)-len("07:00"):]
		if ('0' <= c && c <= '9') || 10*(o[0]-'0')+(o[1]-'0') >= 24 {
			if err == nil {
				err = errors.New("Time.MarshalJSON: timezone hour outside of range [0,23]")
			}
		}
	}
	return append(b, '"'), err
}

const hex = "0123456789abcdef"

// appendString appends s quoted as json.Marshal quotes strings: HTML
// characters (<, >, &), control characters, U+2028 and U+2029 escaped, and
// each byte of invalid UTF-8 replaced by \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
