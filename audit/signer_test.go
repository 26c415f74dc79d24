package audit_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/audit"
)

func TestCreateAndLoadSigner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", audit.KeyFile)
	s, err := audit.LoadOrCreateSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %04o, want 0600", got)
	}
	again, err := audit.LoadOrCreateSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID() != s.KeyID() || !again.PublicKey().Equal(s.PublicKey()) {
		t.Errorf("loaded key %s, want the created %s", again.KeyID(), s.KeyID())
	}
	if _, err := audit.CreateSigner(path); err == nil {
		t.Error("CreateSigner overwrote an existing key")
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadSigner(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadSigner of a group-readable key: %v, want a refusal saying chmod 600", err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyID(t *testing.T) {
	// The first 8 bytes of SHA-256 of the RFC 8032 test 1 public key.
	pub := ed25519.NewKeyFromSeed(mustHex(t, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).Public().(ed25519.PublicKey)
	if got, want := audit.KeyID(pub), "21fe31dfa154a261"; got != want {
		t.Errorf("KeyID = %s, want %s", got, want)
	}
}

func TestLoadSignerFormats(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	priv := ed25519.NewKeyFromSeed(seed)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	want := audit.KeyID(priv.Public().(ed25519.PublicKey))
	for _, tc := range []struct {
		name, text string
	}{
		{"pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))},
		{"base64 seed", base64.StdEncoding.EncodeToString(seed) + "\n"},
		{"base64 key", base64.StdEncoding.EncodeToString(priv)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := audit.LoadSigner(path)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyID() != want {
				t.Errorf("key id %s, want %s", s.KeyID(), want)
			}
		})
	}
	bad := append([]byte{}, priv...)
	bad[40] ^= 1 // the public half no longer matches the seed
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(bad)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadSigner(path); err == nil {
		t.Error("LoadSigner accepted a 64-byte key whose public half does not match its seed")
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		base64.StdEncoding.EncodeToString(pub) + "\n",
	} {
		got, err := audit.ParsePublicKey([]byte(text))
		if err != nil {
			t.Fatalf("ParsePublicKey(%q): %v", text, err)
		}
		if !got.Equal(pub) {
			t.Errorf("ParsePublicKey(%q) = %x, want %x", text, got, pub)
		}
	}
	if _, err := audit.ParsePublicKey([]byte(base64.StdEncoding.EncodeToString(pub[:31]))); err == nil {
		t.Error("ParsePublicKey accepted 31 bytes")
	}
}
