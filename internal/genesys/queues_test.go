package genesys_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/sim"
)

func TestListQueuesPages(t *testing.T) {
	for _, n := range []int{0, 1, 100, 101, 250} {
		specs := sim.DefaultQueues(n, 1)
		e := newEnv(t, fakegenesys.Options{Queues: specs}, genesys.Options{})
		if n == 0 {
			e = newEnv(t, fakegenesys.Options{Queues: []sim.QueueSpec{}}, genesys.Options{})
		}
		qs, err := e.client.ListQueues(testCtx(t), genesys.ListQueuesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != n {
			t.Errorf("%d queues: listed %d", n, len(qs))
		}
		pages := max((n+99)/100, 1)
		if got := e.fake.Requests(fakegenesys.EndpointQueues); got != pages {
			t.Errorf("%d queues: %d requests, want %d pages", n, got, pages)
		}
		page := 0
		for _, c := range e.fake.Calls() {
			if c.Endpoint != fakegenesys.EndpointQueues {
				continue
			}
			page++
			q, _ := url.ParseQuery(c.Query)
			if q.Get("pageSize") != "100" || q.Get("pageNumber") != strconv.Itoa(page) {
				t.Errorf("page %d: query %q", page, c.Query)
			}
		}
		seen := map[string]bool{}
		for _, q := range qs {
			if seen[q.ID] {
				t.Errorf("queue %s listed twice", q.ID)
			}
			seen[q.ID] = true
		}
	}
}

func TestQueueTargets(t *testing.T) {
	specs := []sim.QueueSpec{
		{ID: "11111111-0000-4000-8000-000000000001", Name: "VIP Support", MediaType: "voice", Agents: 3, HandleTime: time.Minute, TargetPercent: 90, TargetAnswer: 15 * time.Second},
		{ID: "11111111-0000-4000-8000-000000000002", Name: "Support - Chat", MediaType: "chat", Agents: 3, HandleTime: time.Minute, TargetPercent: 75, TargetAnswer: time.Minute},
	}
	e := newEnv(t, fakegenesys.Options{Queues: specs}, genesys.Options{})
	ctx := testCtx(t)
	q, err := e.client.GetQueue(ctx, specs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := q.Targets["call"]; ok {
		t.Error(`the "call" setting is not mapped to "voice"`)
	}
	if got := q.Targets["voice"]; got != (genesys.ServiceLevel{Percent: 90, Threshold: 15 * time.Second}) {
		t.Errorf("voice target = %+v, want 90%% in 15s", got)
	}
	if got := q.Targets["email"]; got.Threshold != 24*time.Hour {
		t.Errorf("email target = %+v, want 24h", got)
	}
	if q.Name != "VIP Support" || q.MemberCount != 3 || q.DivisionName != "Home" {
		t.Errorf("queue = %+v", q)
	}
	c, err := e.client.GetQueue(ctx, specs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Target(""); got.Percent != 75 {
		t.Errorf("queue target of a chat queue = %+v", got)
	}
	samples := c.TargetSamples(t0, metric.SourcePoll)
	if len(samples) != 6 || samples[0].MediaType != "" || samples[0].Metric != metric.ServiceLevelTarget || samples[0].Value != 75 {
		t.Errorf("TargetSamples = %+v", samples)
	}
	_, err = e.client.GetQueue(ctx, "no-such-queue")
	if genesys.StatusOf(err) != http.StatusNotFound {
		t.Errorf("unknown queue: %v, want a 404", err)
	}
	// The name filter and ids are passed on.
	qs, err := e.client.ListQueues(ctx, genesys.ListQueuesOptions{Name: "Support*"})
	if err != nil || len(qs) != 1 || qs[0].ID != specs[1].ID {
		t.Errorf("ListQueues(Support*) = %+v, %v", qs, err)
	}
	qs, err = e.client.ListQueues(ctx, genesys.ListQueuesOptions{IDs: []string{specs[0].ID}})
	if err != nil || len(qs) != 1 || qs[0].ID != specs[0].ID {
		t.Errorf("ListQueues(id) = %+v, %v", qs, err)
	}
}

func TestQueueTargetFromFixture(t *testing.T) {
	// The queue of the reference (§2.2), verbatim in what matters.
	c, _ := fixtureServer(t, map[string]answer{"/api/v2/routing/queues/1d1af111-b11c-11f1-b111-1cf1c11111fc": {body: `{
	  "id": "1d1af111-b11c-11f1-b111-1cf1c11111fc", "name": "Support - Voice",
	  "division": { "id": "f3", "name": "Home" }, "memberCount": 12, "joinedMemberCount": 9,
	  "mediaSettings": {
	    "call":     { "alertingTimeoutSeconds": 8,  "enableAutoAnswer": false, "serviceLevel": { "percentage": 0.8, "durationMs": 20000 } },
	    "callback": { "alertingTimeoutSeconds": 30, "serviceLevel": { "percentage": 0.8, "durationMs": 20000 }, "mode": "AgentFirst" },
	    "chat":     { "alertingTimeoutSeconds": 30, "serviceLevel": { "percentage": 0.85, "durationMs": 30000 } },
	    "email":    { "alertingTimeoutSeconds": 300, "serviceLevel": { "percentage": 0.8, "durationMs": 86400000 } },
	    "message":  { "alertingTimeoutSeconds": 30, "serviceLevel": { "percentage": 0.8, "durationMs": 20000 }, "subTypeSettings": {} }
	  }}`}})
	q, err := c.GetQueue(testCtx(t), "1d1af111-b11c-11f1-b111-1cf1c11111fc")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]genesys.ServiceLevel{
		"voice":    {Percent: 80, Threshold: 20 * time.Second},
		"callback": {Percent: 80, Threshold: 20 * time.Second},
		"chat":     {Percent: 85, Threshold: 30 * time.Second},
		"email":    {Percent: 80, Threshold: 24 * time.Hour},
		"message":  {Percent: 80, Threshold: 20 * time.Second},
	}
	if !reflect.DeepEqual(q.Targets, want) {
		t.Errorf("Targets = %+v\nwant %+v", q.Targets, want)
	}
	if q.JoinedMemberCount != 9 {
		t.Errorf("JoinedMemberCount = %d", q.JoinedMemberCount)
	}
}

func TestSelectQueues(t *testing.T) {
	qs := []genesys.Queue{
		{ID: "id-1", Name: "Support - Voice"},
		{ID: "id-2", Name: "Support - Chat"},
		{ID: "id-3", Name: "Sales - Voice"},
		{ID: "id-4", Name: "VIP Support"},
	}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{"all", []string{"*"}, nil, []string{"id-1", "id-2", "id-3", "id-4"}},
		{"none", nil, nil, nil},
		{"glob", []string{"Support*"}, nil, []string{"id-1", "id-2"}},
		{"suffix glob", []string{"* - Voice"}, nil, []string{"id-1", "id-3"}},
		{"exact name", []string{"VIP Support"}, nil, []string{"id-4"}},
		{"id", []string{"id-3"}, nil, []string{"id-3"}},
		{"exclude glob", []string{"*"}, []string{"*Chat"}, []string{"id-1", "id-3", "id-4"}},
		{"exclude id", []string{"Support*"}, []string{"id-1"}, []string{"id-2"}},
		{"case matters", []string{"support*"}, nil, nil},
		{"malformed pattern", []string{"[Support"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := genesys.QueueIDs(genesys.SelectQueues(qs, tt.include, tt.exclude))
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SelectQueues(%q, %q) = %q, want %q", tt.include, tt.exclude, got, tt.want)
			}
		})
	}
}
