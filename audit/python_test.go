package audit_test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docScript returns the Python verifier of docs/AUDIT.md, written to a
// file, or skips if Python 3 with the cryptography package is not here.
func docScript(t *testing.T) string {
	t.Helper()
	if err := exec.Command("python3", "-c", "import cryptography").Run(); err != nil {
		t.Skipf("python3 with the cryptography package is not available: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "AUDIT.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```python\n")
	script, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("docs/AUDIT.md has no ```python block")
	}
	path := filepath.Join(t.TempDir(), "verify.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPythonVerifier runs the document's verifier on an export, untouched
// and tampered with: what a regulator runs must say what Verify says.
func TestPythonVerifier(t *testing.T) {
	script := docScript(t)
	_, k, export := exported(t)
	run := func(t *testing.T, export string, args ...string) (string, error) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		if err := os.WriteFile(path, []byte(export), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), "python3", append([]string{script, path}, args...)...).CombinedOutput()
		return string(out), err
	}
	pub := base64.StdEncoding.EncodeToString(k.PublicKey())
	for _, args := range [][]string{nil, {pub}} {
		out, err := run(t, export, args...)
		if err != nil || !strings.HasPrefix(out, "ok: 28 entries, signed up to entry 27, head 28:") {
			t.Errorf("verify.py %v: %v\n%s\nwant ok: 28 entries, signed up to entry 27", args, err, out)
		}
	}
	if out, err := run(t, export, base64.StdEncoding.EncodeToString(signer(2).PublicKey())); err == nil || !strings.Contains(out, "entry 1: a root key that is not pinned") {
		t.Errorf("verify.py pinned to another key: %v\n%s\nwant entry 1 refused", err, out)
	}
	for _, tc := range lineTampers {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tamperLines(export, tc.fn))
			if err == nil || !strings.HasPrefix(out, "entry ") {
				t.Errorf("verify.py: %v\n%s\nwant a failure naming an entry", err, out)
			}
		})
	}
}
