package genesys_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

var t0 = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

// fixture is a running fake, its clock and a valid token.
type fixture struct {
	srv   *fakegenesys.Server
	clock *fakegenesys.ManualClock
	url   string
	token string
	ids   []string
}

func start(t *testing.T, opts fakegenesys.Options) *fixture {
	t.Helper()
	f := &fixture{clock: fakegenesys.NewManualClock(t0)}
	opts.Clock = f.clock
	ttl := opts.TokenTTL
	if ttl == 0 {
		ttl = fakegenesys.DefaultTokenTTL
	}
	if opts.Queues == nil && opts.Sim == nil {
		opts.Queues = sim.DefaultQueues(3, 5)
	}
	for _, q := range opts.Queues {
		f.ids = append(f.ids, q.ID)
	}
	f.srv = fakegenesys.New(opts)
	f.url = f.srv.Start(t)
	res := f.do(t, "POST", "/oauth/token", "grant_type=client_credentials", map[string]string{
		"Authorization": "Basic " + basic(fakegenesys.DefaultClientID, fakegenesys.DefaultClientSecret),
		"Content-Type":  "application/x-www-form-urlencoded"})
	if res.status != 200 {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	var tok struct {
		AccessToken string  `json:"access_token"`
		TokenType   string  `json:"token_type"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(res.body), &tok); err != nil || tok.TokenType != "bearer" || tok.ExpiresIn != ttl.Seconds() {
		t.Fatalf("token answer %s: %v", res.body, err)
	}
	f.token = tok.AccessToken
	return f
}

type result struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, method, path, body string, header map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

// api sends an authenticated JSON request.
func (f *fixture) api(t *testing.T, method, path, body string) result {
	t.Helper()
	return f.do(t, method, path, body, map[string]string{"Authorization": "Bearer " + f.token, "Content-Type": "application/json"})
}

func basic(id, secret string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(id, secret)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// errorCode checks the standard error body and returns its code.
func errorCode(t *testing.T, r result) string {
	t.Helper()
	var b struct {
		Message   string `json:"message"`
		Code      string `json:"code"`
		Status    int    `json:"status"`
		ContextID string `json:"contextId"`
	}
	if err := json.Unmarshal([]byte(r.body), &b); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if b.Status != r.status || b.Message == "" || b.ContextID == "" || b.ContextID != r.header.Get("ININ-Correlation-Id") {
		t.Errorf("error body %s does not follow the standard (status %d, correlation %q)", r.body, r.status, r.header.Get("ININ-Correlation-Id"))
	}
	return b.Code
}

func obsBody(ids []string, metrics string) string {
	var preds []string
	for _, id := range ids {
		preds = append(preds, fmt.Sprintf(`{"dimension":"queueId","value":%q}`, id))
	}
	return fmt.Sprintf(`{"filter":{"type":"or","predicates":[%s]},"metrics":%s}`, strings.Join(preds, ","), metrics)
}

func TestRejectsWhatGenesysRejects(t *testing.T) {
	f := start(t, fakegenesys.Options{})
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("q%03d", i)
	}
	const obs = "/api/v2/analytics/queues/observations/query"
	const agg = "/api/v2/analytics/conversations/aggregates/query"
	tests := []struct {
		name, method, path, body string
		header                   map[string]string // nil: a valid bearer token
		status                   int
		code                     string
	}{
		{"no bearer", "GET", "/api/v2/routing/queues", "", map[string]string{}, 401, "authentication.required"},
		{"unknown token", "GET", "/api/v2/routing/queues", "", map[string]string{"Authorization": "Bearer nope"}, 401, "bad.credentials"},
		{"basic on the api", "GET", "/api/v2/routing/queues", "", map[string]string{"Authorization": "Basic " + basic("a", "b")}, 401, "authentication.required"},
		{"unknown route", "GET", "/api/v2/routing/queuez", "", nil, 404, "not.found"},
		{"invented queue aggregates endpoint", "POST", "/api/v2/analytics/queues/aggregates/query", "{}", nil, 404, "not.found"},
		{"unknown queue", "GET", "/api/v2/routing/queues/nope", "", nil, 404, "not.found"},
		{"wrong method", "DELETE", "/api/v2/routing/queues", "", nil, 405, "method.not.allowed"},
		{"pageSize too large", "GET", "/api/v2/routing/queues?pageSize=501", "", nil, 400, "invalid.value"},
		{"pageNumber not a number", "GET", "/api/v2/routing/queues?pageNumber=x", "", nil, 400, "invalid.value"},
		{"observations: not JSON", "POST", obs, "{", nil, 400, "bad.request"},
		{"observations: no filter", "POST", obs, `{"metrics":["oWaiting"]}`, nil, 400, "bad.request"},
		{"observations: no metrics", "POST", obs, `{"filter":{"type":"or","predicates":[{"dimension":"queueId","value":"q"}]}}`, nil, 400, "bad.request"},
		{"observations: unknown metric", "POST", obs, obsBody([]string{"q"}, `["oServiceLevel"]`), nil, 400, "bad.request"},
		{"observations: detail oLongestWaiting", "POST", obs, `{"filter":{"type":"or","predicates":[{"dimension":"queueId","value":"q"}]},"metrics":["oWaiting"],"detailMetrics":["oLongestWaiting"]}`, nil, 400, "bad.request"},
		{"observations: bad dimension", "POST", obs, `{"filter":{"type":"or","predicates":[{"dimension":"userId","value":"u"}]},"metrics":["oWaiting"]}`, nil, 400, "bad.request"},
		{"observations: bad filter type", "POST", obs, `{"filter":{"type":"xor","predicates":[{"dimension":"queueId","value":"q"}]},"metrics":["oWaiting"]}`, nil, 400, "bad.request"},
		{"observations: bad operator", "POST", obs, `{"filter":{"type":"or","predicates":[{"dimension":"queueId","operator":"like","value":"q"}]},"metrics":["oWaiting"]}`, nil, 400, "bad.request"},
		{"observations: 101 queues", "POST", obs, obsBody(many, `["oWaiting"]`), nil, 400, "bad.request"},
		{"observations: over 512000 bytes", "POST", obs, `{"metrics":["` + strings.Repeat("x", 512001) + `"]}`, nil, 413, "request.entity.too.large"},
		{"aggregates: no interval", "POST", agg, `{"metrics":["nOffered"]}`, nil, 400, "bad.request"},
		{"aggregates: bad interval", "POST", agg, `{"interval":"yesterday","metrics":["nOffered"]}`, nil, 400, "invalid.date"},
		{"aggregates: backwards interval", "POST", agg, `{"interval":"2026-05-14T10:00:00Z/2026-05-14T09:00:00Z","metrics":["nOffered"]}`, nil, 400, "invalid.date"},
		{"aggregates: no metrics", "POST", agg, `{"interval":"2026-05-14T09:00:00Z/2026-05-14T10:00:00Z"}`, nil, 400, "bad.request"},
		{"aggregates: unknown metric", "POST", agg, `{"interval":"2026-05-14T09:00:00Z/2026-05-14T10:00:00Z","metrics":["oWaiting"]}`, nil, 400, "bad.request"},
		{"aggregates: unknown groupBy", "POST", agg, `{"interval":"2026-05-14T09:00:00Z/2026-05-14T10:00:00Z","metrics":["nOffered"],"groupBy":["planet"]}`, nil, 400, "bad.request"},
		{"aggregates: bad granularity", "POST", agg, `{"interval":"2026-05-14T09:00:00Z/2026-05-14T10:00:00Z","metrics":["nOffered"],"granularity":"fortnightly"}`, nil, 400, "bad.request"},
		{"subscriptions: unknown channel", "PUT", "/api/v2/notifications/channels/streaming-0-x/subscriptions", `[]`, nil, 404, "not.found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r result
			if tt.header == nil {
				r = f.api(t, tt.method, tt.path, tt.body)
			} else {
				r = f.do(t, tt.method, tt.path, tt.body, tt.header)
			}
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if code := errorCode(t, r); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
		})
	}
}

func TestTokenEndpointRejects(t *testing.T) {
	f := start(t, fakegenesys.Options{})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(auth string) map[string]string {
		h := map[string]string{"Content-Type": form["Content-Type"]}
		if auth != "" {
			h["Authorization"] = auth
		}
		return h
	}
	good := "Basic " + basic(fakegenesys.DefaultClientID, fakegenesys.DefaultClientSecret)
	tests := []struct {
		name, body string
		header     map[string]string
		status     int
		oauthError string
	}{
		{"wrong secret", "grant_type=client_credentials", with("Basic " + basic(fakegenesys.DefaultClientID, "x")), 401, "invalid_client"},
		{"no client authentication", "grant_type=client_credentials", with(""), 401, "invalid_client"},
		{"JSON body", `{"grant_type":"client_credentials"}`, map[string]string{"Authorization": good, "Content-Type": "application/json"}, 400, "invalid_request"},
		{"no grant type", "", with(good), 400, "invalid_request"},
		{"password grant", "grant_type=password", with(good), 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", "/oauth/token", tt.body, tt.header)
			var b map[string]string
			_ = json.Unmarshal([]byte(r.body), &b)
			if r.status != tt.status || b["error"] != tt.oauthError || b["error_description"] == "" || b["description"] == "" {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tt.status, tt.oauthError)
			}
		})
	}
	if r := f.do(t, "GET", "/oauth/token", "", nil); r.status != 405 {
		t.Errorf("GET /oauth/token: %d", r.status)
	}
}

func TestTokensExpire(t *testing.T) {
	f := start(t, fakegenesys.Options{TokenTTL: 5 * time.Minute})
	if r := f.api(t, "GET", "/api/v2/routing/queues", ""); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	f.clock.Advance(5 * time.Minute)
	if r := f.api(t, "GET", "/api/v2/routing/queues", ""); r.status != 401 || errorCode(t, r) != "bad.credentials" {
		t.Errorf("expired token: %d %s", r.status, r.body)
	}
}

func TestRateLimit(t *testing.T) {
	f := start(t, fakegenesys.Options{RateLimit: 3})
	for i := range 3 {
		if r := f.api(t, "GET", "/api/v2/routing/queues", ""); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		f.clock.Advance(10 * time.Second)
	}
	r := f.api(t, "GET", "/api/v2/routing/queues", "")
	if r.status != 429 || r.header.Get("Retry-After") != "30" || errorCode(t, r) != "too.many.requests.retry.after" ||
		!strings.Contains(r.body, "Retry the request in [30] seconds") {
		t.Fatalf("4th request: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	f.clock.Advance(30 * time.Second)
	if r := f.api(t, "GET", "/api/v2/routing/queues", ""); r.status != 200 {
		t.Errorf("after Retry-After: %d", r.status)
	}
	// At t0+60s the window (t0, t0+60s] holds the requests of t0+10s,
	// t0+20s, t0+30s (refused) and t0+60s.
	if n := f.srv.MaxRequestsInWindow("queues", time.Minute); n != 4 {
		t.Errorf("MaxRequestsInWindow = %d, want 4", n)
	}
}

func TestQueueListing(t *testing.T) {
	specs := sim.DefaultQueues(30, 9)
	f := start(t, fakegenesys.Options{Queues: specs})
	var l struct {
		Entities []struct {
			ID, Name string
		}
		PageSize, PageNumber, Total, PageCount int
		FirstURI                               string `json:"firstUri"`
		NextURI                                string `json:"nextUri"`
		PreviousURI                            string `json:"previousUri"`
		LastURI                                string `json:"lastUri"`
	}
	get := func(q string) {
		t.Helper()
		l.NextURI, l.PreviousURI, l.Entities = "", "", nil
		r := f.api(t, "GET", "/api/v2/routing/queues?"+q, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		if err := json.Unmarshal([]byte(r.body), &l); err != nil {
			t.Fatal(err)
		}
	}
	get("")
	if l.PageSize != 25 || l.PageNumber != 1 || l.Total != 30 || l.PageCount != 2 || len(l.Entities) != 25 || l.NextURI == "" || l.PreviousURI != "" {
		t.Errorf("defaults: %+v", l)
	}
	get("pageSize=0&pageNumber=0") // what the Go SDK sends
	if l.PageSize != 25 || l.PageNumber != 1 {
		t.Errorf("pageSize=0: %+v", l)
	}
	get("pageSize=10&pageNumber=3")
	if len(l.Entities) != 10 || l.NextURI != "" || l.PreviousURI == "" || l.PageCount != 3 {
		t.Errorf("last page: %+v", l)
	}
	get("name=" + url.QueryEscape("support*"))
	for _, e := range l.Entities {
		if !strings.HasPrefix(strings.ToLower(e.Name), "support") {
			t.Errorf("name=support*: got %q", e.Name)
		}
	}
	if l.Total == 0 {
		t.Error("name=support*: nothing")
	}
	get("id=" + specs[0].ID + "&id=" + specs[1].ID)
	if l.Total != 2 {
		t.Errorf("repeated ids: %d queues", l.Total)
	}
	get("id=" + url.QueryEscape(specs[0].ID+","+specs[2].ID))
	if l.Total != 2 {
		t.Errorf("comma-joined ids: %d queues", l.Total)
	}
	get("sortOrder=desc&pageSize=100")
	for i := 1; i < len(l.Entities); i++ {
		if l.Entities[i-1].Name < l.Entities[i].Name {
			t.Fatalf("desc order broken at %d", i)
		}
	}
}
