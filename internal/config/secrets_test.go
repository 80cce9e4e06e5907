package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile creates dir/name (and its folders) with content.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretFiles reads every *_file key, with paths relative to the
// configuration file's folder and absolute ones.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	abs := writeFile(t, dir, "abs/pagerduty", "pd-routing-key\n")
	writeFile(t, dir, "conf/secrets/api-token", "api-token-value\n")
	writeFile(t, dir, "conf/secrets/genesys", "genesys-secret \r\n\n")
	writeFile(t, dir, "conf/secrets/webhook", "webhook-secret")
	writeFile(t, dir, "conf/secrets/tokens", "tok-a\n\n  tok-b  \r\n\n")
	writeFile(t, dir, "shared/opsgenie", "og-key\n")
	writeFile(t, dir, "conf/secrets/slack", "xoxb-slack\n")
	writeFile(t, dir, "conf/secrets/outbound", "outbound-secret\n")
	cfg := writeFile(t, dir, "conf/queuewatch.yaml", fmt.Sprintf(`api_token_file: secrets/api-token
genesys:
  client_id: id
  client_secret_file: ./secrets/genesys
webhook:
  secret_file: secrets/webhook
  tokens_file: secrets/tokens
destinations:
  - name: og
    type: opsgenie
    api_key_file: ../shared/opsgenie
  - name: sl
    type: slack
    token_file: secrets/slack
    channel: C1
  - name: pd
    type: pagerduty
    routing_key_file: %s
  - name: hook
    type: webhook
    url: https://example.com/hook
    secret_file: ${SECRETS_DIR}/outbound
`, abs))
	t.Setenv("SECRETS_DIR", filepath.Join(dir, "conf/secrets"))

	c, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != cfg {
		t.Errorf("File = %q, want %q", c.File, cfg)
	}
	checks := []struct {
		name      string
		got, want string
	}{
		{"api_token", c.APIToken.Value(), "api-token-value"},
		{"genesys.client_secret", c.Genesys.ClientSecret.Value(), "genesys-secret"},
		{"webhook.secret", c.Webhook.Secret.Value(), "webhook-secret"},
		{"opsgenie api_key", c.Destinations[0].APIKey.Value(), "og-key"},
		{"slack token", c.Destinations[1].Token.Value(), "xoxb-slack"},
		{"pagerduty routing_key", c.Destinations[2].RoutingKey.Value(), "pd-routing-key"},
		{"webhook secret", c.Destinations[3].Secret.Value(), "outbound-secret"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if got := c.Webhook.Tokens; len(got) != 2 || got[0] != "tok-a" || got[1] != "tok-b" {
		t.Errorf("webhook.tokens = %q, want [tok-a tok-b]", got)
	}
	if !c.WebhookAuthConfigured() {
		t.Error("WebhookAuthConfigured() = false with a secret and tokens")
	}
}

func TestSecretFileProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty", "\n\n")
	writeFile(t, dir, "key", "value\n")
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "queuewatch.yaml")
	src := `api_token: x
api_token_file: key
webhook:
  tokens: [a]
  tokens_file: empty
destinations:
  - name: og
    type: opsgenie
    api_key_file: empty
  - name: og2
    type: opsgenie
    api_key_file: folder
  - name: og3
    type: opsgenie
    api_key_file: missing
  - name: og4
    type: opsgenie
    api_key_file: ${KEY_DIR}/key
  - name: og5
    type: opsgenie
    api_key_file: [key]
`
	_, err := Parse(cfg, []byte(src), nil)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	want := []string{
		cfg + ":2: api_token_file: cannot be used together with api_token; set only one of them",
		cfg + ":5: webhook.tokens_file: cannot be used together with tokens; set only one of them",
		cfg + ":9: destinations[0].api_key: is empty (file " + filepath.Join(dir, "empty") + " is empty)",
		cfg + ":12: destinations[1].api_key_file: cannot read " + filepath.Join(dir, "folder") + ": not a regular file",
		cfg + ":15: destinations[2].api_key_file: cannot read " + filepath.Join(dir, "missing") + ": no such file or directory",
		cfg + ":18: destinations[3].api_key_file: cannot read /key: no such file or directory",
		cfg + ":21: destinations[4].api_key_file: must be a file name, not a list",
	}
	got := strings.Split(err.Error(), "\n")
	if !equalLines(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", joinLines(got), joinLines(want))
	}
}

// TestSecretsNeverInErrors provokes every kind of problem around secret
// values, from the environment, from files and written inline, and checks
// that no message contains any of them.
func TestSecretsNeverInErrors(t *testing.T) {
	dir := t.TempDir()
	secrets := []string{
		"s3cr3t-env-value", "s3cr3t-file-value", "s3cr3t-inline", "s3cr3t-default",
		"s3cr3t-db-password", "s3cr3t-url-password", "s3cr3t-token-file",
	}
	writeFile(t, dir, "key", "s3cr3t-file-value\n")
	writeFile(t, dir, "tokens", "s3cr3t-token-file\n")
	src := `api_token: ${API_TOKEN}
api_token_file: key
store: mysql://user:s3cr3t-db-password@db/qw
public_url: ftp://user:s3cr3t-url-password@example.com
webhook:
  secret: [s3cr3t-inline]
  tokens: ${API_TOKEN}
genesys:
  client_secret: ${UNTERMINATED:-s3cr3t-default
destinations:
  - name: sl
    type: slack
    api_key: ${API_TOKEN}
    routing_key_file: key
    tokens_file: tokens
    channel: C1
  - name: og
    type: opsgenie
    api_key: s3cr3t-inline
    api_key_file: key
    url: ftp://x:s3cr3t-url-password@example.com
  - name: hook
    type: webhook
    url: https://x:s3cr3t-url-password@example.com:bad
    secret: {value: s3cr3t-inline}
`
	_, err := Parse(filepath.Join(dir, "q.yaml"), []byte(src), env("API_TOKEN", "s3cr3t-env-value"))
	if err == nil {
		t.Fatal("Parse accepted a configuration full of mistakes")
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n") + 1; n < 10 {
		t.Errorf("only %d problems reported, want at least 10:\n%s", n, msg)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("a secret appears in the errors: %q\n%s", s, msg)
		}
	}
}

// TestSecretsRedacted checks that printing or marshalling a parsed
// configuration never shows a secret.
func TestSecretsRedacted(t *testing.T) {
	src := `api_token: tok-secret
genesys:
  client_id: id
  client_secret: genesys-secret
webhook:
  secret: hook-secret
  tokens: [bearer-secret]
destinations:
  - name: og
    type: opsgenie
    api_key: og-secret
`
	c := mustParse(t, src, nil)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v", *c),
		"%s":   fmt.Sprintf("%s", c.APIToken),
		"json": string(js),
	}
	for verb, out := range outputs {
		for _, s := range []string{"tok-secret", "genesys-secret", "hook-secret", "bearer-secret", "og-secret"} {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains %q", verb, s)
			}
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s output does not say [redacted]", verb)
		}
	}
	if Secret("").String() != "" {
		t.Error("an empty Secret should print as empty")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load error = %v, want one wrapping fs.ErrNotExist", err)
	}
}
