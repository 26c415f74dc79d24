package postgres_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/storetest"
)

// TestMigrationAdoptsKeyPersons: a schema written before persons were
// first-class gets, at its next open, one person per normalized name.
func TestMigrationAdoptsKeyPersons(t *testing.T) {
	schema := freshSchema(t)
	conn := connect(t)
	ctx := t.Context()
	name := pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{`CREATE SCHEMA ` + name, `SET search_path TO ` + name,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob("migrations/000[1-4]_*.sql")
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, i+1, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range storetest.LegacyKeys {
		if _, err := conn.Exec(ctx, `INSERT INTO api_keys (id, name, role, region, person, hash, created_at) VALUES ($1, $2, 'approver', '', $3, $4, 1)`,
			k.ID, k.Name, k.Person, skyfence.HashKeySecret(k.ID)); err != nil {
			t.Fatal(err)
		}
	}
	storetest.CheckAdoptedPersons(t, open(t, schema))
}
