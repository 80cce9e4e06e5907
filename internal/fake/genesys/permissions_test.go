package genesys_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// startDenied starts a fake whose OAuth client lacks perms, with a token.
func startDenied(t *testing.T, perms ...string) *fixture {
	t.Helper()
	f := &fixture{clock: fakegenesys.NewManualClock(t0)}
	queues := sim.DefaultQueues(2, 5)
	for _, q := range queues {
		f.ids = append(f.ids, q.ID)
	}
	f.srv = fakegenesys.New(fakegenesys.Options{Clock: f.clock, Queues: queues})
	f.srv.DenyPermissions(perms...)
	f.url = f.srv.Start(t)
	res := f.do(t, "POST", "/oauth/token", "grant_type=client_credentials", map[string]string{
		"Authorization": "Basic " + basic(fakegenesys.DefaultClientID, fakegenesys.DefaultClientSecret),
		"Content-Type":  "application/x-www-form-urlencoded"})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if res.status != 200 || json.Unmarshal([]byte(res.body), &tok) != nil {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	f.token = tok.AccessToken
	return f
}

func TestDenyPermissions(t *testing.T) {
	const (
		obs = "/api/v2/analytics/queues/observations/query"
		agg = "/api/v2/analytics/conversations/aggregates/query"
	)
	aggBody := func(id string) string {
		return fmt.Sprintf(`{"interval":"2026-05-14T10:00:00.000Z/2026-05-14T10:30:00.000Z","filter":{"type":"or","predicates":[{"dimension":"queueId","value":%q}]},"metrics":["nOffered"]}`, id)
	}
	tests := []struct {
		name         string
		deny         []string
		method, path string
		body         func(f *fixture) string
		status       int
	}{
		{"queues denied", []string{fakegenesys.PermQueueView}, "GET", "/api/v2/routing/queues", nil, 403},
		{"one queue denied", []string{fakegenesys.PermQueueView}, "GET", "/api/v2/routing/queues/x", nil, 403},
		{"observations denied", []string{fakegenesys.PermQueueObservation}, "POST", obs,
			func(f *fixture) string { return obsBody(f.ids[:1], `["oWaiting"]`) }, 403},
		{"aggregates denied", []string{fakegenesys.PermConversationAggregate}, "POST", agg,
			func(f *fixture) string { return aggBody(f.ids[0]) }, 403},
		{"other permission denied: queues still served", []string{fakegenesys.PermConversationAggregate}, "GET", "/api/v2/routing/queues", nil, 200},
		{"other permission denied: observations still served", []string{fakegenesys.PermQueueView}, "POST", obs,
			func(f *fixture) string { return obsBody(f.ids[:1], `["oWaiting"]`) }, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startDenied(t, tc.deny...)
			body := ""
			if tc.body != nil {
				body = tc.body(f)
			}
			r := f.api(t, tc.method, tc.path, body)
			if r.status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			}
			if tc.status == 403 {
				if code := errorCode(t, r); code != "missing.permissions" {
					t.Errorf("code %q, want missing.permissions", code)
				}
				if !strings.Contains(r.body, tc.deny[0]) {
					t.Errorf("message does not name %s: %s", tc.deny[0], r.body)
				}
				calls := f.srv.Calls()
				if last := calls[len(calls)-1]; last.Path != tc.path || last.Status != 403 {
					t.Errorf("refused call not logged: %+v", last)
				}
			}
		})
	}
}

func TestDenyPermissionsAfterTokenCheck(t *testing.T) {
	f := startDenied(t, fakegenesys.PermQueueView)
	r := f.do(t, "GET", "/api/v2/routing/queues", "", map[string]string{"Authorization": "Bearer nope"})
	if r.status != 401 || errorCode(t, r) != "bad.credentials" {
		t.Fatalf("unknown token got %d %s, want 401 bad.credentials", r.status, r.body)
	}
}

func TestDenyPermissionsTopics(t *testing.T) {
	f := startDenied(t, fakegenesys.PermQueueObservation)
	ch := f.api(t, "POST", "/api/v2/notifications/channels", "")
	var c struct {
		ID string `json:"id"`
	}
	if ch.status != 200 || json.Unmarshal([]byte(ch.body), &c) != nil {
		t.Fatalf("create channel: %d %s", ch.status, ch.body)
	}
	sub := "/api/v2/notifications/channels/" + c.ID + "/subscriptions"
	topic := "v2.analytics.queues." + f.ids[0] + ".observations"
	other := "v2.routing.queues." + f.ids[0] + ".conversations"
	body := fmt.Sprintf(`[{"id":%q},{"id":%q}]`, topic, other)

	r := f.api(t, "PUT", sub+"?ignoreErrors=false", body)
	if r.status != 403 || errorCode(t, r) != "missing.permissions" {
		t.Fatalf("subscribe without ignoreErrors: %d %s, want 403 missing.permissions", r.status, r.body)
	}
	if got := f.srv.Channels()[0].Topics; len(got) != 0 {
		t.Fatalf("a refused subscription changed the topics: %v", got)
	}

	r = f.api(t, "PUT", sub+"?ignoreErrors=true", body)
	if r.status != 200 {
		t.Fatalf("subscribe with ignoreErrors: %d %s", r.status, r.body)
	}
	var l struct {
		Entities []struct {
			ID                 string   `json:"id"`
			State              string   `json:"state"`
			MissingPermissions []string `json:"missingPermissions"`
		} `json:"entities"`
	}
	if err := json.Unmarshal([]byte(r.body), &l); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, e := range l.Entities {
		states[e.ID] = e.State
		if e.State == "Rejected" && (len(e.MissingPermissions) != 1 || e.MissingPermissions[0] != fakegenesys.PermQueueObservation) {
			t.Errorf("rejected topic %s lists missing permissions %v", e.ID, e.MissingPermissions)
		}
	}
	if states[topic] != "Rejected" || states[other] != "Permitted" {
		t.Fatalf("states %v, want %s Rejected and %s Permitted", states, topic, other)
	}
	if got := f.srv.Channels()[0].Topics; len(got) != 1 || got[0] != other {
		t.Fatalf("channel topics %v, want only %s", got, other)
	}
}
