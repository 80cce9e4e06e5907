package config

// Destination returns the destination called name and whether there is
// one.
func (c *Config) Destination(name string) (Destination, bool) {
	for _, d := range c.Destinations {
		if d.Name == name {
			return d, true
		}
	}
	return Destination{}, false
}

// Schedule returns the schedule called name and whether there is one.
func (c *Config) Schedule(name string) (Schedule, bool) {
	for _, s := range c.Schedules {
		if s.Name == name {
			return s, true
		}
	}
	return Schedule{}, false
}

// WebhookAuthConfigured reports whether the inbound webhook can
// authenticate requests: a signing secret or at least one bearer token is
// set. Parse accepts a configuration without either; serve refuses to
// start on one unless webhook.insecure is true.
func (c *Config) WebhookAuthConfigured() bool {
	return c.Webhook.Secret != "" || len(c.Webhook.Tokens) > 0
}
