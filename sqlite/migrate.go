package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"log/slog"

	"github.com/skyfence/skyfence/internal/sqlstore"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_what.sql. A file is never edited once released: a change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema up to date in one write transaction, recording
// each applied version in schema_migrations; it applies nothing when the
// schema is current, and refuses a database written by a newer build.
func migrate(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	ms, err := sqlstore.Migrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	err = sqlstore.ApplyMigrations(ctx, adapter{tx}, func(ctx context.Context, sql string) error {
		_, err := tx.ExecContext(ctx, sql)
		return err
	}, ms, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`, func(m sqlstore.Migration) {
		logger.Info("applied migration", "version", m.Version, "name", m.Name)
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}
