package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// apiError is the body of every error answer.
type apiError struct {
	Error   string   `json:"error"`
	Reasons []string `json:"reasons,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string, reasons ...string) {
	writeJSON(w, code, apiError{Error: msg, Reasons: reasons})
}

// tokenOK compares a presented token with the configured one in constant
// time (hashing both first, so their lengths do not leak either).
func tokenOK(presented, want string) bool {
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// checkToken answers 401 (or 403 when no token is configured) and returns
// false unless the request carries the API token.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request, tok string, have bool) bool {
	if s.opts.APIToken == "" {
		writeError(w, http.StatusForbidden, "this queuewatch has no api_token configured, so the API refuses changes; set api_token (or api_token_file) and send it as Authorization: Bearer <token>")
		return false
	}
	if !have {
		w.Header().Set("WWW-Authenticate", `Bearer realm="queuewatch"`)
		writeError(w, http.StatusUnauthorized, "missing API token: send Authorization: Bearer <api_token>")
		return false
	}
	if !tokenOK(tok, s.opts.APIToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="queuewatch", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid API token")
		return false
	}
	return true
}

// write wraps a handler that changes state: it needs the API token.
func (s *Server) write(h http.HandlerFunc) http.HandlerFunc { return s.guard(h, true, false) }

// read wraps a handler that only reads: it needs the API token when
// api_read_auth is on.
func (s *Server) read(h http.HandlerFunc) http.HandlerFunc { return s.guard(h, false, false) }

// readEvents is read for the event stream, which also takes the token as
// an access_token query parameter because browsers' EventSource cannot send
// headers.
func (s *Server) readEvents(h http.HandlerFunc) http.HandlerFunc { return s.guard(h, false, true) }

// guard runs h once the request carries the API token, when it needs one:
// always for writes, for reads with api_read_auth.
func (s *Server) guard(h http.HandlerFunc, write, queryToken bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !write && !s.opts.ReadAuth {
			h(w, r)
			return
		}
		tok, have := bearer(r)
		if !have && queryToken {
			tok = r.URL.Query().Get("access_token")
			have = tok != ""
		}
		if s.checkToken(w, r, tok, have) {
			h(w, r)
		}
	}
}
