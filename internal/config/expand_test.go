package config

import (
	"reflect"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	lookup := env("A", "alpha", "B", "beta", "EMPTY", "")
	tests := []struct {
		in     string
		want   string
		refs   bool
		unset  []string
		empty  []string
		errMsg string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha", refs: true},
		{in: "x-${A}-${B}-y", want: "x-alpha-beta-y", refs: true},
		{in: "${A:-default}", want: "alpha", refs: true},
		{in: "${UNSET:-default}", want: "default", refs: true, unset: []string{"UNSET"}},
		{in: "${EMPTY:-default}", want: "default", refs: true, empty: []string{"EMPTY"}},
		{in: "${UNSET:-}", want: "", refs: true, unset: []string{"UNSET"}},
		{in: "${UNSET}", want: "", refs: true, unset: []string{"UNSET"}},
		{in: "${EMPTY}", want: "", refs: true, empty: []string{"EMPTY"}},
		{in: "${X}${Y}", want: "", refs: true, unset: []string{"X", "Y"}},
		{in: "pa$$word", want: "pa$word"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha", refs: true},
		{in: "cost $5", want: "cost $5"},
		{in: "trailing $", want: "trailing $"},
		{in: "${A:-a:-b}", want: "alpha", refs: true},
		{in: "${UNSET:-a b}", want: "a b", refs: true, unset: []string{"UNSET"}},
		{in: "${A", errMsg: `has "${" without a closing "}"`},
		{in: "${}", errMsg: `has "${...}" with an invalid variable name; names are letters, digits and "_", not starting with a digit`},
		{in: "${1A}", errMsg: `has "${...}" with an invalid variable name; names are letters, digits and "_", not starting with a digit`},
		{in: "${A:?required}", errMsg: `has an unsupported "${...}" form; use ${VAR} or ${VAR:-default}`},
		{in: "${A-x}", errMsg: `has an unsupported "${...}" form; use ${VAR} or ${VAR:-default}`},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, lookup)
		if tt.errMsg != "" {
			if err == nil || err.Error() != tt.errMsg {
				t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("expand(%q): %v", tt.in, err)
			continue
		}
		if got.value != tt.want || got.refs != tt.refs || !reflect.DeepEqual(got.unset, tt.unset) || !reflect.DeepEqual(got.empty, tt.empty) {
			t.Errorf("expand(%q) = %+v, want value %q refs %v unset %v empty %v", tt.in, got, tt.want, tt.refs, tt.unset, tt.empty)
		}
	}
}

func TestExpandHint(t *testing.T) {
	tests := []struct {
		e    expansion
		want string
	}{
		{expansion{unset: []string{"A"}}, "A is not set"},
		{expansion{unset: []string{"A", "B", "C"}}, "A, B and C are not set"},
		{expansion{empty: []string{"A"}}, "A is set but empty"},
		{expansion{unset: []string{"A"}, empty: []string{"B"}}, "A is not set; B is set but empty"},
		{expansion{}, ""},
	}
	for _, tt := range tests {
		if got := tt.e.hint(); got != tt.want {
			t.Errorf("hint(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestEnvInConfig expands variables in values of every kind, including
// inside flow collections where "{" would otherwise be YAML syntax.
func TestEnvInConfig(t *testing.T) {
	src := `listen: ${LISTEN:-127.0.0.1:9000}
store: "sqlite:${DATA_DIR}/qw.db"
genesys:
  client_id: ${GENESYS_CLIENT_ID}
  client_secret: ${GENESYS_CLIENT_SECRET}
  stream: ${STREAM:-false}
  poll_interval: ${POLL_INTERVAL}
  request_budget: ${BUDGET:-100}
  queues: [${QUEUE_A}, ${QUEUE_B}, Fixed]
webhook:
  tokens: [${WEBHOOK_TOKEN}, ${SECOND_TOKEN}]
rules:
  - name: sla
    metric: service_level
    below: ${SLA_BELOW:-80}
    clear: ${SLA_CLEAR:-target+5}
    for: ${SLA_FOR:-2m}
    notify: [oncall, ${EXTRA_DESTINATION}]
destinations:
  - name: oncall
    type: opsgenie
    api_key: ${OPSGENIE_API_KEY}
    responders: [{type: team, name: ${TEAM}}]
    tags: ["cost: $$5", "$${NOT_EXPANDED}"]
`
	c := mustParse(t, src, env(
		"DATA_DIR", "/var/lib/qw",
		"GENESYS_CLIENT_ID", "id-1",
		"GENESYS_CLIENT_SECRET", "cs-1",
		"QUEUE_A", "Sales",
		"WEBHOOK_TOKEN", "tok-1",
		"SLA_CLEAR", "85",
		"OPSGENIE_API_KEY", "og-1",
		"TEAM", "Ops",
	))
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen default", c.Listen, "127.0.0.1:9000"},
		{"store", c.Store, "sqlite:/var/lib/qw/qw.db"},
		{"client_id", c.Genesys.ClientID, "id-1"},
		{"client_secret", c.Genesys.ClientSecret.Value(), "cs-1"},
		{"stream", *c.Genesys.Stream, false},
		{"poll_interval (unset: default)", c.Genesys.PollInterval, Duration(15 * time.Second)},
		{"request_budget", c.Genesys.RequestBudget, 100},
		{"queues (empty expansion dropped)", c.Genesys.Queues, []string{"Sales", "Fixed"}},
		{"tokens (empty expansion dropped)", c.Webhook.Tokens, []Secret{"tok-1"}},
		{"below", *c.Rules[0].Below, Threshold{Value: 80}},
		{"clear", *c.Rules[0].Clear, Threshold{Value: 85}},
		{"for", c.Rules[0].For, Duration(2 * time.Minute)},
		{"notify", c.Rules[0].Notify, []string{"oncall"}},
		{"api_key", c.Destinations[0].APIKey.Value(), "og-1"},
		{"responder name", c.Destinations[0].Responders[0].Name, "Ops"},
		{"tags ($$ escapes)", c.Destinations[0].Tags, []string{"cost: $5", "${NOT_EXPANDED}"}},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestEnvUnsetRequired(t *testing.T) {
	src := `destinations:
  - name: oncall
    type: opsgenie
    api_key: ${OPSGENIE_API_KEY}
  - name: pd
    type: pagerduty
    routing_key: ${PD_A}${PD_B}
`
	wantProblems(t, src, env("PD_B", ""),
		"queuewatch.yaml:4: destinations[0].api_key: is empty (OPSGENIE_API_KEY is not set)",
		"queuewatch.yaml:7: destinations[1].routing_key: is empty (PD_A is not set; PD_B is set but empty)",
	)
}

func TestEnvNilLookup(t *testing.T) {
	c := mustParse(t, "listen: ${LISTEN:-:9999}\n", nil)
	if c.Listen != ":9999" {
		t.Errorf("Listen = %q, want :9999", c.Listen)
	}
}
