package audit_test

import (
	"testing"

	"github.com/skyfence/skyfence/audit"
)

// FuzzParseCheckpoint: no input panics, and what parses writes back as
// its three lines.
func FuzzParseCheckpoint(f *testing.F) {
	for _, s := range []string{
		"skyfence/audit\n42\nqy6FN/5uFm4Y7yMfH6Hhk4haS8gyQ0Sa2G+2yfnjnmU=\n",
		"o\n0\nqy6FN/5uFm4Y7yMfH6Hhk4haS8gyQ0Sa2G+2yfnjnmU=\next\n",
		"o\n-1\nAAAA\n", "o\n01\n\n", "\n\n\n", "o\n9223372036854775808\nx\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := audit.ParseCheckpoint(text)
		if err != nil {
			return
		}
		again, err := audit.ParseCheckpoint(c.Text())
		if err != nil || again != c {
			t.Fatalf("%q parses to %+v, whose text %q parses to %+v, %v", text, c, c.Text(), again, err)
		}
	})
}

// FuzzOpenCheckpoint: no signed note, however mangled, panics or opens
// with a key that did not sign it.
func FuzzOpenCheckpoint(f *testing.F) {
	k := signer(1)
	good, _ := k.SignCheckpoint(audit.Checkpoint{Origin: "o", Size: 3})
	f.Add(good)
	f.Add([]byte("o\n3\nAAAA\n\n— o AAAA\n"))
	other := signer(2).PublicKey()
	f.Fuzz(func(t *testing.T, msg []byte) {
		audit.OpenCheckpoint(msg, k.PublicKey())
		if _, err := audit.OpenCheckpoint(msg, other); err == nil {
			t.Fatalf("%q opens with a key that never signed", msg)
		}
	})
}

// FuzzCosignatureVerifier: no key text panics.
func FuzzCosignatureVerifier(f *testing.F) {
	f.Add(audit.NewCosigner("w.example/1", signer(9), nil).VerifierKey())
	f.Add("a+00000000+BA==")
	f.Add("++")
	f.Fuzz(func(t *testing.T, vkey string) {
		if v, err := audit.NewCosignatureVerifier(vkey); err == nil {
			v.Verify([]byte("x\n"), make([]byte, 72))
		}
	})
}
