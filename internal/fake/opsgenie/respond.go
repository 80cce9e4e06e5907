package opsgenie

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
)

// maxBody is the largest request body the fake reads.
const maxBody = 1 << 20

// writeJSON answers with v plus the "took" and "requestId" every OpsGenie
// answer carries, unless v sets them.
func (s *Server) writeJSON(w http.ResponseWriter, code int, v map[string]any) {
	if _, ok := v["took"]; !ok {
		v["took"] = float64(rand.IntN(100)+1) / 1000
	}
	id, ok := v["requestId"].(string)
	if !ok {
		id = newID()
		v["requestId"] = id
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-ID", id)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers with an OpsGenie error body {message, errors?, took, requestId}.
func (s *Server) fail(w http.ResponseWriter, code int, msg string, fields map[string]string) {
	v := map[string]any{"message": msg}
	if len(fields) > 0 {
		v["errors"] = fields
	}
	s.writeJSON(w, code, v)
}

// unprocessable answers 422 with the per-field errors.
func (s *Server) unprocessable(w http.ResponseWriter, fields map[string]string) {
	s.fail(w, http.StatusUnprocessableEntity, "Request body is not processable. Please check the errors.", fields)
}

// decode reads a JSON body into v. An empty body is allowed when optional.
// It answers 400 for a syntax error and 422 for a value of the wrong type,
// and reports whether the caller may go on.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, http.StatusRequestEntityTooLarge, "Request body is too large.", nil)
			return false
		}
		s.fail(w, http.StatusBadRequest, "Could not read request body.", nil)
		return false
	}
	if len(b) == 0 && optional {
		return true
	}
	err = json.Unmarshal(b, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		s.unprocessable(w, map[string]string{field: "must be of type " + typeErr.Type.String() + ", not " + typeErr.Value})
	default:
		s.fail(w, http.StatusBadRequest, "Could not parse request body: "+err.Error(), nil)
	}
	return false
}
