// Package teststore opens real stores for the tests of the packages above
// them: SQLite in a temporary directory always, PostgreSQL in a fresh
// schema when SKYFENCE_TEST_POSTGRES_URL names a server (CI sets it).
// Only tests import it (package testkit).
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
	switch kind {
	case "sqlite":
		return SQLite(t, t.TempDir()+"/skyfence.db")
	case "postgres":
		db, _ := Postgres(t)
		return db
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil
}

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// SQLite opens the SQLite database at path, closed at the test's cleanup.
func SQLite(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres opens a store in a fresh schema of its own, closed and dropped at
// the test's cleanup, and returns it with the schema's name (for tests that
// reach into the tables). It skips the test if EnvPostgres is not set.
func Postgres(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	url := os.Getenv(EnvPostgres)
	if url == "" {
		t.Skipf("%s is not set (CI sets it to postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvPostgres)
	}
	schema := fmt.Sprintf("skyfence_t_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), schemas.Add(1))
	t.Cleanup(func() { dropSchema(t, url, schema) })
	db, err := postgres.Open(context.Background(), url, logger(t), postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, schema
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
