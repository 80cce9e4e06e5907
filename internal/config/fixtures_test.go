package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureEnv is the environment every fixture is parsed with.
var fixtureEnv = env("SLACK_CHANNEL", "")

// fixtures lists, for each file under testdata/ that must be refused, every
// problem Parse reports on it, in order. The line numbers are part of what
// is tested: each one points at the offending key or item.
var fixtures = map[string][]string{
	"bad-unknown-key.yaml": {
		`1: lissten: unknown key; did you mean "listen"?`,
		`6: rules[0].clear_fr: unknown key; did you mean "clear_for"?`,
		`11: destinations[0].pager: unknown key; known keys are name, type, url, api_key, api_key_file, token, token_file, channel, routing_key, routing_key_file, secret, secret_file, responders, tags, heartbeat, timeout, rate, burst, workers, retry, templates`,
	},
	"bad-wrong-types.yaml": {
		`1: engine: must be a mapping of keys, not a list`,
		`3: genesys.queues: must be a list, not a string`,
		`4: genesys.stream: must be true or false`,
		`5: genesys.request_budget: must be a whole number`,
		`6: genesys.poll_interval: must be a duration like "30s", "5m" or "1m30s"`,
		`8: webhook.insecure: must be true or false`,
		`13: rules[0].notify: must be a list, not a string`,
		`14: rules[0].media_types: must be a list, not a mapping`,
		`18: destinations[0].api_key: must be a string, not a list`,
		`19: destinations[0].rate: must be a number`,
		`20: destinations[0].burst: must be a whole number`,
	},
	"bad-duplicate-names.yaml": {
		`5: rules[1].name: duplicate rule name "sla" (first at line 2)`,
		`12: destinations[1].name: duplicate destination name "oncall" (first at line 9)`,
		`17: schedules[1].name: duplicate schedule name "office" (first at line 16)`,
	},
	"bad-duplicate-key.yaml": {
		`6: rules[0].below: is set twice (first at line 5)`,
		`7: listen: is set twice (first at line 1)`,
	},
	"bad-names.yaml": {
		`2: rules[0].name: "sla breach" must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
		`5: rules[1].name: is required`,
		`8: destinations[0].name: "-oncall" must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
		`12: schedules[0].name: "office/hours" must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
	},
	"bad-unknown-metric.yaml": {
		`3: rules[0].metric: unknown metric "service_lvl"; known metrics are abandon_rate, alerting, asa, available_agents, interacting, longest_wait, offered, on_queue_agents, service_level, service_level_target, waiting`,
		`5: rules[1].metric: is required`,
	},
	"bad-both-above-below.yaml": {
		`6: rules[0].below: cannot be used together with "above"; a rule fires either above or below its threshold`,
	},
	"bad-no-threshold.yaml": {
		`2: rules[0]: needs a threshold: "above", "below" or "levels"`,
		`8: rules[1].levels: cannot be used together with "above" or "below"; put every threshold in levels`,
		`13: rules[2].levels: is empty; give at least one level, or use "above" or "below"`,
	},
	"bad-levels.yaml": {
		`7: rules[0].levels[1].above: must be higher than levels[0] (120); list levels from the least to the most severe`,
		`9: rules[0].levels[2].below: must be "above" like levels[0]; all levels point the same way`,
		`12: rules[0].levels[3].below: cannot be used together with "above"; a level fires either above or below its threshold`,
		`14: rules[0].levels[4]: needs "above" or "below"`,
		`15: rules[0].levels[5].priority: is required (P1 to P5)`,
		`17: rules[0].levels[6].clear: must be at or below the threshold 600: a rule on "above" clears when the value falls back`,
		`18: rules[0].levels[6].priority: must be one of P1, P2, P3, P4, P5`,
		`21: rules[1].clear: cannot be used with levels; give each level its own clear`,
		`25: rules[1].levels[1].below: must be lower than levels[0] (80); list levels from the least to the most severe`,
	},
	"bad-clear-side.yaml": {
		`5: rules[0].clear: must be at or below the threshold 300: a rule on "above" clears when the value falls back`,
		`9: rules[1].clear: must be at or above the threshold 80: a rule on "below" clears when the value recovers`,
		`13: rules[2].clear: must be at or above the threshold target: a rule on "below" clears when the value recovers`,
	},
	"bad-priority.yaml": {
		`5: rules[0].priority: must be one of P1, P2, P3, P4, P5`,
		`9: rules[1].priority: must be one of P1, P2, P3, P4, P5`,
	},
	"bad-references.yaml": {
		`5: rules[0].schedule: unknown schedule "weekends"; defined schedules: "office"`,
		`8: rules[0].notify[1]: unknown destination "pager"; defined destinations: "oncall"`,
	},
	"bad-media-types.yaml": {
		`5: rules[0].media_types[2]: unknown media type "video"; use one of voice, chat, email, callback, message (or call for voice, * for every one)`,
	},
	"bad-globs.yaml": {
		`2: genesys.queues[0]: "Sales [" is not a valid pattern (use * and ? as wildcards, [a-z] for a class)`,
		`3: genesys.exclude[0]: "\\" is not a valid pattern (use * and ? as wildcards, [a-z] for a class)`,
		`8: rules[0].queues: is empty; leave it out to match every queue`,
		`9: rules[0].exclude[0]: "[z-a" is not a valid pattern (use * and ? as wildcards, [a-z] for a class)`,
	},
	"bad-overrides.yaml": {
		`6: rules[0].overrides[0].queues: is required: the queues this override applies to`,
		`7: rules[0].overrides[1]: needs at least one of "threshold", "clear", "levels" or "disabled"`,
		`9: rules[0].overrides[2].disabled: cannot be combined with "threshold", "clear" or "levels"`,
		`13: rules[0].overrides[3].clear: must be at or below the threshold 20: a rule on "above" clears when the value falls back`,
		`16: rules[0].overrides[4].levels[0].below: must be "above" like the rule; all levels point the same way`,
	},
	"bad-destinations.yaml": {
		`2: destinations[0].api_key: is required for type opsgenie`,
		`4: destinations[1].url: is required for type jsm`,
		`7: destinations[2].channel: is required for type slack`,
		`10: destinations[3].routing_key: is required for type pagerduty`,
		`12: destinations[3].url: must be an http:// or https:// URL`,
		`13: destinations[4].url: is required for type webhook`,
		`16: destinations[5].type: unknown destination type "email"; use one of opsgenie, jsm, slack, pagerduty, webhook`,
		`17: destinations[6].type: is required (opsgenie, jsm, slack, pagerduty, webhook)`,
		`21: destinations[7].token: is not used by type opsgenie`,
		`22: destinations[7].channel: is not used by type opsgenie`,
		`26: destinations[8].workers: must be between 1 and 1024`,
		`30: destinations[9].workers: must be between 1 and 1024`,
	},
	"bad-responders.yaml": {
		`6: destinations[0].responders[0].type: unknown responder type "squad"; use one of team, user, escalation, schedule`,
		`7: destinations[0].responders[1]: needs "id" or "name"`,
		`8: destinations[0].responders[2].username: is only for responders of type user; use "name" or "id"`,
		`8: destinations[0].responders[2]: needs "id" or "name"`,
		`10: destinations[0].responders[4].type: is required (team, user, escalation, schedule)`,
	},
	"bad-tags.yaml": {
		`5: destinations[0].tags: has 21 tags; at most 20 are allowed`,
		`11: destinations[1].tags[1]: is longer than 50 characters`,
		`12: destinations[1].tags[2]: is empty`,
	},
	"bad-schedules.yaml": {
		`3: schedules[0].timezone: unknown time zone "Mars/Olympus_Mons"; use an IANA name such as Europe/Berlin or America/New_York`,
		`4: schedules[0].weekdays[1]: "funday" is not a weekday or a range of weekdays; use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri`,
		`5: schedules[0].hours[1]: "25:00-26:00" has a time outside 00:00-24:00`,
		`5: schedules[0].hours[2]: "09:00-09:00" starts and ends at the same time; use 00:00-24:00 for the whole day`,
		`5: schedules[0].hours[3]: "9-17" is not a time range HH:MM-HH:MM, such as 08:00-18:00`,
		`5: schedules[0].hours[6]: "24:00-08:00" has a time outside 00:00-24:00`,
		`6: schedules[0].holidays[1]: "2026-13-01" is not a date YYYY-MM-DD, such as 2026-12-25`,
		`6: schedules[0].holidays[2]: "25.12.2026" is not a date YYYY-MM-DD, such as 2026-12-25`,
		`8: schedules[1].timezone: "Local" depends on the machine; use an IANA name such as Europe/Berlin`,
	},
	"bad-genesys.yaml": {
		`1: genesys.client_secret: is required when client_id is set`,
		`2: genesys.environment: must be a domain such as mypurecloud.com or a region such as us-east-1, not a URL; use api_url for a full URL`,
		`3: genesys.api_url: must be an http:// or https:// URL`,
		`5: genesys.request_budget: must be between 1 and 300 requests per minute (Genesys allows 300)`,
	},
	"bad-budget-zero.yaml": {
		`2: genesys.request_budget: must be between 1 and 300 requests per minute (Genesys allows 300)`,
	},
	"bad-top.yaml": {
		`1: listen: must be host:port, such as 127.0.0.1:8080 or :8080`,
		`2: public_url: must be an http:// or https:// URL`,
		`3: store: must start with "sqlite:" (such as sqlite:queuewatch.db) or "postgres://"`,
		`4: log_level: must be one of debug, info, warn, error`,
		`6: engine.shards: must not be negative`,
	},
	"bad-thresholds.yaml": {
		`4: rules[0].below: must be a number or "target"`,
		`7: rules[1].below: must be a number or "target"`,
		`10: rules[2].above: "target" is the queue's service-level target and only applies to metric service_level`,
		`13: rules[3].below: must be between 0 and 100: service_level is a percentage`,
		`16: rules[4].below: must not be negative: available_agents is never below 0`,
		`19: rules[5].below: must be a number or "target"`,
	},
	"bad-durations.yaml": {
		`2: engine.tick: must be a duration like "30s", "5m" or "1m30s"`,
		`7: rules[0].for: needs a unit (use 30s)`,
		`8: rules[0].clear_for: must not be negative`,
		`9: rules[0].stale_after: needs a unit (use 1.5s)`,
	},
	"bad-syntax.yaml": {
		`4: invalid YAML: did not find expected '-' indicator`,
	},
	"bad-multi-doc.yaml": {
		`2: only one YAML document is allowed; remove the "---" separator`,
	},
	"bad-not-mapping.yaml": {
		`1: the configuration must be a mapping of keys such as listen:, rules: and destinations:, not a list`,
	},
	"bad-secret-both.yaml": {
		`2: api_token_file: cannot be used together with api_token; set only one of them`,
		`6: destinations[0].api_key_file: cannot read testdata/secrets/missing-key: no such file or directory`,
		`9: destinations[1].routing_key_file: is empty; it must name a file`,
	},
	"bad-flap.yaml": {
		`6: rules[0].flap.transitions: must be 0 (off) or at least 2`,
		`7: rules[0].flap.windw: unknown key; did you mean "window"?`,
	},
	"bad-env.yaml": {
		`7: destinations[0].api_key: is empty (OPSGENIE_API_KEY is not set)`,
		`10: destinations[1].token: is empty (SLACK_TOKEN is not set)`,
		`11: destinations[1].channel: is empty (SLACK_CHANNEL is set but empty)`,
		`12: destinations[2].name: has "${" without a closing "}"`,
		`14: destinations[2].url: has "${...}" with an invalid variable name; names are letters, digits and "_", not starting with a digit`,
	},
	"bad-templates.yaml": {
		`6: destinations[0].templates.title: template: title:1: function "shout" not defined`,
		`7: destinations[0].templates.description: template: description:1:30: executing "description" at <.Valu>: can't evaluate field Valu in type core.Data`,
		`14: destinations[1].templates.title: template: title:1: unclosed action`,
		`15: destinations[1].templates.description: template: description:1:29: executing "description" at <duration .Queue.Name>: error calling duration: want a duration or a number of seconds, not string`,
		`20: destinations[2].templates.title: template: title:1:2: executing "title" at <truncate>: wrong number of args for truncate: want 2 got 1`,
		`21: destinations[2].templates.description: is not used by type pagerduty; its events have only a summary, set by title`,
		`25: destinations[3].templates: is not used by type webhook`,
		`34: destinations[4].templates.subject: unknown key; known keys are title, description`,
	},
	"bad-webhook.yaml": {
		`2: webhook.path: must be a URL path starting with "/", such as /webhook/genesys`,
		`4: webhook.tokens[0]: is empty`,
	},
}

func TestFixtures(t *testing.T) {
	for name, want := range fixtures {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", name)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(file, data, fixtureEnv)
			if c != nil || err == nil {
				t.Fatalf("Parse accepted %s", file)
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want *Errors", err)
			}
			got := make([]string, len(*errs))
			for i, p := range *errs {
				got[i] = p.Error()
				if p.File != file {
					t.Errorf("problem %d: File = %q, want %q", i, p.File, file)
				}
			}
			full := make([]string, len(want))
			for i, w := range want {
				full[i] = file + ":" + w
			}
			if !equalLines(got, full) {
				t.Errorf("problems:\n%s\nwant:\n%s", joinLines(got), joinLines(full))
			}
			if err.Error() != strings.Join(full, "\n") {
				t.Errorf("Error() = %q, want the problems joined by newlines", err.Error())
			}
		})
	}
}

// TestFixturesCovered makes sure every bad-*.yaml file has expectations.
func TestFixturesCovered(t *testing.T) {
	files, err := filepath.Glob("testdata/bad-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fixtures) {
		t.Errorf("%d bad-*.yaml files, %d with expectations", len(files), len(fixtures))
	}
	for _, f := range files {
		if _, ok := fixtures[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expectations in fixtures", f)
		}
	}
}
