package opsgenie

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a virtual clock safe for use by the server's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// answer is a decoded API answer.
type answer struct {
	code   int
	header http.Header
	body   map[string]any
}

// call sends one request with the given Authorization header ("" for none)
// and decodes the JSON answer.
func call(t *testing.T, method, url, auth, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{code: resp.StatusCode, header: resp.Header}
	if len(b) > 0 && json.Unmarshal(b, &a.body) != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %s", method, url, b)
	}
	return a
}

const key = "GenieKey " + DefaultKey

// confirm polls a request's status until it is processed and returns its data.
func confirm(t *testing.T, base, requestID string) map[string]any {
	t.Helper()
	for range 10 {
		a := call(t, "GET", base+"/v2/alerts/requests/"+requestID, key, "")
		if a.code == http.StatusOK {
			return a.body["data"].(map[string]any)
		}
		if a.code != http.StatusNotFound || a.header.Get("X-Opsgenie-Errortype") != "RequestNotProcessed" {
			t.Fatalf("status: %d %v", a.code, a.body)
		}
	}
	t.Fatalf("request %s never processed", requestID)
	return nil
}

// do sends an alert request, expects 202 and returns the confirmed status.
func do(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	a := call(t, method, url, key, body)
	if a.code != http.StatusAccepted {
		t.Fatalf("%s %s: %d %v", method, url, a.code, a.body)
	}
	base := url[:strings.Index(url, "/v2/")]
	return confirm(t, base, a.body["requestId"].(string))
}
