package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// Header names of the authentication methods.
const (
	SignatureHeader = "X-Genesys-Cloud-Signature"
	TimestampHeader = "X-Queuewatch-Timestamp"
)

// authenticator checks the credentials of a request. Secrets stay inside
// it; its answers name what was wrong, never what was expected.
type authenticator struct {
	secret   []byte
	tokens   [][sha256.Size]byte // digests, so comparisons take the same time for any length
	insecure bool
	// macs holds keyed HMAC-SHA256 states, reset after use, so that a
	// request does not set up the keyed hash again.
	macs sync.Pool
}

func newAuthenticator(secret []byte, tokens []string, insecure bool) *authenticator {
	a := &authenticator{insecure: insecure}
	if len(secret) > 0 {
		a.secret = append([]byte(nil), secret...)
		key := a.secret
		a.macs.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	}
	for _, t := range tokens {
		if t != "" {
			a.tokens = append(a.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

// macState is a keyed HMAC-SHA256 and room for its sum.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// configured reports whether any credential is configured.
func (a *authenticator) configured() bool { return len(a.secret) > 0 || len(a.tokens) > 0 }

// check returns "" when the request is authentic, or the reason it is not.
// A valid signature or a valid token suffices; when both are presented and
// neither is valid, the signature's problem is reported.
func (a *authenticator) check(h http.Header, body []byte) string {
	if a.insecure && !a.configured() {
		return ""
	}
	sig := h.Get(SignatureHeader)
	authz := h.Get("Authorization")
	if sig == "" && authz == "" {
		switch {
		case a.insecure:
			return ""
		case len(a.secret) > 0 && len(a.tokens) > 0:
			return "missing signature or token: send " + SignatureHeader + ": sha256=<hex HMAC> or Authorization: Bearer <token>"
		case len(a.secret) > 0:
			return "missing signature: send " + SignatureHeader + ": sha256=<hex HMAC-SHA256 of the body>"
		default:
			return "missing token: send Authorization: Bearer <token>"
		}
	}
	var sigReason, tokReason string
	if sig != "" {
		if sigReason = a.checkSignature(sig, body); sigReason == "" {
			return ""
		}
	}
	if authz != "" {
		if tokReason = a.checkToken(authz); tokReason == "" {
			return ""
		}
	}
	if sigReason != "" {
		return sigReason
	}
	return tokReason
}

// checkSignature verifies X-Genesys-Cloud-Signature: sha256=<hex>.
func (a *authenticator) checkSignature(header string, body []byte) string {
	if len(a.secret) == 0 {
		return "signature not accepted: no webhook secret is configured"
	}
	scheme, digest, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || !strings.EqualFold(scheme, "sha256") {
		return "malformed signature: expected sha256=<64 hex digits>"
	}
	var got [sha256.Size]byte
	var hexDigits [2 * sha256.Size]byte
	if len(digest) != len(hexDigits) {
		return "malformed signature: expected sha256=<64 hex digits>"
	}
	copy(hexDigits[:], digest)
	if _, err := hex.Decode(got[:], hexDigits[:]); err != nil {
		return "malformed signature: expected sha256=<64 hex digits>"
	}
	mac := a.macs.Get().(*macState)
	mac.h.Write(body)
	want := mac.h.Sum(mac.sum[:0])
	match := hmac.Equal(got[:], want)
	mac.h.Reset()
	a.macs.Put(mac)
	if !match {
		return "signature mismatch: the HMAC-SHA256 of the body does not match"
	}
	return ""
}

// checkToken verifies Authorization: Bearer <token> against every
// configured token without stopping at the first match.
func (a *authenticator) checkToken(header string) string {
	if len(a.tokens) == 0 {
		return "token not accepted: no webhook tokens are configured"
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "malformed authorization: expected Bearer <token>"
	}
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range a.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], a.tokens[i][:])
	}
	if match != 1 {
		return "unknown token"
	}
	return ""
}
