// Package teststore opens real stores for the tests of the packages above
// them: SQLite in a temporary directory always, PostgreSQL in a fresh
// schema when SKYFENCE_TEST_POSTGRES_URL names a server (CI sets it).
package teststore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/sqlite"
)

// EnvPostgres names the PostgreSQL server for tests.
const EnvPostgres = "SKYFENCE_TEST_POSTGRES_URL"

// Kinds returns the stores to test against: "sqlite", and "postgres" if
// EnvPostgres is set.
func Kinds() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

var schemas atomic.Int64

// Open opens a fresh, empty store of the kind, closed (and for PostgreSQL
// dropped) at the test's cleanup.
func Open(t testing.TB, kind string) skyfence.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	switch kind {
	case "sqlite":
		db, err := sqlite.Open(ctx, t.TempDir()+"/skyfence.db", log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	case "postgres":
		url := os.Getenv(EnvPostgres)
		if url == "" {
			t.Skipf("%s is not set", EnvPostgres)
		}
		schema := fmt.Sprintf("skyfence_t_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), schemas.Add(1))
		t.Cleanup(func() { dropSchema(t, url, schema) })
		db, err := postgres.Open(ctx, url, log, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil
}

func dropSchema(t testing.TB, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}
