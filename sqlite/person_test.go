package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/storetest"
)

// TestMigrationAdoptsKeyPersons: a database written before persons were
// first-class gets, at its next open, one person per normalized name.
func TestMigrationAdoptsKeyPersons(t *testing.T) {
	path := fresh(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/000[1-4]_*.sql")
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range storetest.LegacyKeys {
		if _, err := raw.Exec(`INSERT INTO api_keys (id, name, role, region, person, hash, created_at) VALUES (?, ?, 'approver', '', ?, ?, 1)`,
			k.ID, k.Name, k.Person, skyfence.HashKeySecret(k.ID)); err != nil {
			t.Fatal(err)
		}
	}
	storetest.CheckAdoptedPersons(t, open(t, path))
}
