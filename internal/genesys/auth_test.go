package genesys_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

func TestTokenSharedByConcurrentCallers(t *testing.T) {
	qs := sim.DefaultQueues(3, 7)
	e2 := newEnv(t, fakegenesys.Options{Queues: qs}, genesys.Options{RequestBudget: 300})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				errs <- e2.client.Authenticate(ctx)
				return
			}
			_, err := e2.client.GetQueue(ctx, qs[i%len(qs)].ID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e2.fake.Requests(fakegenesys.EndpointToken); n != 1 {
		t.Errorf("%d token requests for 100 concurrent callers, want 1", n)
	}
	if n := e2.client.TokensIssued(); n != 1 {
		t.Errorf("client obtained %d tokens, want 1", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{TokenTTL: 10 * time.Minute}, genesys.Options{})
	ctx := testCtx(t)
	call := func() {
		t.Helper()
		if _, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	call()
	e.clock.Advance(8 * time.Minute)
	call()
	if n := e.fake.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens before the renewal window, want 1", n)
	}
	// 10% of the lifetime (1 minute) before expiry, the token is renewed in
	// the background while the current one keeps serving.
	e.clock.Advance(90 * time.Second)
	call()
	eventually(t, "the renewal", func() bool { return e.client.TokensIssued() == 2 })
	// Past the first token's expiry nothing is refused.
	e.clock.Advance(time.Minute)
	call()
	if n := e.hits.get(genesys.EndpointQueues, http.StatusUnauthorized); n != 0 {
		t.Errorf("%d requests refused with 401, want none", n)
	}
	if n := e.fake.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
}

func TestTokenEndpointFailuresBackOff(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{}, genesys.Options{TokenBackoff: time.Second, MaxTokenBackoff: time.Minute})
	ctx := testCtx(t)
	e.fake.FailToken(3, http.StatusServiceUnavailable, 0)
	steps := []struct {
		advance  time.Duration
		requests int // token requests the fake has seen after the call
		backoff  bool
		ok       bool
	}{
		{0, 1, false, false},               // fails: back off 1s
		{0, 1, true, false},                // within 1s: not sent
		{time.Second, 2, false, false},     // fails: back off 2s
		{time.Second, 2, true, false},      // within 2s: not sent
		{time.Second, 3, false, false},     // fails: back off 4s
		{3 * time.Second, 3, true, false},  // within 4s
		{time.Second, 4, false, true},      // succeeds
		{10 * time.Second, 4, false, true}, // cached
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		err := e.client.Authenticate(ctx)
		if got := e.fake.Requests(fakegenesys.EndpointToken); got != s.requests {
			t.Errorf("step %d: %d token requests, want %d", i, got, s.requests)
		}
		if s.ok != (err == nil) {
			t.Fatalf("step %d: err = %v, want ok=%v", i, err, s.ok)
		}
		if errors.Is(err, genesys.ErrTokenBackoff) != s.backoff {
			t.Errorf("step %d: err = %v, want backoff=%v", i, err, s.backoff)
		}
		var ae *genesys.AuthError
		if err != nil && !errors.As(err, &ae) {
			t.Errorf("step %d: %v is not an *AuthError", i, err)
		}
	}
}

func TestTokenEndpoint429HonoursRetryAfter(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{}, genesys.Options{})
	ctx := testCtx(t)
	e.fake.FailToken(1, http.StatusTooManyRequests, 30*time.Second)
	err := e.client.Authenticate(ctx)
	if ra, ok := genesys.RetryAfter(err); !ok || ra != 30*time.Second {
		t.Fatalf("RetryAfter(%v) = %v, %v; want 30s", err, ra, ok)
	}
	e.clock.Advance(29 * time.Second)
	if err := e.client.Authenticate(ctx); !errors.Is(err, genesys.ErrTokenBackoff) {
		t.Fatalf("after 29s: %v, want a backoff", err)
	}
	e.clock.Advance(time.Second)
	if err := e.client.Authenticate(ctx); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
}

func TestUnauthorizedRenewsOnceAndRetries(t *testing.T) {
	e := newEnv(t, fakegenesys.Options{}, genesys.Options{})
	ctx := testCtx(t)
	if err := e.client.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireTokens()
	if _, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{}); err != nil {
		t.Fatalf("after the token was revoked: %v", err)
	}
	if n := e.fake.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
	if n := e.hits.get(genesys.EndpointQueues, http.StatusUnauthorized); n != 1 {
		t.Errorf("%d 401 answers, want 1", n)
	}

	// A server that refuses every token is asked twice, not forever.
	e.fake.Faults.Add(faults.Fault{Status: 401, Times: -1, Path: "/api/v2/routing/queues",
		Body: `{"message":"Invalid login credentials.","code":"bad.credentials","status":401}`})
	before := e.fake.Requests(fakegenesys.EndpointQueues)
	_, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	if genesys.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401", err)
	}
	if n := e.fake.Requests(fakegenesys.EndpointQueues) - before; n != 2 {
		t.Errorf("%d requests, want 2 (one retry)", n)
	}
}

// recordingTransport remembers the bearer tokens the client sent.
type recordingTransport struct {
	mu     sync.Mutex
	tokens []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		rt.mu.Lock()
		rt.tokens = append(rt.tokens, v)
		rt.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const secret = "s3cr3t-value-that-must-not-leak"
	rt := &recordingTransport{}
	e := newEnv(t, fakegenesys.Options{ClientSecret: secret}, genesys.Options{
		ClientID: fakegenesys.DefaultClientID, ClientSecret: secret, HTTPClient: &http.Client{Transport: rt}})
	ctx := testCtx(t)
	var texts []string
	note := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	opts := genesys.Options{ClientID: "x", ClientSecret: secret}
	texts = append(texts, fmt.Sprint(opts), fmt.Sprintf("%+v", opts), fmt.Sprintf("%#v", opts))

	// API failures: 401 retried, 429, 500, a dropped connection.
	note(e.client.Authenticate(ctx))
	e.fake.ExpireTokens()
	_, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	note(err)
	e.fake.RateLimitAnalytics(1, 5*time.Second)
	_, err = e.client.QueueObservations(ctx, []string{"q"})
	note(err)
	e.clock.Advance(5 * time.Second)
	e.fake.Faults.Add(faults.Fault{Status: 500, Path: "/api/v2/routing"})
	_, err = e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	note(err)
	e.fake.Faults.Add(faults.Fault{Drop: true, Path: "/api/v2/routing"})
	_, err = e.client.ListQueues(ctx, genesys.ListQueuesOptions{})
	note(err)
	// Token failures: wrong secret, 500, dropped connection.
	bad := newEnv(t, fakegenesys.Options{}, genesys.Options{ClientID: fakegenesys.DefaultClientID, ClientSecret: secret})
	note(bad.client.Authenticate(ctx))
	bad.clock.Advance(time.Hour)
	bad.fake.Faults.Add(faults.Fault{Drop: true, Path: "/oauth/token"})
	note(bad.client.Authenticate(ctx))
	texts = append(texts, e.logs.String(), bad.logs.String())

	rt.mu.Lock()
	tokens := append([]string(nil), rt.tokens...)
	rt.mu.Unlock()
	if len(tokens) == 0 {
		t.Fatal("no token was sent")
	}
	for _, text := range texts {
		if strings.Contains(text, secret) {
			t.Errorf("the client secret leaked: %s", text)
		}
		for _, tok := range tokens {
			if strings.Contains(text, tok) {
				t.Errorf("an access token leaked: %s", text)
			}
		}
	}
	if !strings.Contains(bad.logs.String(), "invalid_client") {
		t.Errorf("the logs do not say why the token was refused:\n%s", bad.logs.String())
	}
}
