package pagerduty_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/alert"
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	"github.com/queuewatch/queuewatch/internal/notify/pagerduty"
)

func TestTriggerUpdateResolveIsOneIncident(t *testing.T) {
	fake, n := setup(t, nil)

	r := mustSend(t, n, delivery(1, alert.ActionCreate, alert.P2))
	if r.Code != 202 || r.Ref != "q1_sla_breach" || r.Note != "Event processed" {
		t.Fatalf("receipt %+v", r)
	}
	up := delivery(2, alert.ActionUpdate, alert.P1)
	up.Transition.PrevPriority, up.Transition.Reason = alert.P2, "priority P2 → P1"
	mustSend(t, n, up)
	mustSend(t, n, delivery(3, alert.ActionResolve, alert.P1))

	incs := fake.Incidents()
	if len(incs) != 1 {
		t.Fatalf("want one incident, got %d: %+v", len(incs), incs)
	}
	in := incs[0]
	if in.DedupKey != "q1_sla_breach" || in.Status != fakepd.Resolved || in.Triggers != 2 || len(in.Events) != 3 {
		t.Fatalf("incident %+v", in)
	}
	if in.Severity != "error" {
		t.Errorf("opening severity %q, want error", in.Severity)
	}
	re := in.Events[1]
	if re.Action != "trigger" || re.Payload.Severity != "critical" || !strings.Contains(re.Payload.Summary, "priority P2 → P1") {
		t.Errorf("re-trigger %+v", re.Payload)
	}
	if in.Last().Action != "resolve" || in.Last().Payload != nil {
		t.Errorf("resolve event %+v", in.Last())
	}

	// The next episode of the same key is a new incident.
	mustSend(t, n, delivery(4, alert.ActionCreate, alert.P3))
	incs = fake.Incidents()
	if len(incs) != 2 || incs[1].Status != fakepd.Triggered || incs[1].DedupKey != "q1_sla_breach" {
		t.Fatalf("second episode: %+v", incs)
	}
	if fake.Dropped() != 0 {
		t.Errorf("dropped %d events", fake.Dropped())
	}
}

func TestResolveOfUnknownIncidentIsAccepted(t *testing.T) {
	fake, n := setup(t, nil)
	r := mustSend(t, n, delivery(1, alert.ActionResolve, alert.P1))
	if r.Code != 202 || len(fake.Incidents()) != 0 || fake.Dropped() != 1 {
		t.Fatalf("receipt %+v, incidents %+v, dropped %d", r, fake.Incidents(), fake.Dropped())
	}
}

func TestSeverityMapping(t *testing.T) {
	tests := []struct {
		prio alert.Priority
		want string
	}{
		{alert.P1, "critical"},
		{alert.P2, "error"},
		{alert.P3, "warning"},
		{alert.P4, "info"},
		{alert.P5, "info"},
		{"", "warning"},
	}
	fake, n := setup(t, nil)
	for i, tt := range tests {
		t.Run(string(tt.prio), func(t *testing.T) {
			if got := pagerduty.Severity(tt.prio); got != tt.want {
				t.Errorf("Severity(%q) = %q, want %q", tt.prio, got, tt.want)
			}
			d := delivery(int64(i), alert.ActionCreate, tt.prio)
			d.Key = "q1_rule" + string(rune('a'+i))
			mustSend(t, n, d)
			incs := fake.Incidents()
			if got := incs[len(incs)-1].Severity; got != tt.want {
				t.Errorf("sent severity %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPayloadFields(t *testing.T) {
	fake, n := setup(t, nil)
	d := delivery(1, alert.ActionCreate, alert.P1)
	d.Transition.MediaType, d.Transition.Target = "voice", 80
	mustSend(t, n, d)
	ev := fake.Incidents()[0].Events[0]
	p := ev.Payload
	checks := []struct{ name, got, want string }{
		{"source", p.Source, "queuewatch"},
		{"component", p.Component, "Billing DE/voice"},
		{"group", p.Group, "sla_breach"},
		{"class", p.Class, "service_level"},
		{"timestamp", p.Timestamp, "2026-08-25T09:14:03.000Z"},
		{"summary", p.Summary, "[P1] Queue Billing DE/voice: service_level is 62.5% (threshold 80%)"},
		{"client", ev.Client, "queuewatch"},
		{"client_url", ev.ClientURL, "https://queuewatch.example.com"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	cd := p.CustomDetails
	if cd["value"] != 62.5 || cd["threshold"] != 80.0 || cd["target"] != 80.0 || cd["queue_id"] != "q1" || cd["value_text"] != "62.5%" {
		t.Errorf("custom_details numbers: %v", cd)
	}
	if ep, _ := cd["episode"].(map[string]any); ep["id"] != "q1_sla_breach@1" || ep["worst"] != 62.5 {
		t.Errorf("custom_details.episode: %v", cd["episode"])
	}
	if len(ev.Links) != 2 || ev.Links[0].Href != "https://queuewatch.example.com" ||
		!strings.HasSuffix(ev.Links[1].Href, "/_queuesV2/q1") {
		t.Errorf("links %+v", ev.Links)
	}
}

func TestNoLinksWithoutURLs(t *testing.T) {
	fake, n := setup(t, func(c *pagerduty.Config) { c.PublicURL, c.QueueURL, c.Source = "", nil, "qw-test" })
	mustSend(t, n, delivery(1, alert.ActionCreate, alert.P1))
	ev := fake.Incidents()[0].Events[0]
	if len(ev.Links) != 0 || ev.ClientURL != "" || ev.Payload.Source != "qw-test" {
		t.Errorf("event %+v", ev)
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("Zürich ", 400) // 2800 characters, multi-byte
	longKey := strings.Repeat("k", 300)
	tests := []struct {
		name        string
		key, note   string
		wantKeyLen  int
		wantSummary int
	}{
		{"short", "q1_sla_breach", "", 13, 0},
		{"summary over 1024", "q2_sla_breach", long, 13, pagerduty.MaxSummary},
		{"key over 255", longKey, "", pagerduty.MaxDedupKey, 0},
		{"key exactly 255", strings.Repeat("x", 255), "", 255, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, n := setup(t, nil)
			d := delivery(1, alert.ActionCreate, alert.P1)
			d.Key, d.Transition.Note = tt.key, tt.note
			mustSend(t, n, d)
			d.Action = alert.ActionResolve
			mustSend(t, n, d)
			incs := fake.Incidents()
			if len(incs) != 1 || incs[0].Status != fakepd.Resolved {
				t.Fatalf("create+resolve must be one resolved incident: %+v", incs)
			}
			if got := utf8.RuneCountInString(incs[0].DedupKey); got != tt.wantKeyLen {
				t.Errorf("dedup_key has %d characters, want %d", got, tt.wantKeyLen)
			}
			s := incs[0].Summary
			if tt.wantSummary > 0 && (utf8.RuneCountInString(s) != tt.wantSummary || !strings.HasSuffix(s, "…") || !utf8.ValidString(s)) {
				t.Errorf("summary of %d characters, valid %v, ends %q", utf8.RuneCountInString(s), utf8.ValidString(s), s[len(s)-8:])
			}
		})
	}
}

func TestDedupKeyIsStableAndDistinct(t *testing.T) {
	a, b := strings.Repeat("q", 300)+"_a", strings.Repeat("q", 300)+"_b"
	if pagerduty.DedupKey(a) != pagerduty.DedupKey(a) {
		t.Fatal("DedupKey is not stable")
	}
	if pagerduty.DedupKey(a) == pagerduty.DedupKey(b) {
		t.Fatal("long keys sharing a prefix must not collide")
	}
}

func TestNothingToSendForActionNone(t *testing.T) {
	fake, n := setup(t, nil)
	_, err := send(t, n, delivery(1, alert.ActionNone, alert.P1))
	if ne := asError(t, err); ne.Retryable {
		t.Fatalf("want permanent error, got %+v", ne)
	}
	d := delivery(1, alert.ActionCreate, alert.P1)
	d.Key = ""
	if _, err := send(t, n, d); asError(t, err).Retryable {
		t.Fatal("a delivery without key must fail for good")
	}
	if len(fake.Incidents()) != 0 {
		t.Fatal("nothing may be sent")
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  pagerduty.Config
		ok   bool
	}{
		{"defaults", pagerduty.Config{RoutingKey: routingKey}, true},
		{"no routing key", pagerduty.Config{}, false},
		{"base url without scheme", pagerduty.Config{RoutingKey: routingKey, BaseURL: "events.pagerduty.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := pagerduty.New(tt.cfg, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), routingKey) {
				t.Fatal("error shows the routing key")
			}
			if n != nil && !strings.Contains(n.String(), "https://events.pagerduty.com/v2/enqueue") {
				t.Errorf("default endpoint: %s", n)
			}
		})
	}
}
