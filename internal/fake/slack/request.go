package slack

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody is the largest request body the fake reads.
const maxBody = 2 << 20

// apiError is a refused call: HTTP status (200 for Slack's ok:false), the
// error code and any extra answer fields.
type apiError struct {
	status     int
	code       string
	retryAfter time.Duration
	extra      map[string]any
	messages   []string
}

func refuse(code string) *apiError { return &apiError{status: http.StatusOK, code: code} }

// request is a parsed API call.
type request struct {
	method      string
	contentType string
	tokenIn     string
	token       string
	args        map[string]any
	warnings    []string
}

// str returns a string argument; JSON numbers and booleans are accepted the
// way Slack coerces them.
func (r *request) str(name string) (string, bool) {
	switch v := r.args[name].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case nil:
		return "", false
	default:
		return "", false
	}
}

// parse reads the method, body and token of an API request.
func parse(r *http.Request) (*request, *apiError) {
	req := &request{method: strings.TrimPrefix(r.URL.Path, "/api/"), args: map[string]any{}}
	if r.Method != http.MethodPost {
		return req, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return req, refuse("request_timeout")
	}
	if len(body) > maxBody {
		return req, &apiError{status: http.StatusRequestEntityTooLarge, code: "request_too_large"}
	}
	ct := r.Header.Get("Content-Type")
	req.contentType = ct
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return req, refuse("missing_post_type")
	case err != nil:
		return req, refuse("invalid_post_type")
	case mt == "application/json":
		if cs, ok := params["charset"]; !ok {
			req.warnings = append(req.warnings, "missing_charset")
		} else if !strings.EqualFold(cs, "utf-8") {
			return req, refuse("invalid_charset")
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return req, refuse("invalid_json")
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return req, refuse("json_not_object")
		}
		req.args = obj
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, refuse("invalid_form_data")
		}
		for k, vs := range form {
			if strings.HasSuffix(k, "[]") || len(vs) > 1 {
				return req, refuse("invalid_array_arg")
			}
			req.args[k] = vs[0]
		}
	default:
		return req, refuse("invalid_post_type")
	}
	return req, req.findToken(r)
}

// findToken takes the token from where Slack accepts it: the Authorization
// header, or a form field. A token in the query string or a JSON body is
// not accepted, and answers not_authed.
func (req *request) findToken(r *http.Request) *apiError {
	_, jsonBody := req.args["token"].(string)
	switch {
	case r.URL.Query().Has("token"):
		req.tokenIn = "query"
		return refuse("not_authed")
	case jsonBody && strings.HasPrefix(req.contentType, "application/json"):
		req.tokenIn = "json"
		delete(req.args, "token")
		return refuse("not_authed")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		req.tokenIn = "header"
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return refuse("invalid_auth")
		}
		req.token = strings.TrimSpace(tok)
	} else if tok, ok := req.args["token"].(string); ok {
		req.tokenIn = "form"
		req.token = tok
	}
	delete(req.args, "token")
	if req.token == "" {
		return refuse("not_authed")
	}
	return nil
}

// authorize checks the token and the scope a method needs; s.mu must be held.
func (s *Server) authorize(req *request, scope string) *apiError {
	t, ok := s.tokens[req.token]
	switch {
	case !ok:
		return refuse("invalid_auth")
	case t.revoked:
		return refuse("token_revoked")
	}
	if scope == "" {
		return nil
	}
	for _, have := range t.scopes {
		if have == scope {
			return nil
		}
	}
	e := refuse("missing_scope")
	e.extra = map[string]any{"needed": scope, "provided": strings.Join(t.scopes, ",")}
	return e
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes one token from the bucket named key, or says how long until one
// is available; s.mu must be held.
func (s *Server) allow(key string, r Rate) *apiError {
	if r.PerSecond <= 0 {
		return nil
	}
	burst := float64(max(r.Burst, 1))
	now := s.now()
	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*r.PerSecond)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return nil
	}
	wait := time.Duration((1 - b.tokens) / r.PerSecond * float64(time.Second))
	return &apiError{status: http.StatusTooManyRequests, code: "ratelimited", retryAfter: wait}
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers a refused call the way Slack does.
func writeError(w http.ResponseWriter, e *apiError, req *request) {
	body := map[string]any{"ok": false, "error": e.code}
	for k, v := range e.extra {
		body[k] = v
	}
	meta := map[string]any{}
	if len(e.messages) > 0 {
		meta["messages"] = e.messages
	}
	if req != nil && len(req.warnings) > 0 {
		body["warning"] = strings.Join(req.warnings, ",")
		meta["warnings"] = req.warnings
	}
	if len(meta) > 0 {
		body["response_metadata"] = meta
	}
	if e.retryAfter > 0 {
		secs := int(math.Ceil(e.retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeJSON(w, e.status, body)
}
