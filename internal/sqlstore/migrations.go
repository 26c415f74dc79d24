package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// Migration is one versioned schema change of a store.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Step, if set, runs after SQL in the same transaction: what SQL
	// alone cannot do the same way in both stores (normalizing Unicode).
	Step func(ctx context.Context, q Querier) error
}

// steps are the Go steps of migrations, by version; both stores run them.
var steps = map[int]func(ctx context.Context, q Querier) error{
	5: adoptKeyPersons,
}

// Migrations reads a store's migrations from the files of dir in fsys,
// named NNNN_what.sql, in version order; a name of another form or a
// version that repeats is an error.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries { // ReadDir sorts by name, hence by version
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_what.sql", e.Name())
		}
		if len(ms) > 0 && ms[len(ms)-1].Version >= v {
			return nil, fmt.Errorf("migration %s: version %d repeats", e.Name(), v)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b), Step: steps[v]})
	}
	return ms, nil
}

// ApplyMigrations brings a schema up to date in the transaction that q
// runs in: it creates schema_migrations with createTable if missing,
// refuses a schema written by a newer build than ms, and applies each of ms
// newer than the schema with exec (which runs a migration's SQL as it is,
// its "?" untouched) and then its Step on q, recording its version and
// telling applied.
func ApplyMigrations(ctx context.Context, q Querier, exec func(ctx context.Context, sql string) error, ms []Migration,
	createTable string, applied func(Migration)) error {
	if _, err := q.Exec(ctx, createTable); err != nil {
		return err
	}
	var current int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("schema version %d is newer than this build's %d", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if m.Step != nil {
			if err := m.Step(ctx, q); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		if _, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return err
		}
		applied(m)
	}
	return nil
}
