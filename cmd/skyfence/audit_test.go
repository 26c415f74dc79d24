package main

import (
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/sqlite"
)

// auditData writes an audit log of 12 entries, signed up to entry 11 by a
// fixed key, in a new data directory, and returns the directory.
func auditData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "skyfence.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := audit.NewSigner(ed25519.NewKeyFromSeed(make([]byte, 32)))
	steps := []func(tx skyfence.Tx) error{func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, k) }}
	for i := 2; i <= 10; i++ {
		steps = append(steps, func(tx skyfence.Tx) error {
			return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{
				Time:  time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC),
				Actor: "key-ops", Action: "terminal.status", Subject: fmt.Sprintf("UT-%d", i), Reason: "test",
				Data: json.RawMessage(`{"to":"suspended"}`),
			})
		})
	}
	steps = append(steps, func(tx skyfence.Tx) error { return k.Checkpoint(t.Context(), tx) })
	steps = append(steps, func(tx skyfence.Tx) error {
		return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "key-ops", Action: "terminal.status", Subject: "UT-12"})
	})
	for _, step := range steps {
		if err := db.Tx(t.Context(), step); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var headLine = regexp.MustCompile(`(?m)^head: +(12:[0-9a-f]{64})$`)

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	dir := auditData(t)
	out, errs, code := runCLI(t, "", "audit", "verify", "--store", "sqlite", "--data", dir)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
	}
	pub := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	for _, want := range []string{
		"entries:     12\n", "checkpoints: 1\n", "from entry 1, trusted on first use (public key " + pub + ")\n",
		"signed:      up to entry 10\n", "result:      ok\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output\n%s\nwant a line %q", out, want)
		}
	}
	head := headLine.FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("output\n%s\nhas no head line", out)
	}

	pubFile := filepath.Join(t.TempDir(), "pub")
	if err := os.WriteFile(pubFile, []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "", "audit", "verify", "--store", "sqlite", "--data", dir, "--public-key", pubFile, "--expect-head", head[1])
	if code != 0 || !strings.Contains(out, ", pinned (public key") {
		t.Errorf("pinned, with the head: exit %d\n%s", code, out)
	}

	// Entry 7's actor changed behind the store's back.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "skyfence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code = runCLI(t, "", "audit", "verify", "--store", "sqlite", "--data", dir)
	if code != 1 || errs != "" || !strings.HasSuffix(out, "PROBLEM:     entry 7 changed: its content does not match its hash\n") {
		t.Errorf("tampered: exit %d, stderr %q\n%s\nwant exit 1 naming entry 7 changed", code, errs, out)
	}
}

func TestAuditExport(t *testing.T) {
	t.Parallel()
	dir := auditData(t)
	export, errs, code := runCLI(t, "", "audit", "export", "--store", "sqlite", "--data", dir)
	if code != 0 || !strings.HasPrefix(errs, "exported entries 1 to 12; head 12:") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := strings.Count(export, "\n"); n != 13 || !strings.HasPrefix(export, `{"format":"skyfence-audit/v1",`) {
		t.Errorf("export of %d lines:\n%s\nwant a header and 12 entries", n, export)
	}
	head := strings.TrimSpace(strings.TrimPrefix(errs, "exported entries 1 to 12; head "))
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(file, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"file", "", []string{"--from-export", file}},
		{"stdin", export, []string{"--from-export", "-"}},
	} {
		out, errs, code := runCLI(t, tc.stdin, append([]string{"audit", "verify", "--expect-head", head}, tc.args...)...)
		if code != 0 || errs != "" || !strings.Contains(out, "head:        "+head+"\n") || !strings.HasSuffix(out, "result:      ok\n") {
			t.Errorf("%s: exit %d, stderr %q\n%s", tc.name, code, errs, out)
		}
	}
	cut := export[:strings.LastIndex(strings.TrimSuffix(export, "\n"), "\n")+1]
	out, _, code := runCLI(t, cut, "audit", "verify", "--from-export", "-", "--expect-head", head)
	if code != 1 || !strings.Contains(out, "PROBLEM:     entry 12 truncated: the chain ends at entry 11") {
		t.Errorf("export without its last line: exit %d\n%s\nwant entry 12 truncated", code, out)
	}
}

func TestAuditNoDatabase(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nothing")
	_, errs, code := runCLI(t, "", "audit", "verify", "--store", "sqlite", "--data", dir)
	if code != 1 || !strings.Contains(errs, "no database at "+filepath.Join(dir, "skyfence.db")) {
		t.Errorf("exit %d, stderr %q; want 1, no database", code, errs)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("verify created the data directory")
	}
}
