package audit_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/audit"
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

// TestPythonVerifierTree runs the document's verifier with a sealed log's
// checkpoint, its key and a receipt: it accepts them as they are, and
// refuses another key, a forged checkpoint, a cut export and a receipt
// for another entry.
func TestPythonVerifierTree(t *testing.T) {
	script := docScript(t)
	s := openSQLite(t, sqliteFile(t))
	k := signer(1)
	sealed(t, s, k)
	appendEntries(t, s, 2, 40)
	var export bytes.Buffer
	if _, err := audit.Export(t.Context(), &export, s); err != nil {
		t.Fatal(err)
	}
	cp, err := s.FindAuditCheckpoint(t.Context(), 30)
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := audit.VerifierKey(origin, k.PublicKey())
	proof, err := audit.ProveInclusion(t.Context(), s, 17, 30)
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := json.Marshal(map[string]any{"inclusion_proof": proof})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lines := strings.SplitAfter(export.String(), "\n")
	full, cut := write("full.jsonl", export.Bytes()), write("cut.jsonl", []byte(strings.Join(lines[:26], "")))
	cpFile, rcFile := write("cp.txt", cp.Note), write("receipt.json", receipt)
	other, _ := audit.VerifierKey(origin, signer(2).PublicKey())
	forged, _ := signer(2).SignCheckpoint(audit.Checkpoint{Origin: origin, Size: 30, Root: cp.Root})
	wrongProof := *proof
	wrongProof.Seq = 18
	wrong, _ := json.Marshal(map[string]any{"inclusion_proof": wrongProof})
	badPath := *proof
	badPath.Proof = slices.Clone(proof.Proof)
	badPath.Proof[0] = proof.LeafHash
	bad, _ := json.Marshal(map[string]any{"inclusion_proof": badPath})
	for _, tc := range []struct {
		name string
		args []string
		want string
		ok   bool
	}{
		{"checkpoint and receipt", []string{full, "--checkpoint", cpFile, "--key", vkey, "--receipt", rcFile}, "ok: entry 17 is in the checkpoint's tree", true},
		{"another key", []string{full, "--checkpoint", cpFile, "--key", other}, "not signed by --key", false},
		{"a checkpoint signed by another key", []string{full, "--checkpoint", write("forged.txt", forged), "--key", vkey}, "not signed by --key", false},
		{"the export cut before the checkpoint", []string{cut, "--checkpoint", cpFile, "--key", vkey}, "its tail was cut", false},
		{"a receipt with a hash of its path changed", []string{full, "--checkpoint", cpFile, "--key", vkey, "--receipt", write("bad.json", bad)}, "the inclusion proof of entry 17 fails", false},
		{"a receipt for another entry", []string{full, "--checkpoint", cpFile, "--key", vkey, "--receipt", write("wrong.json", wrong)}, "is not entry 18", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), "python3", append([]string{script}, tc.args...)...).CombinedOutput()
			if (err == nil) != tc.ok || !strings.Contains(string(out), tc.want) {
				t.Errorf("verify.py: %v\n%s\nwant ok=%v and %q", err, out, tc.ok, tc.want)
			}
		})
	}
}
