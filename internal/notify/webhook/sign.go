package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Headers of every webhook request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
	// keyed with the destination's secret. It is absent when no secret is set.
	SignatureHeader = "X-Queuewatch-Signature"
	// TimestampHeader carries the send time in Unix seconds (the body's
	// sent_at, which the signature covers).
	TimestampHeader = "X-Queuewatch-Timestamp"
	// DeliveryHeader carries the delivery id, the same on every retry, so a
	// receiver can drop duplicates.
	DeliveryHeader = "X-Queuewatch-Delivery"
)

const sigPrefix = "sha256="

// Sign returns the SignatureHeader value of body: "sha256=<hex HMAC-SHA256>".
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return sigPrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is a valid SignatureHeader value of body
// under secret. The comparison takes constant time; an empty secret never
// verifies.
func Verify(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), sigPrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
