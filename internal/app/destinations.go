package app

import (
	"fmt"
	"net/http"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/opsgenie"
	"github.com/queuewatch/queuewatch/internal/notify/pagerduty"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/notify/template"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
)

// destinations are the configured destinations, ready for the dispatcher.
type destinations struct {
	list []notify.Destination
	// heartbeats maps an OpsGenie/JSM destination with a heartbeat name to
	// its notifier, which pings it.
	heartbeats map[string]heartbeater
}

type heartbeater struct {
	name string
	n    *opsgenie.Notifier
}

// deliveryClient is the HTTP client of the notifiers: the default transport
// (proxy from the environment, dial and TLS timeouts), keeping enough idle
// connections per vendor host for the dispatcher's workers and the OpsGenie
// status checks, instead of dialing anew for all but two requests at once.
func deliveryClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// buildDestinations makes one notifier per configured destination. Every
// notifier shares client (its transport and connection pool); each send's
// deadline is set by the dispatcher.
func buildDestinations(cfg *config.Config, client *http.Client) (destinations, error) {
	out := destinations{heartbeats: map[string]heartbeater{}}
	queueURL := func(id string) string { return genesys.QueueAdminURL(cfg.Genesys.Environment, id) }
	for _, d := range cfg.Destinations {
		var n notify.Notifier
		// The configuration checked the templates; nil when there are none.
		tmpl, err := template.Parse(d.Templates.Title, d.Templates.Description)
		if err != nil {
			return destinations{}, fmt.Errorf("destination %s: templates: %w", d.Name, err)
		}
		switch d.Type {
		case "opsgenie", "jsm":
			c := opsgenie.FromDestination(d)
			c.PublicURL, c.QueueURL, c.Templates = cfg.PublicURL, queueURL, tmpl
			var og *opsgenie.Notifier
			og, err = opsgenie.New(c, client)
			if err == nil && d.Heartbeat != "" {
				out.heartbeats[d.Name] = heartbeater{name: d.Heartbeat, n: og}
			}
			n = og
		case "slack":
			n, err = slack.New(slack.Config{
				Name: d.Name, BaseURL: d.URL, Token: d.Token, Channel: d.Channel,
				PublicURL: cfg.PublicURL, QueueURL: queueURL, Templates: tmpl,
			}, client)
		case "pagerduty":
			c := pagerduty.FromDestination(d, cfg.PublicURL)
			c.QueueURL, c.Templates = queueURL, tmpl
			n, err = pagerduty.New(c, client)
		case "webhook":
			n, err = webhook.New(webhook.FromDestination(d, cfg.PublicURL), client)
		default:
			err = fmt.Errorf("unknown type %q", d.Type)
		}
		if err != nil {
			return destinations{}, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		out.list = append(out.list, notify.FromConfig(d, n))
	}
	return out, nil
}
