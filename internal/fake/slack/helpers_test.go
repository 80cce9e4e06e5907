package slack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) errCode() string { s, _ := r.body["error"].(string); return s }
func (r reply) ok() bool        { b, _ := r.body["ok"].(bool); return b }
func (r reply) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

// do sends a raw request to the fake.
func do(t *testing.T, method, u, auth, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("answer is not JSON: %q", raw)
	}
	return r
}

// postJSON calls a method with a JSON body and the default token.
func postJSON(t *testing.T, base, method string, args map[string]any) reply {
	t.Helper()
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, "POST", base+"/"+method, "Bearer "+DefaultToken, "application/json; charset=utf-8", string(b))
}

// postForm calls a method with a form body.
func postForm(t *testing.T, base, method string, form url.Values) reply {
	t.Helper()
	return do(t, "POST", base+"/"+method, "", "application/x-www-form-urlencoded", form.Encode())
}

// start returns a fake without rate limits, and its base URL.
func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := New()
	s.SetRateLimits(Rate{}, Rate{})
	return s, s.Start(t)
}
