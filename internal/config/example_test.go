package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

const exampleFile = "../../examples/queuewatch.yaml"

// exampleEnv sets every variable the example refers to, except the
// optional ones.
var exampleEnv = env(
	"QUEUEWATCH_API_TOKEN", "api-token",
	"GENESYS_CLIENT_ID", "client-id",
	"GENESYS_CLIENT_SECRET", "client-secret",
	"GENESYS_WEBHOOK_SECRET", "webhook-secret",
	"WEBHOOK_TOKEN", "webhook-token",
	"OPSGENIE_API_KEY", "opsgenie-key",
	"JSM_API_KEY", "jsm-key",
	"SLACK_BOT_TOKEN", "xoxb-token",
	"SLACK_CHANNEL_ID", "C0123456789",
	"PAGERDUTY_ROUTING_KEY", "pd-key",
	"OUTBOUND_WEBHOOK_SECRET", "outbound-secret",
)

func TestExampleValidates(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(exampleFile, data, exampleEnv)
	if err != nil {
		t.Fatalf("the example does not validate:\n%v", err)
	}

	rule := func(name string) Rule {
		for _, r := range c.Rules {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("the example has no rule %q", name)
		return Rule{}
	}
	dest := func(name string) Destination {
		d, ok := c.Destination(name)
		if !ok {
			t.Fatalf("the example has no destination %q", name)
		}
		return d
	}
	sla, wait, abandon := rule("sla_breach"), rule("long_wait"), rule("high_abandon")
	bh, ok := c.Schedule("business_hours")
	if !ok {
		t.Fatal("the example has no business_hours schedule")
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"api_token", c.APIToken.Value(), "api-token"},
		{"genesys.client_secret", c.Genesys.ClientSecret.Value(), "client-secret"},
		{"genesys.exclude", len(c.Genesys.Exclude) > 0, true},
		{"webhook.tokens", c.Webhook.Tokens, []Secret{"webhook-token"}},
		{"webhook.max_age", c.Webhook.MaxAge, Duration(5 * time.Minute)},
		{"webhook auth", c.WebhookAuthConfigured(), true},

		{"sla below", *sla.Below, Threshold{Target: true}},
		{"sla clear", *sla.Clear, Threshold{Target: true, Value: 5}},
		{"sla for", sla.For, Duration(2 * time.Minute)},
		{"sla clear_for", sla.ClearFor, Duration(5 * time.Minute)},
		{"sla schedule", sla.Schedule, "business_hours"},
		{"sla flap", sla.Flap, Flap{Window: Duration(30 * time.Minute), Transitions: 4, ClearFor: Duration(15 * time.Minute)}},

		{"long_wait levels", len(wait.Levels), 2},
		{"long_wait level 0", [2]any{*wait.Levels[0].Above, wait.Levels[0].Priority}, [2]any{Threshold{Value: 120}, "P3"}},
		{"long_wait level 1", [2]any{*wait.Levels[1].Above, wait.Levels[1].Priority}, [2]any{Threshold{Value: 300}, "P1"}},
		{"long_wait stale_after", wait.StaleAfter, Duration(10 * time.Minute)},
		{"long_wait exclude", len(wait.Exclude) > 0, true},
		{"long_wait media_types", wait.MediaTypes, []string{"voice", "callback"}},

		{"abandon media_types (call → voice)", abandon.MediaTypes, []string{"voice", "chat"}},
		{"abandon overrides", len(abandon.Overrides), 3},
		{"abandon override threshold", *abandon.Overrides[0].Threshold, Threshold{Value: 5}},
		{"abandon override disabled", abandon.Overrides[1].Disabled, true},
		{"abandon override levels", len(abandon.Overrides[2].Levels), 2},

		{"opsgenie key", dest("oncall").APIKey.Value(), "opsgenie-key"},
		{"opsgenie responders", len(dest("oncall").Responders), 2},
		{"opsgenie templates", dest("oncall").Templates.Title != "" && dest("oncall").Templates.Description != "", true},
		{"jsm url", dest("jsm-ops").URL, "https://api.atlassian.com/jsm/ops/integration"},
		{"slack channel", dest("cc-slack").Channel, "C0123456789"},
		{"pagerduty key", dest("pd").RoutingKey.Value(), "pd-key"},
		{"webhook secret", dest("tooling").Secret.Value(), "outbound-secret"},
		{"webhook timeout", dest("tooling").Timeout, Duration(5 * time.Second)},

		{"schedule timezone", bh.Timezone, "Europe/Berlin"},
		{"schedule weekdays", len(bh.Weekdays) > 0, true},
		{"schedule hours", bh.Hours, []string{"08:00-18:00"}},
		{"schedule holidays", len(bh.Holidays) > 0, true},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}

	types := map[string]bool{}
	for _, d := range c.Destinations {
		types[d.Type] = true
	}
	for _, typ := range destinationTypeNames {
		if !types[typ] {
			t.Errorf("the example has no destination of type %s", typ)
		}
	}
}

// TestExampleWithoutEnv checks that a missing variable is reported by name.
func TestExampleWithoutEnv(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(exampleFile, data, env())
	if err == nil {
		t.Fatal("the example validated without its secrets")
	}
	for _, v := range []string{"OPSGENIE_API_KEY", "JSM_API_KEY", "SLACK_BOT_TOKEN", "SLACK_CHANNEL_ID", "PAGERDUTY_ROUTING_KEY"} {
		if !strings.Contains(err.Error(), "("+v+" is not set)") {
			t.Errorf("no problem names %s:\n%v", v, err)
		}
	}
}

// TestExampleDocumentsEveryKey checks that the example uses every key the
// configuration types accept (the *_file forms are described in its header).
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[Threshold]() || seen[typ] {
			return
		}
		seen[typ] = true
		for _, f := range infoOf(typ).fields {
			if !strings.Contains(text, f.key+":") {
				t.Errorf("the example does not show %s.%s", typ.Name(), f.key)
			}
			walk(typ.Field(f.index).Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	if !strings.Contains(text, "_file") {
		t.Error("the example does not mention the *_file forms")
	}
}
