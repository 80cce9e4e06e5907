package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewRefusesWithoutAuthentication(t *testing.T) {
	obs := &fakeObserver{}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"nothing", Config{}, ErrAuthRequired.Error()},
		{"empty secret and tokens", Config{Secret: []byte{}, Tokens: []string{"", ""}}, ErrAuthRequired.Error()},
		{"insecure", Config{Insecure: true}, ""},
		{"secret", Config{Secret: []byte("x")}, ""},
		{"token", Config{Tokens: []string{"t"}}, ""},
		{"negative max age", Config{Secret: []byte("x"), MaxAge: -time.Second}, "max age must not be negative"},
		{"negative dedup size", Config{Secret: []byte("x"), DedupSize: -1}, "dedup size must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = baseConfig(newClock()).Logger
			h, err := New(tt.cfg, obs)
			if tt.wantErr == "" {
				if err != nil || h == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := New(Config{}, obs); !errors.Is(err, ErrAuthRequired) ||
		err.Error() != "webhook authentication is required: set webhook.secret or webhook.tokens, or webhook.insecure: true" {
		t.Errorf("error %q", err)
	}
	if _, err := New(Config{Insecure: true}, nil); err == nil {
		t.Error("New accepted a nil Observer")
	}
}

func TestAuthentication(t *testing.T) {
	body := tutorialEvent("evt-auth", "longest_wait", 42, "seconds")
	good := sign(testSecret, body)
	tests := []struct {
		name    string
		edit    func(*Config)
		hdr     map[string]string
		code    int
		wantErr string
	}{
		{"good signature", nil, map[string]string{SignatureHeader: good}, 202, ""},
		{"upper-case signature", nil, map[string]string{SignatureHeader: "SHA256=" + strings.ToUpper(good[7:])}, 202, ""},
		{"signature of another body", nil, map[string]string{SignatureHeader: sign(testSecret, body+" ")}, 401, "signature mismatch"},
		{"signature with another secret", nil, map[string]string{SignatureHeader: sign("guess", body)}, 401, "signature mismatch"},
		{"signature without scheme", nil, map[string]string{SignatureHeader: good[7:]}, 401, "malformed signature"},
		{"sha1 signature", nil, map[string]string{SignatureHeader: "sha1=" + good[7:47]}, 401, "malformed signature"},
		{"short signature", nil, map[string]string{SignatureHeader: good[:40]}, 401, "malformed signature"},
		{"non-hex signature", nil, map[string]string{SignatureHeader: "sha256=" + strings.Repeat("zz", 32)}, 401, "malformed signature"},
		{"missing, secret and tokens", nil, nil, 401, "missing signature or token"},
		{"missing, secret only", func(c *Config) { c.Tokens = nil }, nil, 401, "missing signature: send X-Genesys-Cloud-Signature"},
		{"missing, tokens only", func(c *Config) { c.Secret = nil }, nil, 401, "missing token: send Authorization: Bearer"},
		{"first token", nil, map[string]string{"Authorization": "Bearer " + testToken}, 202, ""},
		{"second token, lower-case scheme", nil, map[string]string{"Authorization": "bearer " + testToken2}, 202, ""},
		{"unknown token", nil, map[string]string{"Authorization": "Bearer " + testToken + "x"}, 401, "unknown token"},
		{"token prefix", nil, map[string]string{"Authorization": "Bearer " + testToken[:5]}, 401, "unknown token"},
		{"basic auth", nil, map[string]string{"Authorization": "Basic " + testToken}, 401, "malformed authorization"},
		{"empty bearer", nil, map[string]string{"Authorization": "Bearer "}, 401, "malformed authorization"},
		{"signature without a configured secret", func(c *Config) { c.Secret = nil },
			map[string]string{SignatureHeader: good}, 401, "no webhook secret is configured"},
		{"token without configured tokens", func(c *Config) { c.Tokens = nil },
			map[string]string{"Authorization": "Bearer " + testToken}, 401, "no webhook tokens are configured"},
		{"bad signature but good token", nil,
			map[string]string{SignatureHeader: sign("guess", body), "Authorization": "Bearer " + testToken}, 202, ""},
		{"bad signature and bad token", nil,
			map[string]string{SignatureHeader: sign("guess", body), "Authorization": "Bearer nope"}, 401, "signature mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.edit)
			r := f.do(http.MethodPost, body, tt.hdr)
			if r.code != tt.code {
				t.Fatalf("status %d, want %d: %s", r.code, tt.code, r.raw)
			}
			if tt.wantErr != "" && !strings.Contains(r.str("error"), tt.wantErr) {
				t.Fatalf("error %q, want it to contain %q", r.str("error"), tt.wantErr)
			}
			wantCalls := 0
			if tt.code == 202 {
				wantCalls = 1
			}
			if f.obs.ncalls() != wantCalls {
				t.Fatalf("Observe called %d times, want %d", f.obs.ncalls(), wantCalls)
			}
			if tt.code == 401 && f.h.Stats().Rejected[ResultUnauthorized] != 1 {
				t.Fatalf("stats %+v", f.h.Stats())
			}
		})
	}
}

func TestInsecureMode(t *testing.T) {
	body := tutorialEvent("evt-insecure", "waiting", 4, "")
	t.Run("nothing configured accepts anything", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Secret, c.Tokens, c.Insecure = nil, nil, true })
		for _, hdr := range []map[string]string{nil, {SignatureHeader: "sha256=00"}, {"Authorization": "Bearer x"}} {
			if r := f.do(http.MethodPost, body, hdr); r.code != 202 && r.code != 200 {
				t.Fatalf("headers %v: status %d: %s", hdr, r.code, r.raw)
			}
		}
		if f.obs.ncalls() != 1 {
			t.Fatalf("Observe called %d times, want 1 (then duplicates)", f.obs.ncalls())
		}
	})
	t.Run("configured credentials are still checked", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Insecure = true })
		if r := f.do(http.MethodPost, body, map[string]string{"Authorization": "Bearer wrong"}); r.code != 401 {
			t.Fatalf("wrong token: status %d", r.code)
		}
		if r := f.do(http.MethodPost, body, nil); r.code != 202 {
			t.Fatalf("no credentials: status %d: %s", r.code, r.raw)
		}
	})
}

// TestSecretsNeverInResponses sends many refused and accepted requests and
// checks that no answer contains a secret, a token or the expected HMAC.
func TestSecretsNeverInResponses(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAge = time.Minute })
	body := tutorialEvent("evt-secret", "service_level", 0.5, "ratio")
	expected := sign(testSecret, body)
	f.obs.fail = 1
	requests := []map[string]string{
		nil,
		{SignatureHeader: sign(testToken, body)},
		{SignatureHeader: "sha256=" + strings.Repeat("0", 64)},
		{SignatureHeader: "garbage " + testToken},
		{"Authorization": "Bearer " + testSecret},
		{"Authorization": "Bearer " + testToken[:len(testToken)-1]},
		{"Authorization": testToken},
		{SignatureHeader: expected}, // 503: the engine error names a path
		{SignatureHeader: expected, TimestampHeader: "junk"},
		{SignatureHeader: expected},
	}
	for _, hdr := range requests {
		r := f.do(http.MethodPost, body, hdr)
		for _, s := range []string{testSecret, testToken, testToken2, expected[7:], "secret-path", errEngine.Error()} {
			if strings.Contains(r.raw, s) || strings.Contains(strings.Join(headerValues(r.header), " "), s) {
				t.Fatalf("answer %d leaks %q: %s", r.code, s, r.raw)
			}
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		if r := f.do(m, body, nil); strings.Contains(r.raw, testSecret) {
			t.Fatalf("%s leaks the secret", m)
		}
	}
}

func headerValues(h http.Header) []string {
	var out []string
	for k, v := range h {
		out = append(out, k)
		out = append(out, v...)
	}
	return out
}
