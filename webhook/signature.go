package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a delivery's signature:
//
//	Skyfence-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//
// The HMAC key is the endpoint's secret (its bytes as written), the message
// is the decimal timestamp, a full stop and the raw request body. The
// timestamp is the time of the attempt (a retry is signed afresh), so a
// receiver can refuse old deliveries replayed at it. A header may carry
// several v1 values (any one matching is enough) and keys other than t and
// v1, which receivers ignore.
const SignatureHeader = "Skyfence-Signature"

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock for Verify to accept it, when a receiver has no better
// figure.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify and ParseSignature.
var (
	ErrMalformedSignature = errors.New("webhook: malformed signature header")
	ErrSignatureMismatch  = errors.New("webhook: no signature matches the body")
	ErrSignatureExpired   = errors.New("webhook: signature timestamp outside the tolerance")
)

// Signature is a parsed SignatureHeader.
type Signature struct {
	// Time is the t value, Unix seconds.
	Time int64
	// V1 are the v1 values, decoded: HMAC-SHA256 sums, 32 bytes each.
	V1 [][]byte
}

// Sign returns the SignatureHeader value for body sent at t with secret.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// ParseSignature parses a SignatureHeader value. It returns
// ErrMalformedSignature unless the header has exactly one t (a decimal
// integer) and at least one v1 (64 hex digits); it ignores other keys.
func ParseSignature(header string) (Signature, error) {
	var sig Signature
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, ErrMalformedSignature
		}
		switch k {
		case "t":
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seenT {
				return Signature{}, ErrMalformedSignature
			}
			sig.Time, seenT = t, true
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return Signature{}, ErrMalformedSignature
			}
			sig.V1 = append(sig.V1, b)
		}
	}
	if !seenT || len(sig.V1) == 0 {
		return Signature{}, ErrMalformedSignature
	}
	return sig, nil
}

// Verify checks a delivery as a receiver should: header is the
// SignatureHeader value, body the raw request body (before any parsing),
// now the receiver's clock. It returns nil if a v1 value is the HMAC of the
// body under secret and the timestamp is within tolerance of now (either
// side); otherwise ErrMalformedSignature, ErrSignatureMismatch or
// ErrSignatureExpired. The comparison takes constant time.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, strconv.FormatInt(sig.Time, 10), body)
	match := false
	for _, v := range sig.V1 {
		if hmac.Equal(v, want) {
			match = true
		}
	}
	if !match {
		return ErrSignatureMismatch
	}
	// Bounds rather than a difference, so that no timestamp overflows.
	tol := int64(tolerance / time.Second)
	if sig.Time < now.Unix()-tol || sig.Time > now.Unix()+tol {
		return ErrSignatureExpired
	}
	return nil
}
