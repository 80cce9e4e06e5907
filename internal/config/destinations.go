package config

import (
	"strings"
	"unicode/utf8"

	"github.com/queuewatch/queuewatch/internal/notify/template/core"
)

const (
	maxTags   = 20
	maxTagLen = 50
	// maxWorkers bounds a destination's sends in flight: far more than a
	// vendor's rate limits let through.
	maxWorkers = 1024
)

var responderTypes = []string{"team", "user", "escalation", "schedule"}

func (d *decoder) validateDestinations(dsts []Destination) {
	names := map[string]string{}
	for i := range dsts {
		p := indexPath("destinations", i)
		dst := &dsts[i]
		d.checkName(p, "destination", dst.Name, names)
		d.validateDestination(p, dst)
	}
}

func (d *decoder) validateDestination(p string, dst *Destination) {
	typ := dst.Type
	switch {
	case typ == "":
		d.required(p+".type", "("+strings.Join(destinationTypeNames, ", ")+")")
		return
	case !contains(destinationTypeNames, typ):
		d.atf(p+".type", "unknown destination type %q; use one of %s", typ, strings.Join(destinationTypeNames, ", "))
		return
	}

	// Which keys each type needs, and which it has no use for.
	uses := map[string]bool{}
	need := func(key string, empty bool) {
		uses[key] = true
		if empty {
			d.required(p+"."+key, "for type "+typ)
		}
	}
	switch typ {
	case "opsgenie":
		need("api_key", dst.APIKey == "")
		uses["responders"], uses["heartbeat"], uses["templates"] = true, true, true
	case "jsm":
		need("url", dst.URL == "")
		need("api_key", dst.APIKey == "")
		uses["responders"], uses["heartbeat"], uses["templates"] = true, true, true
	case "slack":
		need("token", dst.Token == "")
		need("channel", dst.Channel == "")
		uses["templates"] = true
	case "pagerduty":
		need("routing_key", dst.RoutingKey == "")
		uses["templates"] = true
	case "webhook":
		need("url", dst.URL == "")
		uses["secret"] = true
	}
	for _, k := range []string{"api_key", "token", "channel", "routing_key", "secret", "responders", "heartbeat", "templates"} {
		if !uses[k] && d.present[p+"."+k] {
			d.atf(p+"."+k, "is not used by type %s", typ)
		}
	}

	d.checkURL(p+".url", dst.URL)
	if typ != "webhook" {
		// The notifiers append API paths to it.
		dst.URL = strings.TrimRight(dst.URL, "/")
	}

	for j := range dst.Responders {
		d.checkResponder(indexPath(p+".responders", j), &dst.Responders[j])
	}

	if len(dst.Tags) > maxTags {
		d.atf(p+".tags", "has %d tags; at most %d are allowed", len(dst.Tags), maxTags)
	}
	for j, t := range dst.Tags {
		k := indexPath(p+".tags", j)
		switch {
		case strings.TrimSpace(t) == "":
			d.at(k, d.emptyMsg(k))
		case utf8.RuneCountInString(t) > maxTagLen:
			d.atf(k, "is longer than %d characters", maxTagLen)
		}
	}

	if dst.Rate < 0 {
		d.at(p+".rate", "must not be negative")
	}
	if dst.Burst < 0 {
		d.at(p+".burst", "must not be negative")
	}
	if d.present[p+".workers"] && (dst.Workers < 1 || dst.Workers > maxWorkers) {
		d.atf(p+".workers", "must be between 1 and %d", maxWorkers)
	}
	if dst.Retry.Initial > dst.Retry.Max {
		d.atf(p+".retry.initial", "must not be longer than retry.max (%s)", dst.Retry.Max)
	}
	if uses["templates"] {
		d.checkTemplate(p+".templates.title", "title", dst.Templates.Title)
		if typ == "pagerduty" && d.present[p+".templates.description"] {
			d.at(p+".templates.description", "is not used by type pagerduty; its events have only a summary, set by title")
		} else {
			d.checkTemplate(p+".templates.description", "description", dst.Templates.Description)
		}
	}
}

// checkTemplate reports a notification template that does not parse or
// fails on sample data, with the same functions the notifiers render with.
func (d *decoder) checkTemplate(key, name, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if err := core.Check(name, text); err != nil {
		d.at(key, err.Error())
	}
}

func (d *decoder) checkResponder(p string, r *Responder) {
	r.Type = strings.ToLower(strings.TrimSpace(r.Type))
	switch {
	case r.Type == "":
		d.required(p+".type", "("+strings.Join(responderTypes, ", ")+")")
		return
	case !contains(responderTypes, r.Type):
		d.atf(p+".type", "unknown responder type %q; use one of %s", r.Type, strings.Join(responderTypes, ", "))
		return
	}
	if r.Type == "user" {
		if r.ID == "" && r.Name == "" && r.Username == "" {
			d.at(p, `needs "id", "name" or "username"`)
		}
		return
	}
	if r.Username != "" {
		d.at(p+".username", `is only for responders of type user; use "name" or "id"`)
	}
	if r.ID == "" && r.Name == "" {
		d.at(p, `needs "id" or "name"`)
	}
}
