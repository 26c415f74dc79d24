package webhook

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseSignature(t *testing.T) {
	v := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"t=1700000000,v1=" + v, true},
		{" t=1700000000 , v1=" + v + ",v1=" + v, true},
		{"t=1700000000,v0=zz,v1=" + v, true},
		{"v1=" + v + ",t=-5", true},
		{"", false},
		{"t=1700000000", false},
		{"v1=" + v, false},
		{"t=1700000000,t=1700000001,v1=" + v, false},
		{"t=17e8,v1=" + v, false},
		{"t=1700000000,v1=" + v[:62], false},
		{"t=1700000000,v1=" + strings.Repeat("zz", 32), false},
		{"t=1700000000;v1=" + v, false},
		{"t=1700000000,v1", false},
	} {
		_, err := ParseSignature(tc.header)
		if (err == nil) != tc.ok {
			t.Errorf("ParseSignature(%q) = %v, want ok %v", tc.header, err, tc.ok)
		}
	}
}

func TestVerifyAcceptsAnyOfSeveralSignatures(t *testing.T) {
	body := []byte(`{"id":"1"}`)
	at := time.Unix(1_780_000_000, 0)
	old, cur := Sign("old secret", body, at), Sign("new secret", body, at)
	header := old + "," + strings.Split(cur, ",")[1]
	for _, s := range []string{"old secret", "new secret"} {
		if err := Verify(s, header, body, at, DefaultTolerance); err != nil {
			t.Errorf("Verify(%q) = %v", s, err)
		}
	}
	if err := Verify("other", header, body, at, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("Verify(other) = %v, want ErrSignatureMismatch", err)
	}
	if err := Verify("new secret", header, body, at.Add(-DefaultTolerance-time.Second), DefaultTolerance); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("Verify from the future = %v, want ErrSignatureExpired", err)
	}
}

// The scheme is documented (docs/OPERATIONS.md); the value was computed with
// Python's hmac module, so it checks Sign against an independent
// implementation.
func TestSignKnownValue(t *testing.T) {
	got := Sign("whsec_example", []byte(`{"id":"1"}`), time.Unix(1780000000, 0))
	want := "t=1780000000,v1=" + "beaca60652de327dcbdb0f0332de8b2cfe372e1d08bba6a714b053bf6603b8c4"
	if got != want {
		t.Errorf("Sign = %s\nwant %s", got, want)
	}
}

func FuzzParseSignature(f *testing.F) {
	body := []byte(`{"specversion":"1.0","id":"x"}`)
	at := time.Unix(1_780_000_000, 0)
	f.Add(Sign("s", body, at))
	f.Add("t=1,v1=" + strings.Repeat("0", 64) + ",v1=zz")
	f.Add("t=,v1=,=,,")
	f.Add("t=-9223372036854775808,v1=" + strings.Repeat("f", 64))
	f.Fuzz(func(t *testing.T, header string) {
		sig, err := ParseSignature(header)
		if err == nil && len(sig.V1) == 0 {
			t.Fatalf("ParseSignature(%q) accepted a header with no v1", header)
		}
		// Verify must not panic either, whatever the timestamp, and a
		// header it accepts must hold the body's true signature.
		if Verify("s", header, body, at, DefaultTolerance) == nil {
			_, want, _ := strings.Cut(Sign("s", body, time.Unix(sig.Time, 0)), ",v1=")
			if !strings.Contains(strings.ToLower(header), want) {
				t.Fatalf("Verify accepted %q, which lacks the body's signature %s", header, want)
			}
		}
	})
}

func ExampleVerify() {
	// What a receiver does with a delivery (r is the *http.Request):
	//   body, _ := io.ReadAll(r.Body)
	//   err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), webhook.DefaultTolerance)
	secret := "whsec_example"
	body := []byte(`{"specversion":"1.0","id":"1","type":"io.skyfence.terminal.cutoff"}`)
	sent := time.Unix(1_780_000_000, 0)
	header := Sign(secret, body, sent)
	fmt.Println(Verify(secret, header, body, sent.Add(30*time.Second), DefaultTolerance))
	fmt.Println(Verify(secret, header, append(body, ' '), sent, DefaultTolerance))
	fmt.Println(Verify(secret, header, body, sent.Add(time.Hour), DefaultTolerance))
	// Output:
	// <nil>
	// webhook: no signature matches the body
	// webhook: signature timestamp outside the tolerance
}
