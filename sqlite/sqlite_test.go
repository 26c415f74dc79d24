package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/sqlite"
	"github.com/skyfence/skyfence/storetest"
)

// open opens a database in a directory that does not exist yet, closed at
// the test's cleanup.
func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func fresh(t testing.TB) string { return filepath.Join(t.TempDir(), "data", "skyfence.db") }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) skyfence.Store { return open(t, fresh(t)) })
}

func TestShared(t *testing.T) {
	path := fresh(t)
	storetest.RunShared(t, []skyfence.Store{open(t, path), open(t, path), open(t, path)})
}

// TestProcesses appends to one file from several processes at once.
func TestProcesses(t *testing.T) {
	const procs, each = 4, 25
	path := fresh(t)
	open(t, path) // create it
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmds[i] = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestAppendChild$")
		cmds[i].Env = append(os.Environ(), "SKYFENCE_SQLITE_CHILD="+path, "SKYFENCE_SQLITE_APPENDS="+strconv.Itoa(each))
		cmds[i].Stdout, cmds[i].Stderr = t.Output(), t.Output()
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	storetest.CheckChain(t, open(t, path), procs*each)
}

// TestAppendChild is a child of TestProcesses.
func TestAppendChild(t *testing.T) {
	path := os.Getenv("SKYFENCE_SQLITE_CHILD")
	if path == "" {
		t.Skip("run by TestProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("SKYFENCE_SQLITE_APPENDS"))
	storetest.Append(t, open(t, path), n)
}

func TestMigrateOnce(t *testing.T) {
	path := fresh(t)
	open(t, path).Close()
	open(t, path).Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n, version int
	if err := raw.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	if n != len(files) || version != len(files) {
		t.Errorf("schema_migrations after opening twice: %d rows up to version %d, want %d of each", n, version, len(files))
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode: got %q (%v), want wal", mode, err)
	}

	// A database from a newer build is refused rather than misread.
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if db, err := sqlite.Open(t.Context(), path, nil); err == nil {
		db.Close()
		t.Errorf("Open of a database at schema version 9999 succeeded")
	}
}

func BenchmarkSaveStates(b *testing.B) {
	storetest.BenchmarkSaveStates(b, open(b, fresh(b)))
}

// TestAuditAppendOnly checks that the database itself refuses to change or
// remove audit entries.
func TestAuditAppendOnly(t *testing.T) {
	path := fresh(t)
	storetest.Append(t, open(t, path), 1)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s: succeeded", q)
		}
	}
}

func BenchmarkForEachTerminal(b *testing.B) {
	storetest.BenchmarkForEachTerminal(b, open(b, fresh(b)), 100000)
}

// TestChangeJSON checks that a policy change is stored as the exact bytes
// of json.Marshal with its times in UTC, and its columns.
func TestChangeJSON(t *testing.T) {
	path := fresh(t)
	db := open(t, path)
	c := &skyfence.PolicyChange{
		ID: "chg-1", State: skyfence.ChangeApproved, Title: "<b>&</b>",
		Files:     []skyfence.PolicyFile{{Name: "policy.yaml", Data: []byte{0, 0xff}}},
		CreatedAt: time.Date(2026, 3, 1, 12, 30, 15, 123456789, time.FixedZone("", 3600)), Revision: 7,
	}
	if err := db.Tx(t.Context(), func(tx skyfence.Tx) error { return tx.CreateChange(t.Context(), c) }); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var state, doc string
	var created, revision int64
	if err := raw.QueryRow(`SELECT state, created_at, revision, doc FROM policy_changes`).Scan(&state, &created, &revision, &doc); err != nil {
		t.Fatal(err)
	}
	utc := *c
	utc.CreatedAt = c.CreatedAt.UTC()
	want, err := json.Marshal(&utc)
	if err != nil {
		t.Fatal(err)
	}
	if doc != string(want) {
		t.Errorf("doc:\ngot  %s\nwant %s", doc, want)
	}
	if state != "approved" || created != c.CreatedAt.UnixNano() || revision != 7 {
		t.Errorf("columns: %s, %d, %d; want approved, %d, 7", state, created, revision, c.CreatedAt.UnixNano())
	}
}

func BenchmarkAuditPeriod(b *testing.B) {
	storetest.BenchmarkAuditPeriod(b, open(b, fresh(b)), 100000)
}
