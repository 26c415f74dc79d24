package postgres

import (
	"context"
	"embed"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skyfence/skyfence/internal/sqlstore"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_what.sql. A file is never edited once released: a change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the key of the advisory lock that migrations hold, so that
// processes starting together take turns.
const migrateLock = 0x736b7966656e6365 // "skyfence"

// migrate creates the schema if one is named and brings it up to date in
// one transaction, recording each applied version in schema_migrations; it
// applies nothing when the schema is current, and refuses a database
// written by a newer build.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, logger *slog.Logger) error {
	ms, err := sqlstore.Migrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return err
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	err = sqlstore.ApplyMigrations(ctx, adapter{q: tx}, func(ctx context.Context, sql string) error {
		_, err := tx.Exec(ctx, sql)
		return err
	}, ms, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at bigint NOT NULL
	)`, func(m sqlstore.Migration) {
		logger.Info("applied migration", "version", m.Version, "name", m.Name, "schema", schema)
	})
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}
