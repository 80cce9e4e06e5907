package config

import (
	"runtime"
	"strings"
	"time"
)

// Defaults of the external contract.
const (
	defaultListen             = "127.0.0.1:8080"
	defaultStore              = "sqlite:queuewatch.db"
	defaultLogLevel           = "info"
	defaultTick               = Duration(time.Second)
	defaultLeaderLease        = Duration(15 * time.Second)
	defaultPollInterval       = Duration(15 * time.Second)
	defaultRequestBudget      = 150
	defaultServiceLevelWindow = Duration(30 * time.Minute)
	defaultDiscoveryInterval  = Duration(5 * time.Minute)
	defaultWebhookPath        = "/webhook/genesys"
	defaultPriority           = "P3"
	defaultFlapWindow         = Duration(30 * time.Minute)
	defaultFlapTransitions    = 4
	minFlapClearFor           = Duration(5 * time.Minute)
	defaultTimeout            = Duration(10 * time.Second)
	defaultRetryInitial       = Duration(time.Second)
	defaultRetryMax           = Duration(5 * time.Minute)
	defaultMaxRetryAfter      = Duration(10 * time.Minute)
	defaultTimezone           = "UTC"
)

// destinationType holds what differs between destination types.
type destinationType struct {
	url   string // default URL, "" when url is required
	rate  float64
	burst int
}

// destinationTypes lists the destination types in the order they are
// documented.
var destinationTypes = map[string]destinationType{
	"opsgenie":  {url: "https://api.opsgenie.com", rate: 5, burst: 10},
	"jsm":       {rate: 5, burst: 10},
	"slack":     {url: "https://slack.com/api", rate: 1, burst: 3},
	"pagerduty": {url: "https://events.pagerduty.com", rate: 2, burst: 5},
	"webhook":   {rate: 10, burst: 20},
}

var destinationTypeNames = []string{"opsgenie", "jsm", "slack", "pagerduty", "webhook"}

// applyDefaults fills in every value the file left out. It runs before
// validate, which checks the completed configuration.
func (d *decoder) applyDefaults(c *Config) {
	setDefault(&c.Listen, defaultListen)
	setDefault(&c.Store, defaultStore)
	setDefault(&c.LogLevel, defaultLogLevel)
	setDefault(&c.LeaderLease, defaultLeaderLease)

	if c.Engine.Shards == 0 {
		c.Engine.Shards = runtime.NumCPU()
	}
	setDefault(&c.Engine.Tick, defaultTick)

	g := &c.Genesys
	if !d.present["genesys.queues"] {
		g.Queues = []string{"*"}
	}
	if !d.present["genesys.poll_interval"] {
		g.PollInterval = defaultPollInterval
	}
	if g.Stream == nil {
		t := true
		g.Stream = &t
	}
	if !d.present["genesys.request_budget"] {
		g.RequestBudget = defaultRequestBudget
	}
	setDefault(&g.ServiceLevelWindow, defaultServiceLevelWindow)
	setDefault(&g.DiscoveryInterval, defaultDiscoveryInterval)

	setDefault(&c.Webhook.Path, defaultWebhookPath)

	for i := range c.Rules {
		d.ruleDefaults(indexPath("rules", i), &c.Rules[i])
	}
	for i := range c.Destinations {
		dst := &c.Destinations[i]
		dst.Type = strings.ToLower(strings.TrimSpace(dst.Type))
		setDefault(&dst.Timeout, defaultTimeout)
		if dt, ok := destinationTypes[dst.Type]; ok {
			setDefault(&dst.URL, dt.url)
			setDefault(&dst.Rate, dt.rate)
			setDefault(&dst.Burst, dt.burst)
		}
		setDefault(&dst.Retry.Initial, defaultRetryInitial)
		setDefault(&dst.Retry.Max, defaultRetryMax)
		setDefault(&dst.Retry.MaxRetryAfter, defaultMaxRetryAfter)
	}
	for i := range c.Schedules {
		setDefault(&c.Schedules[i].Timezone, defaultTimezone)
	}
}

func (d *decoder) ruleDefaults(p string, r *Rule) {
	setDefault(&r.Priority, defaultPriority)
	if !d.present[p+".queues"] {
		r.Queues = []string{"*"}
	}
	threshold := single(r.Above, r.Below)
	if r.Clear == nil && threshold != nil && len(r.Levels) == 0 {
		r.Clear = clone(threshold)
	}
	levelDefaults(r.Levels)
	for i := range r.Overrides {
		o := &r.Overrides[i]
		levelDefaults(o.Levels)
		if o.Disabled || len(o.Levels) > 0 || threshold == nil {
			continue
		}
		switch {
		case o.Threshold == nil && o.Clear != nil:
			o.Threshold = clone(threshold)
		case o.Threshold != nil && o.Clear == nil:
			o.Clear = clone(o.Threshold)
		}
	}

	f := &r.Flap
	fp := p + ".flap"
	if (d.present[fp+".window"] && f.Window == 0) || (d.present[fp+".transitions"] && f.Transitions == 0) {
		// Flap detection is off.
		f.Window, f.Transitions = 0, 0
	} else {
		setDefault(&f.Window, defaultFlapWindow)
		setDefault(&f.Transitions, defaultFlapTransitions)
	}
	if !d.present[fp+".clear_for"] {
		f.ClearFor = max(minFlapClearFor, 3*r.ClearFor)
	}
}

// levelDefaults makes each level's clear default to its threshold.
func levelDefaults(levels []Level) {
	for i := range levels {
		l := &levels[i]
		if t := single(l.Above, l.Below); l.Clear == nil && t != nil {
			l.Clear = clone(t)
		}
	}
}

// single returns the one threshold that is set, or nil when none or both
// are.
func single(above, below *Threshold) *Threshold {
	switch {
	case above != nil && below == nil:
		return above
	case below != nil && above == nil:
		return below
	}
	return nil
}

func clone(t *Threshold) *Threshold {
	c := *t
	return &c
}

// setDefault sets *v to def when *v is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
