package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// retryTests returns, like Alertmanager's RetryTests, whether every status
// code from 100 to 599 must be retried; 2xx codes are absent (success).
func retryTests() map[int]bool {
	m := map[int]bool{}
	for c := 100; c <= 599; c++ {
		if c >= 200 && c <= 299 {
			continue
		}
		m[c] = c == 408 || c == 429 || (c >= 500 && c != 501)
	}
	return m
}

func TestClassifyEveryStatus(t *testing.T) {
	// Real requests for 200..599; a server cannot answer a final 1xx, so
	// those are classified from a constructed response.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(c)
	}))
	defer srv.Close()
	want := retryTests()
	for c := 100; c <= 599; c++ {
		var e *Error
		if c < 200 {
			e = Classify(&http.Response{StatusCode: c, Header: http.Header{}}, nil)
		} else {
			resp, err := srv.Client().Get(fmt.Sprintf("%s/%d", srv.URL, c))
			if err != nil {
				t.Fatalf("GET %d: %v", c, err)
			}
			e = Classify(resp, nil)
			DrainBody(resp.Body)
		}
		retry, fails := want[c]
		switch {
		case !fails && e != nil:
			t.Errorf("status %d: %v, want success", c, e)
		case fails && e == nil:
			t.Errorf("status %d: success, want a failure", c)
		case fails && (e.Retryable != retry || e.Code != c || e.Reason == ""):
			t.Errorf("status %d: retryable=%v code=%d reason=%q, want retryable=%v", c, e.Retryable, e.Code,
				e.Reason, retry)
		}
	}
}

func TestClassifyRetryAfter(t *testing.T) {
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		code    int
		headers map[string]string
		min     time.Duration
		max     time.Duration
	}{
		{"429 seconds", 429, map[string]string{"Retry-After": "120"}, 120 * time.Second, 120 * time.Second},
		{"503 date", 503, map[string]string{"Retry-After": future}, 80 * time.Second, 90 * time.Second},
		{"429 opsgenie period", 429, map[string]string{"X-RateLimit-Period-In-Sec": "60"}, time.Minute, time.Minute},
		{"429 both, Retry-After wins", 429,
			map[string]string{"Retry-After": "5", "X-RateLimit-Period-In-Sec": "60"}, 5 * time.Second, 5 * time.Second},
		{"429 invalid", 429, map[string]string{"Retry-After": "soon"}, 0, 0},
		{"429 negative", 429, map[string]string{"Retry-After": "-3"}, 0, 0},
		{"500 period ignored", 500, map[string]string{"X-RateLimit-Period-In-Sec": "60"}, 0, 0},
		{"400 permanent, ignored", 400, map[string]string{"Retry-After": "120"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.code)
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer DrainBody(resp.Body)
			e := Classify(resp, nil)
			if e == nil {
				t.Fatal("success, want a failure")
			}
			if e.RetryAfter < tc.min || e.RetryAfter > tc.max {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", e.RetryAfter, tc.min, tc.max)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", time.Duration(1<<63 - 1), true},
		{"Mon, 02 Mar 2026 09:01:30 GMT", 90 * time.Second, true},         // RFC 1123
		{"Monday, 02-Mar-26 09:00:10 GMT", 10 * time.Second, true},        // RFC 850
		{"Mon Mar  2 09:00:05 2026", 5 * time.Second, true},               // ANSI C
		{"Mon, 02 Mar 2026 08:59:00 GMT", 0, true},                        // past
		{"Mon, 02 Mar 2026 09:00:00 GMT", 0, true},                        // now
		{"Mon, 32 Mar 2026 09:00:00 GMT", 0, false},                       // invalid date
		{"2026-03-02T09:01:00Z", 0, false},                                // not an HTTP date
		{"Mon, 02 Mar 2026 10:00:00 GMT", time.Hour, true},                // capped by Backoff, not here
		{"Mon, 02 Mar 2026 09:00:00 GMT trailing", 0, false},              // garbage
		{"Wed, 04 Mar 2026 09:00:00 GMT", 48 * time.Hour, true},           // days ahead
		{"Thu, 01 Jan 1970 00:00:00 GMT", 0, true},                        // epoch: past
		{"\t30", 30 * time.Second, true},                                  // whitespace
		{"30 seconds", 0, false},                                          // words
		{"0x10", 0, false},                                                // hex
		{"1e3", 0, false},                                                 // exponent
		{"١٢", 0, false},                                                  // non-ASCII digits
		{"Mon, 02 Mar 2026 09:00:01 GMT", time.Second, true},              // one second
		{"Mon, 02 Mar 2026 09:00:30 UTC", 0, false},                       // only GMT
		{"Mon, 02 Mar 2026 09:00:30 +0000", 0, false},                     // no offsets
		{"Sun, 06 Nov 1994 08:49:37 GMT", 0, true},                        // RFC 9110's example, past
		{"Fri, 31 Dec 9999 23:59:59 GMT", time.Duration(1<<63 - 1), true}, // saturates
	}
	for _, tc := range tests {
		got, ok := ParseRetryAfter(tc.in, now)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestClassifyTransportErrors(t *testing.T) {
	// Connection refused: a port that was just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/services/T0/B0/SECRETPATH?token=SECRETQUERY"
	l.Close()

	// Connection reset: accept, then close with SO_LINGER 0 (RST).
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1)
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer loop.Close()

	tests := []struct {
		name      string
		url       string
		client    *http.Client
		ctx       func() (context.Context, context.CancelFunc)
		retryable bool
		reason    string
		label     string
	}{
		{"refused", refused, http.DefaultClient, nil, true, "connection refused", "transport_error"},
		{"reset", "http://" + rl.Addr().String(), http.DefaultClient, nil, true, "connection reset", "transport_error"},
		{"client timeout", hang.URL, &http.Client{Timeout: 50 * time.Millisecond}, nil, true, "timeout", "timeout"},
		{"context deadline", hang.URL, http.DefaultClient, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, true, "timeout", "timeout"},
		{"canceled", hang.URL, http.DefaultClient, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, true, "canceled", "transport_error"},
		{"untrusted certificate", tlsSrv.URL, http.DefaultClient, nil, false, "TLS certificate not trusted", "error"},
		{"bad scheme", "ftp://example.invalid/x", http.DefaultClient, nil, false, "unsupported URL scheme", "error"},
		{"redirect loop", loop.URL + "/x", http.DefaultClient, nil, false, "too many redirects", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tc.client.Do(req)
			if err == nil {
				DrainBody(resp.Body)
				t.Fatalf("request succeeded with %d", resp.StatusCode)
			}
			e := Classify(resp, err)
			if e.Retryable != tc.retryable || e.Reason != tc.reason || e.Code != 0 {
				t.Errorf("got retryable=%v reason=%q code=%d (%v), want %v %q", e.Retryable, e.Reason, e.Code,
					e.Err, tc.retryable, tc.reason)
			}
			if got := FailureReason(e); got != tc.label {
				t.Errorf("FailureReason = %q, want %q", got, tc.label)
			}
			for _, s := range []string{describe(e), e.Error(), fmt.Sprint(e.Err)} {
				if strings.Contains(s, "SECRET") {
					t.Errorf("error leaks the URL: %s", s)
				}
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	ue := &url.Error{Op: "Post", URL: "https://hooks.slack.com/services/T0/B0/XYZSECRET", Err: io.EOF}
	for _, err := range []error{ue, fmt.Errorf("send: %w", ue)} {
		got := RedactURL(err)
		if strings.Contains(got.Error(), "XYZSECRET") {
			t.Errorf("RedactURL(%v) = %v", err, got)
		}
		if !strings.Contains(got.Error(), "https://hooks.slack.com") {
			t.Errorf("RedactURL(%v) = %v, want the host kept", err, got)
		}
		if !errors.Is(got, io.EOF) {
			t.Errorf("RedactURL(%v) lost the chain", err)
		}
	}
	if RedactURL(nil) != nil || RedactURL(io.EOF) != io.EOF {
		t.Error("RedactURL changed an error without a URL")
	}
}

func TestReadErrorBodyKeepsConnection(t *testing.T) {
	body := strings.Repeat("x", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Request body is not processable"}`+body)
	}))
	defer srv.Close()
	var reused []bool
	for range 2 {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			http.MethodGet, srv.URL, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ReadErrorBody(resp.Body, 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 64 || !strings.HasPrefix(string(b), `{"message":"Request body`) {
			t.Errorf("body = %q, want the first 64 bytes", b)
		}
	}
	if len(reused) != 2 || !reused[1] {
		t.Errorf("connection reused = %v, want the second request on the first connection", reused)
	}
	if b, err := ReadErrorBody(nil, 0); b != nil || err != nil {
		t.Errorf("ReadErrorBody(nil) = %q, %v", b, err)
	}
}

func TestFailureReason(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Code: 429, Retryable: true}, "rate_limited"},
		{Error{Code: 401}, "auth_error"},
		{Error{Code: 403}, "auth_error"},
		{Error{Code: 422}, "client_error"},
		{Error{Code: 503, Retryable: true}, "server_error"},
		{Error{Code: 200, Reason: "not_in_channel"}, "vendor_error"},
		{Error{Reason: "timeout", Retryable: true}, "timeout"},
		{Error{Err: context.DeadlineExceeded, Retryable: true}, "timeout"},
		{Error{Reason: "connection reset", Retryable: true}, "transport_error"},
		{Error{Reason: "template failed"}, "error"},
	}
	for _, tc := range tests {
		if got := FailureReason(&tc.e); got != tc.want {
			t.Errorf("FailureReason(%+v) = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestAsError(t *testing.T) {
	e := &Error{Reason: "not_in_channel", Code: 200}
	if got := AsError(fmt.Errorf("slack: %w", e)); got != e {
		t.Errorf("AsError(wrapped) = %v, want the *Error", got)
	}
	if got := AsError(errors.New("boom")); !got.Retryable || got.Reason != "transport error" {
		t.Errorf("AsError(plain) = %+v, want a retryable transport error", got)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
	if got := describe(&Error{Reason: "timeout", Err: errors.New("dial: i/o timeout"), Hint: "check"}); got !=
		"timeout: dial: i/o timeout (check)" {
		t.Errorf("describe = %q", got)
	}
}
