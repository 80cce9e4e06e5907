package faults

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestInjector(t *testing.T) {
	var in Injector
	srv := httptest.NewServer(in.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	get := func(path string) (int, string, error) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), nil
	}
	in.Add(Fault{Status: 429, RetryAfter: "3", Times: 2, Path: "/a"})
	in.Add(Fault{Drop: true, Path: "/b"})
	if code, ra, _ := get("/b"); code != 0 {
		t.Fatalf("/b must be dropped, got %d %s", code, ra)
	}
	if code, _, err := get("/b"); err != nil || code != 200 {
		t.Fatalf("drop is used up: %d %v", code, err)
	}
	for i := 0; i < 2; i++ {
		if code, ra, _ := get("/a"); code != 429 || ra != "3" {
			t.Fatalf("429 #%d: %d %q", i, code, ra)
		}
	}
	if code, _, _ := get("/a"); code != 200 {
		t.Fatalf("fault used up: %d", code)
	}
	if in.Hits() != 3 {
		t.Fatalf("hits %d", in.Hits())
	}
	in.Add(Fault{Hang: time.Hour, Times: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("hang must outlast the client's deadline")
	}
	in.Clear()
	if code, _, _ := get("/x"); code != 200 {
		t.Fatalf("after Clear: %d", code)
	}
}
