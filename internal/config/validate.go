package config

import (
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// validName is the shape of rule, destination and schedule names, which
// appear in alert keys and metric labels.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

const nameRule = `must start with a letter or digit and contain only letters, digits, "_", "." and "-"`

var logLevels = []string{"debug", "info", "warn", "error"}

// validate checks the completed configuration, normalising the spelling of
// values that may be written in several ways.
func (d *decoder) validate(c *Config) {
	d.validateTop(c)
	d.validateGenesys(&c.Genesys)
	d.validateWebhook(&c.Webhook)
	d.validateSchedules(c.Schedules)
	d.validateDestinations(c.Destinations)
	d.validateRules(c)
}

// required reports a required value that is missing or empty. When the key
// is absent the problem is placed on its parent's line; when it is present
// but empty the message names the environment variable or file to blame.
func (d *decoder) required(key, why string) {
	if _, given := d.lines[key]; given {
		d.at(key, d.emptyMsg(key))
		return
	}
	msg := "is required"
	if why != "" {
		msg += " " + why
	}
	d.at(key, msg)
}

// checkName validates a name and records it in seen (name → path),
// reporting a duplicate.
func (d *decoder) checkName(p, kind, name string, seen map[string]string) {
	key := p + ".name"
	switch {
	case name == "":
		d.required(key, "")
	case !validName.MatchString(name):
		d.atf(key, "%q %s", name, nameRule)
	default:
		if first, dup := seen[name]; dup {
			d.atf(key, "duplicate %s name %q (first at line %d)", kind, name, d.line(first))
			return
		}
		seen[name] = p
	}
}

// checkURL validates an optional http or https URL. The URL is not quoted
// in the message because it may carry credentials.
func (d *decoder) checkURL(key, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.at(key, "must be an http:// or https:// URL")
	}
}

// checkGlobs validates a list of queue names, ids or path.Match patterns.
func (d *decoder) checkGlobs(key string, globs []string) {
	for i, g := range globs {
		k := indexPath(key, i)
		if strings.TrimSpace(g) == "" {
			d.at(k, d.emptyMsg(k))
			continue
		}
		if _, err := path.Match(g, ""); err != nil {
			d.atf(k, "%q is not a valid pattern (use * and ? as wildcards, [a-z] for a class)", g)
		}
	}
}

// checkNonEmptyList reports a list that was given but is empty.
func (d *decoder) checkNonEmptyList(key string, n int, why string) {
	if n == 0 && d.present[key] {
		d.at(key, "is empty; "+why)
	}
}

func (d *decoder) validateTop(c *Config) {
	if host, port, err := net.SplitHostPort(c.Listen); err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		d.at("listen", `must be host:port, such as 127.0.0.1:8080 or :8080`)
	}
	d.checkURL("public_url", c.PublicURL)

	switch {
	case strings.HasPrefix(c.Store, "sqlite:"):
		if strings.TrimPrefix(c.Store, "sqlite:") == "" {
			d.at("store", `names no database file; use sqlite:FILE, such as sqlite:queuewatch.db`)
		}
	case strings.HasPrefix(c.Store, "postgres://"), strings.HasPrefix(c.Store, "postgresql://"):
		if _, err := url.Parse(c.Store); err != nil {
			d.at("store", "is not a valid postgres:// URL")
		}
	default:
		// The value is not quoted: a database URL may hold a password.
		d.at("store", `must start with "sqlite:" (such as sqlite:queuewatch.db) or "postgres://"`)
	}

	if l := c.LeaderLease.D(); l < time.Second || l > 10*time.Minute {
		d.at("leader_lease", "must be between 1s and 10m")
	}
	d.checkAdvertiseURL(c)

	c.LogLevel = strings.ToLower(strings.TrimSpace(c.LogLevel))
	if !contains(logLevels, c.LogLevel) {
		d.atf("log_level", "must be one of %s", strings.Join(logLevels, ", "))
	}
	if c.Engine.Shards < 0 {
		d.at("engine.shards", "must not be negative")
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

func (d *decoder) validateGenesys(g *Genesys) {
	if strings.Contains(g.Environment, "/") || strings.ContainsAny(g.Environment, " :") {
		d.at("genesys.environment", "must be a domain such as mypurecloud.com or a region such as us-east-1, not a URL; use api_url for a full URL")
	}
	d.checkURL("genesys.api_url", g.APIURL)
	d.checkURL("genesys.login_url", g.LoginURL)
	switch {
	case g.ClientID != "" && g.ClientSecret == "":
		d.required("genesys.client_secret", "when client_id is set")
	case g.ClientID == "" && g.ClientSecret != "":
		d.required("genesys.client_id", "when client_secret is set")
	}
	d.checkNonEmptyList("genesys.queues", len(g.Queues), `leave it out to watch every queue`)
	d.checkGlobs("genesys.queues", g.Queues)
	d.checkGlobs("genesys.exclude", g.Exclude)
	if g.PollInterval > 0 && g.PollInterval < Duration(time.Second) {
		d.at("genesys.poll_interval", "must be 0 (off) or at least 1s")
	}
	if g.RequestBudget < 1 || g.RequestBudget > 300 {
		d.at("genesys.request_budget", "must be between 1 and 300 requests per minute (Genesys allows 300)")
	}
}

func (d *decoder) validateWebhook(w *Webhook) {
	if !strings.HasPrefix(w.Path, "/") || strings.ContainsAny(w.Path, "?# \t") {
		d.at("webhook.path", `must be a URL path starting with "/", such as /webhook/genesys`)
	}
	for i, t := range w.Tokens {
		if strings.TrimSpace(string(t)) == "" {
			k := indexPath("webhook.tokens", i)
			d.at(k, d.emptyMsg(k))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quotedList renders names as `"a", "b"` for messages, or "none" when
// there are none.
func quotedList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// dedupe removes repeated entries, keeping the first.
func dedupe(list []string) []string {
	if len(list) < 2 {
		return list
	}
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// checkAdvertiseURL validates advertise_url: an http(s) base URL that
// another machine can reach, without credentials, query or fragment. A
// trailing slash is dropped.
func (d *decoder) checkAdvertiseURL(c *Config) {
	if c.AdvertiseURL == "" {
		return
	}
	u, err := url.Parse(c.AdvertiseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.at("advertise_url", "must be an http:// or https:// URL, such as http://10.0.0.5:8080")
		return
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		d.at("advertise_url", "must be a base URL without user, query or fragment, such as http://10.0.0.5:8080")
		return
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		d.at("advertise_url", "must name an address the other replicas can reach, not "+u.Hostname())
		return
	}
	c.AdvertiseURL = strings.TrimSuffix(c.AdvertiseURL, "/")
}
