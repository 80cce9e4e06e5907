package opsgenie

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Field limits of the Alert API in characters (notify-apis.md §1.2, §1.4).
const (
	maxMessage     = 130
	maxAlias       = 512
	maxDescription = 15000
	maxRecipients  = 50
	maxActions     = 10
	maxActionLen   = 50
	maxTags        = 20
	maxTagLen      = 50
	maxDetails     = 8000
	maxEntity      = 512
	maxSource      = 100
	maxUser        = 100
	maxNote        = 25000
)

// recipient is a responder or visibleTo entry of a create request.
type recipient struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// createBody is the body of POST /v2/alerts. Entity is a string: the
// tutorial's {id, name, type} object is refused with 422.
type createBody struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Responders  []recipient       `json:"responders"`
	VisibleTo   []recipient       `json:"visibleTo"`
	Actions     []string          `json:"actions"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	User        string            `json:"user"`
	Note        string            `json:"note"`
}

// actionBody is the body of close, acknowledge, unacknowledge and notes.
type actionBody struct {
	User   string `json:"user"`
	Source string `json:"source"`
	Note   string `json:"note"`
}

// fieldErrors collects per-field problems for a 422 answer.
type fieldErrors map[string]string

func (f fieldErrors) maxLen(field, v string, n int) {
	if utf8.RuneCountInString(v) > n {
		f[field] = fmt.Sprintf("%s can not be longer than %d characters", field, n)
	}
}

func (f fieldErrors) list(field string, vs []string, items, itemLen int) {
	if len(vs) > items {
		f[field] = fmt.Sprintf("%s can not have more than %d items", field, items)
	}
	for i, v := range vs {
		if utf8.RuneCountInString(v) > itemLen {
			f[fmt.Sprintf("%s[%d]", field, i)] = fmt.Sprintf("%s can not be longer than %d characters", field, itemLen)
		}
	}
}

func (f fieldErrors) priority(field, p string, required bool) {
	switch p {
	case "P1", "P2", "P3", "P4", "P5":
	case "":
		if required {
			f[field] = field + " can not be empty"
		}
	default:
		f[field] = fmt.Sprintf("Invalid priority [%s]. Valid values are P1, P2, P3, P4, P5", p)
	}
}

func (f fieldErrors) recipients(field string, rs []recipient) {
	if len(rs) > maxRecipients {
		f[field] = fmt.Sprintf("%s can not have more than %d items", field, maxRecipients)
	}
	for _, r := range rs {
		switch r.Type {
		case "team", "escalation", "schedule":
			if r.ID == "" && r.Name == "" {
				f[field+"#id"] = fmt.Sprintf("%s recipient needs an id or a name", r.Type)
			}
		case "user":
			if r.ID == "" && r.Username == "" {
				f[field+"#id"] = "user recipient needs an id or a username"
			}
		default:
			f[field+"#type"] = fmt.Sprintf("Invalid recipient type '%s'", r.Type)
		}
	}
}

// validateCreate checks a create request against the documented limits.
func validateCreate(p createBody) fieldErrors {
	f := fieldErrors{}
	if strings.TrimSpace(p.Message) == "" {
		f["message"] = "Message can not be empty."
	}
	f.maxLen("message", p.Message, maxMessage)
	f.maxLen("alias", p.Alias, maxAlias)
	f.maxLen("description", p.Description, maxDescription)
	f.recipients("responders", p.Responders)
	f.recipients("visibleTo", p.VisibleTo)
	f.list("actions", p.Actions, maxActions, maxActionLen)
	f.list("tags", p.Tags, maxTags, maxTagLen)
	size := 0
	for k, v := range p.Details {
		size += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
	}
	if size > maxDetails {
		f["details"] = fmt.Sprintf("details can not be longer than %d characters in total (got %d)", maxDetails, size)
	}
	f.maxLen("entity", p.Entity, maxEntity)
	f.maxLen("source", p.Source, maxSource)
	f.maxLen("user", p.User, maxUser)
	f.maxLen("note", p.Note, maxNote)
	f.priority("priority", p.Priority, false)
	return f
}

// validateAction checks the body of close, acknowledge and notes.
func validateAction(p actionBody, noteRequired bool) fieldErrors {
	f := fieldErrors{}
	if noteRequired && strings.TrimSpace(p.Note) == "" {
		f["note"] = "note can not be empty"
	}
	f.maxLen("user", p.User, maxUser)
	f.maxLen("source", p.Source, maxSource)
	f.maxLen("note", p.Note, maxNote)
	return f
}
