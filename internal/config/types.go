// Package config loads and validates the queuewatch YAML configuration.
//
// Load expands ${VAR} and ${VAR:-default} from the environment, reads *_file
// secrets, applies defaults and validates everything, reporting each problem
// as "file:line: key: message". serve, check-config, replay and demo all use it.
package config

import "time"

// Config is the whole configuration file.
type Config struct {
	// File is the path the configuration was read from.
	File      string `yaml:"-"`
	Listen    string `yaml:"listen"`     // default 127.0.0.1:8080
	PublicURL string `yaml:"public_url"` // links in notifications point here
	APIToken  Secret `yaml:"api_token"`  // also api_token_file
	// APIReadAuth makes API reads (not only writes) need api_token.
	APIReadAuth bool   `yaml:"api_read_auth"`
	Store       string `yaml:"store"`     // default sqlite:queuewatch.db
	LogLevel    string `yaml:"log_level"` // debug|info|warn|error, default info
	// LeaderLease is how long a replica leads without renewing its lease on
	// a PostgreSQL store, the longest failover takes; default 15s.
	LeaderLease Duration `yaml:"leader_lease"`
	// AdvertiseURL is the base URL at which the other replicas reach this
	// one's API; with a PostgreSQL store the leader publishes it so that
	// followers pass the dashboard's live reads on to it. Default: none.
	AdvertiseURL string        `yaml:"advertise_url"`
	Engine       Engine        `yaml:"engine"`
	Genesys      Genesys       `yaml:"genesys"`
	Webhook      Webhook       `yaml:"webhook"`
	Rules        []Rule        `yaml:"rules"`
	Destinations []Destination `yaml:"destinations"`
	Schedules    []Schedule    `yaml:"schedules"`
}

// Secret is a string that never prints itself. Its String and MarshalText
// methods return "[redacted]" when it is set.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Value returns the secret itself, for the code that must send it.
func (s Secret) Value() string { return string(s) }

// Duration is a time.Duration written as a Go duration string ("90s", "1m30s").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Engine tunes evaluation.
type Engine struct {
	Shards int      `yaml:"shards"` // default: number of CPUs
	Tick   Duration `yaml:"tick"`   // how often silent series are advanced; default 1s
}

// Genesys configures the Genesys Cloud sources.
type Genesys struct {
	Environment        string   `yaml:"environment"` // domain suffix or region key
	APIURL             string   `yaml:"api_url"`
	LoginURL           string   `yaml:"login_url"`
	ClientID           string   `yaml:"client_id"`
	ClientSecret       Secret   `yaml:"client_secret"` // also client_secret_file
	Queues             []string `yaml:"queues"`        // default ["*"]
	Exclude            []string `yaml:"exclude"`
	PollInterval       Duration `yaml:"poll_interval"`        // default 15s; 0 turns polling off
	Stream             *bool    `yaml:"stream"`               // default true
	ActivityTopics     bool     `yaml:"activity_topics"`      // default false: .observations topics only, 1,000 queues per channel
	RequestBudget      int      `yaml:"request_budget"`       // default 150 per minute, 1..300
	ServiceLevelWindow Duration `yaml:"service_level_window"` // default 30m
	DiscoveryInterval  Duration `yaml:"discovery_interval"`   // default 5m
}

// Webhook configures the inbound webhook.
type Webhook struct {
	Path     string   `yaml:"path"`   // default /webhook/genesys
	Secret   Secret   `yaml:"secret"` // also secret_file
	Tokens   []Secret `yaml:"tokens"` // also tokens_file (one token per line)
	Insecure bool     `yaml:"insecure"`
	MaxAge   Duration `yaml:"max_age"` // 0 turns the timestamp window off
}

// Threshold is a rule threshold: a number, or the queue's own service-level
// target ("target"), optionally with an offset ("target-5", "target+2.5").
type Threshold struct {
	// Target is true when the threshold is relative to the queue's target.
	Target bool
	// Value is the absolute threshold, or the offset from the target.
	Value float64
}

// Level is one threshold of a multi-level rule with its own priority.
type Level struct {
	Above    *Threshold `yaml:"above"`
	Below    *Threshold `yaml:"below"`
	Clear    *Threshold `yaml:"clear"`
	Priority string     `yaml:"priority"`
	Line     int        `yaml:"-"`
}

// Override replaces a rule's thresholds for some queues.
type Override struct {
	Queues    []string   `yaml:"queues"` // names (globs) or ids
	Threshold *Threshold `yaml:"threshold"`
	Clear     *Threshold `yaml:"clear"`
	Levels    []Level    `yaml:"levels"`
	Disabled  bool       `yaml:"disabled"` // the rule does not apply to these queues
	Line      int        `yaml:"-"`
}

// Flap configures flap detection of a rule.
type Flap struct {
	Window      Duration `yaml:"window"`      // default 30m
	Transitions int      `yaml:"transitions"` // open/close changes within Window that mean flapping; default 4; 0 turns detection off with window 0
	ClearFor    Duration `yaml:"clear_for"`   // clear_for while flapping; default max(5m, 3×clear_for)
}

// Rule is one alert rule.
type Rule struct {
	Name       string     `yaml:"name"`
	Metric     string     `yaml:"metric"`
	Above      *Threshold `yaml:"above"`
	Below      *Threshold `yaml:"below"`
	Clear      *Threshold `yaml:"clear"`
	For        Duration   `yaml:"for"`
	ClearFor   Duration   `yaml:"clear_for"`
	StaleAfter Duration   `yaml:"stale_after"` // 0 means never stale
	Priority   string     `yaml:"priority"`    // default P3
	Levels     []Level    `yaml:"levels"`
	Queues     []string   `yaml:"queues"` // default ["*"]
	Exclude    []string   `yaml:"exclude"`
	MediaTypes []string   `yaml:"media_types"`
	Overrides  []Override `yaml:"overrides"`
	Schedule   string     `yaml:"schedule"`
	Notify     []string   `yaml:"notify"`
	Flap       Flap       `yaml:"flap"`
	Line       int        `yaml:"-"`
}

// Responder is an OpsGenie/JSM responder.
type Responder struct {
	Type     string `yaml:"type"` // team | user | escalation | schedule
	Name     string `yaml:"name"`
	ID       string `yaml:"id"`
	Username string `yaml:"username"`
}

// Retry configures the backoff of one destination.
type Retry struct {
	Initial       Duration `yaml:"initial"`         // default 1s
	Max           Duration `yaml:"max"`             // default 5m
	MaxRetryAfter Duration `yaml:"max_retry_after"` // cap on a server's Retry-After; default 10m
}

// Destination is one place notifications go.
type Destination struct {
	Name       string      `yaml:"name"`
	Type       string      `yaml:"type"` // opsgenie | jsm | slack | pagerduty | webhook
	URL        string      `yaml:"url"`
	APIKey     Secret      `yaml:"api_key"`     // opsgenie, jsm; also api_key_file
	Token      Secret      `yaml:"token"`       // slack; also token_file
	Channel    string      `yaml:"channel"`     // slack
	RoutingKey Secret      `yaml:"routing_key"` // pagerduty; also routing_key_file
	Secret     Secret      `yaml:"secret"`      // webhook; also secret_file
	Responders []Responder `yaml:"responders"`
	Tags       []string    `yaml:"tags"`
	Heartbeat  string      `yaml:"heartbeat"`
	Timeout    Duration    `yaml:"timeout"` // per request; default 10s
	Rate       float64     `yaml:"rate"`    // requests per second; default per type
	Burst      int         `yaml:"burst"`   // default per type
	Workers    int         `yaml:"workers"` // sends in flight at once; 0 is the dispatcher's default, 8
	Retry      Retry       `yaml:"retry"`
	Templates  Templates   `yaml:"templates"` // opsgenie, jsm, slack, pagerduty
	Line       int         `yaml:"-"`
}

// Templates are optional Go text/template overrides of a destination's
// notification texts; an empty one keeps the built-in text. Load checks
// that each parses and renders sample data (see package
// internal/notify/template for what a template sees).
type Templates struct {
	Title       string `yaml:"title"`       // OpsGenie message, Slack header, PagerDuty summary
	Description string `yaml:"description"` // OpsGenie description, Slack body section
}

// Schedule is a business-hours calendar.
type Schedule struct {
	Name     string   `yaml:"name"`
	Timezone string   `yaml:"timezone"` // IANA name, default UTC
	Weekdays []string `yaml:"weekdays"` // mon..sun, or ranges "mon-fri"; default every day
	Hours    []string `yaml:"hours"`    // "08:00-18:00"; default all day; "22:00-06:00" wraps midnight
	Holidays []string `yaml:"holidays"` // "2026-12-25" dates in the schedule's timezone
	Line     int      `yaml:"-"`
}
