package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxQuoted bounds how much of a sender's text is echoed in an error.
const maxQuoted = 80

// quote quotes s for an error message, shortened to maxQuoted bytes.
func quote(s string) string {
	return strconv.Quote(clip(s))
}

// jsonReason turns an encoding/json error into a short reason naming the
// field, prefixed with path (a field path such as "detail." or "").
func jsonReason(err error, path string) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("bad JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path + te.Field
		if field == "" || strings.HasSuffix(field, ".") {
			field = strings.TrimSuffix(field, ".")
			if field == "" {
				return fmt.Sprintf("expected a JSON %s, got %s", kindName(te.Type), te.Value)
			}
		}
		return fmt.Sprintf("field %s: expected %s, got %s", field, kindName(te.Type), te.Value)
	}
	return "bad JSON: " + err.Error()
}

// kindName names a Go type the way a JSON author thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a value"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return kindName(t.Elem())
	default:
		return "a number"
	}
}

// jsonKind names the kind of a raw JSON value: object, array, string,
// number, boolean or null.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// asString reads an optional string or number field (ids are sometimes
// numbers) and returns "" when it is absent or null.
func asString(raw json.RawMessage, field string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	switch jsonKind(raw) {
	case "string":
		s, err := unquote(raw)
		if err != nil {
			return "", fmt.Errorf("field %s: %s", field, jsonReason(err, ""))
		}
		return s, nil
	case "number":
		return string(bytes.TrimSpace(raw)), nil
	default:
		return "", fmt.Errorf("field %s: expected a string, got %s", field, jsonKind(raw))
	}
}

// unquote decodes a raw JSON string; a plain one (no escapes) without
// encoding/json's reflection.
func unquote(raw json.RawMessage) (string, error) {
	if s, ok := plainString(bytes.TrimSpace(raw)); ok {
		return s, nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// asNumber reads a number, or a string holding one (Architect data actions
// send strings), and rejects NaN and infinities.
func asNumber(raw json.RawMessage, field string) (float64, error) {
	var v float64
	switch jsonKind(raw) {
	case "number":
		// raw is a number of valid JSON, which ParseFloat reads as
		// encoding/json would; on a range error encoding/json names it.
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		if err != nil {
			if err := json.Unmarshal(raw, &v); err != nil {
				return 0, fmt.Errorf("field %s: %s", field, jsonReason(err, ""))
			}
			f = v
		}
		v = f
	case "string":
		s, err := unquote(raw)
		if err != nil {
			return 0, fmt.Errorf("field %s: %s", field, jsonReason(err, ""))
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("field %s: %s is not a number", field, quote(s))
		}
		v = f
	default:
		return 0, fmt.Errorf("field %s: expected a number, got %s", field, jsonKind(raw))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("field %s: %v is not a finite number", field, v)
	}
	return v, nil
}

// asTime reads an optional timestamp field: an RFC 3339 string, or a Unix
// time in seconds or milliseconds as a number or a string of digits.
func asTime(raw json.RawMessage, field string) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	switch jsonKind(raw) {
	case "string":
		s, err := unquote(raw)
		if err != nil {
			return time.Time{}, fmt.Errorf("field %s: %s", field, jsonReason(err, ""))
		}
		t, err := parseTime(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("field %s: %w", field, err)
		}
		return t, nil
	case "number":
		v, err := asNumber(raw, field)
		if err != nil {
			return time.Time{}, err
		}
		return unixTime(v, field)
	default:
		return time.Time{}, fmt.Errorf("field %s: expected an RFC 3339 time, got %s", field, jsonKind(raw))
	}
}

// parseTime parses an RFC 3339 time or a Unix time written as digits.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) < 0 {
		v, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return unixTime(v, "")
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time or a Unix time", quote(s))
	}
	return t, nil
}

// unixTime converts Unix seconds, or milliseconds when v is above 1e11
// (which as seconds would be beyond the year 5000).
func unixTime(v float64, field string) (time.Time, error) {
	if v > 1e11 {
		v /= 1000
	}
	if v < 0 || v > 1e11 || math.IsNaN(v) {
		if field == "" {
			return time.Time{}, fmt.Errorf("%v is not a plausible Unix time", v)
		}
		return time.Time{}, fmt.Errorf("field %s: %v is not a plausible Unix time", field, v)
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
