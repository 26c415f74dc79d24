package audit_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/sqlite"
)

// signer returns the signer with the seed 32 bytes of n: the same key in
// every run.
func signer(n byte) *audit.Signer {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = n
	}
	return audit.NewSigner(ed25519.NewKeyFromSeed(seed))
}

func logger(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

// sqliteFile returns the path of a fresh database file, as a server keeps
// it under its data directory.
func sqliteFile(t testing.TB) string { return filepath.Join(t.TempDir(), "data", "skyfence.db") }

// openSQLite opens the database at path, closed at the test's cleanup.
func openSQLite(t testing.TB, path string) *sqlite.DB { return teststore.SQLite(t, path) }

// postgresURL returns the server the PostgreSQL tests use, or skips.
func postgresURL(t testing.TB) string {
	u := os.Getenv(teststore.EnvPostgres)
	if u == "" {
		t.Skipf("%s is not set (CI sets it to postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", teststore.EnvPostgres)
	}
	return u
}

// openPostgres opens a store in a schema of its own, dropped at the test's
// cleanup, and returns it with the schema's name.
func openPostgres(t testing.TB) (*postgres.DB, string) { return teststore.Postgres(t) }

// epoch is the time of the first entry appendEntries writes; the others
// follow a second and a nanosecond apart, so that every time has nine
// fractional digits but for trailing zeros.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// appendEntries appends n entries like those the service writes, each in a
// transaction of its own, numbered from first (for their times and data).
func appendEntries(t testing.TB, s skyfence.Store, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		e := &skyfence.AuditEntry{
			Time:    epoch.Add(time.Duration(i) * (time.Second + 1)),
			Actor:   fmt.Sprintf("key-%d", i%3),
			Action:  "terminal.status",
			Subject: fmt.Sprintf("UT-%04d", i),
			Reason:  fmt.Sprintf("case %d", i),
			Data:    json.RawMessage(fmt.Sprintf(`{"from":"active","to":"suspended","i":%d}`, i)),
		}
		if err := s.Tx(t.Context(), func(tx skyfence.Tx) error { return tx.AppendAudit(t.Context(), e) }); err != nil {
			t.Fatal(err)
		}
	}
}

// inTx runs fn in a transaction of s and fails the test on error.
func inTx(t testing.TB, s skyfence.Store, fn func(tx skyfence.Tx) error) {
	t.Helper()
	if err := s.Tx(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// The chain buildChain writes.
const (
	chainLen       = 22
	lastCheckpoint = 18 // signs entry 17
)

// buildChain writes the chain the tamper tests start from: a root key
// entry (1), ten entries (2-11), a checkpoint (12), five entries (13-17),
// a checkpoint (18), four entries (19-22).
func buildChain(t testing.TB, s skyfence.Store, k *audit.Signer) {
	t.Helper()
	inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, k) })
	appendEntries(t, s, 2, 10)
	inTx(t, s, func(tx skyfence.Tx) error { return k.Checkpoint(t.Context(), tx) })
	appendEntries(t, s, 13, 5)
	inTx(t, s, func(tx skyfence.Tx) error { return k.Checkpoint(t.Context(), tx) })
	appendEntries(t, s, 19, 4)
}

// entries returns every entry of the log.
func entries(t testing.TB, log audit.Log) []*skyfence.AuditEntry {
	t.Helper()
	es, err := log.FindAudit(t.Context(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// verify verifies the log and fails the test on a read error.
func verify(t testing.TB, log audit.Log, opts audit.VerifyOptions) *audit.Report {
	t.Helper()
	rep, err := audit.Verify(t.Context(), log, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// wantProblem fails the test unless the report's problem is at seq and of
// the kind.
func wantProblem(t testing.TB, rep *audit.Report, seq int64, kind audit.Kind) {
	t.Helper()
	switch p := rep.Problem; {
	case p == nil:
		t.Errorf("no problem found, want entry %d %s", seq, kind)
	case p.Seq != seq || p.Kind != kind:
		t.Errorf("problem %q, want entry %d %s", p, seq, kind)
	default:
		t.Logf("found: %s", p)
	}
}
