package app

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/sim"
)

// Secrets of the doctor tests; none may appear in doctor's output.
const (
	doctorClientSecret = "doctor-client-secret-0001"
	doctorSlackToken   = "xoxb-doctor-slack-token-0001"
	doctorRoutingKey   = "0123456789abcdef0123456789abcdef"
)

// doctorSetup says how the fakes and the configuration of one doctor run
// differ from a setup where every check passes.
type doctorSetup struct {
	clientSecret string   // the secret configured; the fake accepts doctorClientSecret
	loginURL     string   // genesys.login_url; default the fake's
	deny         []string // permissions the OAuth client's role lacks
	queues       string   // genesys.queues, a YAML list
	rules        string   // the rules section
	ogKey        string   // the OpsGenie key configured; the fake accepts fakeog.DefaultKey
	heartbeat    bool     // the heartbeat exists before doctor runs
	slackToken   string   // the Slack token configured
	slackScopes  []string // scopes of doctorSlackToken
	notMember    bool     // the bot is not in the Slack channel
	routingKey   string
}

// doctorRun is the outcome of one doctor run and the fakes it ran against.
type doctorRun struct {
	out string
	err error
	cfg *config.Config
	gen *fakegenesys.Server
	og  *fakeog.Server
}

const doctorRules = `
  - {name: sla, metric: service_level, below: target, notify: [oncall, chat, pd, hook]}
  - {name: waiting, metric: waiting, above: 5, notify: [oncall]}
`

// runDoctor starts fake Genesys, OpsGenie and Slack servers set up as s
// says, and runs Doctor against them.
func runDoctor(t *testing.T, s doctorSetup) doctorRun {
	t.Helper()
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&s.clientSecret, doctorClientSecret)
	loginURL := s.loginURL
	def(&s.queues, `["Billing*", "Sales - Voice"]`)
	def(&s.rules, doctorRules)
	def(&s.ogKey, fakeog.DefaultKey)
	def(&s.slackToken, doctorSlackToken)
	def(&s.routingKey, doctorRoutingKey)
	if s.slackScopes == nil {
		s.slackScopes = []string{"chat:write", "channels:read", "channels:history"}
	}

	gen := fakegenesys.New(fakegenesys.Options{Queues: sim.DefaultQueues(4, 1), ClientID: "qw-client", ClientSecret: doctorClientSecret})
	gen.DenyPermissions(s.deny...)
	genURL := gen.Start(t)
	if loginURL == "" {
		loginURL = genURL
	}
	og := fakeog.New()
	ogURL := og.Start(t)
	if s.heartbeat {
		og.AddHeartbeat(fakeog.Heartbeat{Name: "queuewatch", Interval: 10, IntervalUnit: "minutes", Enabled: true})
	}
	sl := fakeslack.New()
	sl.AddToken(doctorSlackToken, s.slackScopes...)
	if s.notMember {
		sl.SetMember(fakeslack.DefaultChannel, false)
	}
	slURL := sl.Start(t)

	yaml := fmt.Sprintf(`
genesys:
  api_url: %s
  login_url: %s
  client_id: qw-client
  client_secret: %s
  queues: %s
rules: %s
destinations:
  - {name: oncall, type: opsgenie, url: %q, api_key: %q, heartbeat: queuewatch}
  - {name: chat, type: slack, url: %q, token: %q, channel: %s}
  - {name: pd, type: pagerduty, routing_key: %q}
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/hook"}
`, genURL, loginURL, s.clientSecret, s.queues, s.rules, ogURL, s.ogKey, slURL, s.slackToken, fakeslack.DefaultChannel, s.routingKey)
	cfg, err := config.Parse("doctor.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	err = Doctor(ctx, cfg, &out)
	for _, secret := range []string{s.clientSecret, s.ogKey, s.slackToken, s.routingKey} {
		if strings.Contains(out.String(), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
			t.Errorf("doctor printed a secret:\n%s", out.String())
		}
	}
	return doctorRun{out: out.String(), err: err, cfg: cfg, gen: gen, og: og}
}

func TestDoctor(t *testing.T) {
	tests := []struct {
		name  string
		setup doctorSetup
		fails bool
		// want are line prefixes ("STATUS what — detail…") that must be
		// printed; absent are substrings that must not be.
		want   []string
		absent []string
	}{
		{
			name:  "all pass",
			setup: doctorSetup{heartbeat: true},
			want: []string{
				"PASS config — doctor.yaml is valid: 2 rules, 4 destinations",
				"PASS genesys hosts — API http://127.0.0.1",
				"PASS genesys credentials — token obtained from http://127.0.0.1",
				"PASS routing:queue:view — listed 4 queues",
				`PASS genesys queues — 3 of 4 queues match genesys.queues ["Billing*" "Sales - Voice"]: "Billing - Chat", "Billing - Voice", "Sales - Voice"`,
				"PASS analytics:queueObservation:view — the observation query was answered",
				"PASS analytics:conversationAggregate:view — the aggregate query was answered",
				"PASS genesys topics — v2.analytics.queues.",
				"PASS opsgenie oncall — API key accepted by http://127.0.0.1",
				"PASS heartbeat queuewatch — exists and is enabled",
				"PASS slack chat — token works: bot queuewatch (U0BOT) in workspace Fake Workspace (T0FAKE)",
				"PASS slack chat channel — the bot is a member of #queue-alerts",
				"PASS slack chat history — the token can read the channel",
				"PASS pagerduty pd — the routing key has the shape of an integration key (32 characters); only queuewatch test-notify",
				"SKIP webhook hook — ",
				"doctor: 15 checks: 14 passed, 0 failed, 0 warned, 1 skipped",
			},
			absent: []string{"FAIL", "WARN"},
		},
		{
			name:  "bad Genesys credentials",
			setup: doctorSetup{clientSecret: "not-the-secret-0001", heartbeat: true},
			fails: true,
			want: []string{
				"FAIL genesys credentials — token refused: HTTP 401 invalid_client: authentication failed; fix: check genesys.client_id and genesys.client_secret",
				"SKIP genesys permissions, queues and topics — they need a token",
				"PASS opsgenie oncall",
				"PASS slack chat channel",
			},
			absent: []string{"routing:queue:view", "genesys topics"},
		},
		{
			name:  "Genesys login host unreachable",
			setup: doctorSetup{loginURL: "http://127.0.0.1:1", heartbeat: true},
			fails: true,
			want: []string{
				"FAIL genesys credentials — no answer from http://127.0.0.1:1: ",
				"SKIP genesys permissions, queues and topics",
			},
		},
		{
			name:  "missing permission",
			setup: doctorSetup{deny: []string{fakegenesys.PermQueueObservation}, heartbeat: true},
			fails: true,
			want: []string{
				"PASS routing:queue:view",
				"FAIL analytics:queueObservation:view — the OAuth client's role lacks it (Genesys: missing.permissions: Unable to perform the requested action. " +
					"You are missing the following permission(s): [analytics:queueObservation:view]); " +
					"fix: Admin > Roles / Permissions > <role> > Permissions > Analytics > Queue Observation > View; the role is the one assigned to the OAuth client",
				"PASS analytics:conversationAggregate:view",
				"FAIL genesys topics — subscribing to the topics of queue \"Billing - Chat\" was refused (HTTP 403 missing.permissions",
			},
		},
		{
			name: "missing permission no rule needs",
			setup: doctorSetup{deny: []string{fakegenesys.PermConversationAggregate}, heartbeat: true,
				rules: "\n  - {name: waiting, metric: waiting, above: 5, notify: [oncall]}\n"},
			want: []string{
				"WARN analytics:conversationAggregate:view — the OAuth client's role lacks it; no rule needs it now, but rules on service_level",
				"PASS genesys topics",
			},
			absent: []string{"FAIL"},
		},
		{
			name:  "no queue matches",
			setup: doctorSetup{queues: `["Nonexistent*"]`, heartbeat: true},
			want: []string{
				`WARN genesys queues — none of the 4 queues the OAuth client sees match genesys.queues ["Nonexistent*"]; fix: names are matched exactly`,
				"PASS analytics:queueObservation:view",
				`PASS genesys topics — v2.analytics.queues.`,
			},
			absent: []string{"FAIL"},
		},
		{
			name:  "pattern that matches nothing",
			setup: doctorSetup{queues: `["Billing*", "Salse*"]`, heartbeat: true},
			want: []string{
				"PASS genesys queues — 2 of 4 queues match",
				`WARN genesys queues pattern "Salse*" — matches no queue`,
			},
		},
		{
			name:  "wrong OpsGenie key",
			setup: doctorSetup{ogKey: "99999999-2222-4333-8444-555555555555"},
			fails: true,
			want: []string{
				"FAIL opsgenie oncall — API key refused: HTTP 401 Could not authenticate; fix: use the API key of an API integration",
				"PASS slack chat",
			},
			absent: []string{"heartbeat queuewatch"},
		},
		{
			name:  "heartbeat created when missing",
			setup: doctorSetup{},
			want: []string{
				"PASS opsgenie oncall — API key accepted",
				"PASS heartbeat queuewatch — created, enabled, expecting a ping every 5 minutes",
			},
			absent: []string{"FAIL", "WARN"},
		},
		{
			name:  "Slack bot not in channel",
			setup: doctorSetup{notMember: true, heartbeat: true},
			fails: true,
			want: []string{
				"PASS slack chat — token works",
				"FAIL slack chat channel — the bot is not in #queue-alerts, so posting answers not_in_channel; fix: invite the bot: /invite @queuewatch in #queue-alerts",
			},
		},
		{
			name:  "Slack token without channels:read",
			setup: doctorSetup{slackScopes: []string{"chat:write"}, heartbeat: true},
			want:  []string{"WARN slack chat channel — membership not checked: the token lacks channels:read"},
		},
		{
			name:  "Slack token without channels:history",
			setup: doctorSetup{slackScopes: []string{"chat:write", "channels:read"}, heartbeat: true},
			want: []string{"PASS slack chat channel — the bot is a member",
				"WARN slack chat history — the token lacks channels:history (groups:history for a private channel)"},
		},
		{
			name:   "bad Slack token",
			setup:  doctorSetup{slackToken: "xoxb-not-a-valid-token-01", heartbeat: true},
			fails:  true,
			want:   []string{"FAIL slack chat — auth.test refused the token: invalid_auth; fix: the bot token is missing or wrong"},
			absent: []string{"slack chat channel"},
		},
		{
			name:   "PagerDuty key of the wrong length",
			setup:  doctorSetup{routingKey: "0123456789abcdef0123456789abcde", heartbeat: true},
			fails:  true,
			want:   []string{"FAIL pagerduty pd — the routing key has 31 characters; integration keys have 32; fix: copy the Integration Key"},
			absent: []string{"PASS pagerduty"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runDoctor(t, tc.setup)
			if (r.err != nil) != tc.fails {
				t.Errorf("Doctor error = %v, want failure %v", r.err, tc.fails)
			}
			lines := strings.Split(r.out, "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no line starts with %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(r.out, a) {
					t.Errorf("output contains %q", a)
				}
			}
			for _, l := range lines[:len(lines)-2] {
				if st, _, _ := strings.Cut(l, " "); st != checkPass && st != checkFail && st != checkWarn && st != checkSkip {
					t.Errorf("line %q does not start with a status", l)
				}
			}
			// The topic check leaves no subscription behind.
			for _, ch := range r.gen.Channels() {
				if len(ch.Topics) > 0 {
					t.Errorf("channel %s still has topics %v", ch.ID, ch.Topics)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", r.out)
			}
		})
	}
}

func TestDoctorCreatesHeartbeat(t *testing.T) {
	r := runDoctor(t, doctorSetup{})
	hbs := r.og.Heartbeats()
	if len(hbs) != 1 || hbs[0].Name != "queuewatch" || !hbs[0].Enabled || hbs[0].Interval != 5 || hbs[0].IntervalUnit != "minutes" {
		t.Fatalf("heartbeats after doctor: %+v", hbs)
	}
	// A second run finds it and creates nothing.
	var again bytes.Buffer
	if err := Doctor(context.Background(), r.cfg, &again); err != nil {
		t.Fatalf("second run: %v\n%s", err, again.String())
	}
	if !strings.Contains(again.String(), "PASS heartbeat queuewatch — exists and is enabled") || len(r.og.Heartbeats()) != 1 {
		t.Fatalf("second run:\n%s", again.String())
	}
}

// TestDoctorRegion reports the hosts an environment resolves to, and warns
// about one that is no known region.
func TestDoctorRegion(t *testing.T) {
	tests := []struct {
		env, want string
	}{
		{"usw2.pure.cloud", "PASS genesys region — us-west-2: API https://api.usw2.pure.cloud, login https://login.usw2.pure.cloud"},
		{"eu-central-1", "PASS genesys region — eu-central-1: API https://api.mypurecloud.de, login https://login.mypurecloud.de"},
		{"mypurecloud.con", `WARN genesys region — environment "mypurecloud.con" is not a region queuewatch knows; using API https://api.mypurecloud.con, login https://login.mypurecloud.con; fix: check the spelling`},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			var out bytes.Buffer
			d := &doctor{cfg: &config.Config{}, out: &out, counts: map[string]int{}}
			g := config.Genesys{Environment: tc.env, ClientID: "id", ClientSecret: "secret"}
			c, err := genesys.New(genesys.OptionsFromConfig(g))
			if err != nil {
				t.Fatal(err)
			}
			if login := d.hosts(g, c); !strings.Contains(out.String(), login) {
				t.Errorf("login host %s not reported", login)
			}
			if !strings.HasPrefix(out.String(), tc.want) {
				t.Fatalf("got %q, want a line starting with %q", out.String(), tc.want)
			}
		})
	}
}
