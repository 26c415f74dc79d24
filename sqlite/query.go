package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skyfence/skyfence/internal/sqlstore"
)

// dialect is what SQLite's SQL has of its own: no row locks (a write
// transaction holds the file's one write lock), the audit chain's head
// read from the log itself, and groups kept as a JSON array in TEXT.
var dialect = sqlstore.Dialect{
	Name:          "sqlite",
	AuditHead:     `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`,
	LockAuditHead: `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`,
	Groups:        groupsJSON,
	ScanGroups:    func() sqlstore.GroupsColumn { return &jsonGroups{} },
}

// groupsJSON returns groups as stored: a JSON array, never null.
func groupsJSON(groups []string) (any, error) {
	if groups == nil {
		groups = []string{}
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return nil, fmt.Errorf("sqlite: groups: %w", err)
	}
	return string(b), nil
}

// jsonGroups scans a groups column.
type jsonGroups struct{ text string }

func (g *jsonGroups) Dest() any { return &g.text }

func (g *jsonGroups) Groups() ([]string, error) {
	var groups []string
	err := json.Unmarshal([]byte(g.text), &groups)
	return groups, err
}

// adapter is the shared code's Querier on q: SQLite takes its "?" as they
// are.
type adapter struct{ q querier }

func (a adapter) Query(ctx context.Context, query string, args ...any) (sqlstore.Cursor, error) {
	rows, err := a.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return cursor{rows}, nil
}

func (a adapter) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return row{a.q.QueryRowContext(ctx, query, args...)}
}

func (a adapter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := a.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, sqlstore.MarkConstraint(err, isConflict(err), isMissingRef(err))
	}
	return res.RowsAffected()
}

// Try is Exec: a statement that fails in SQLite undoes itself alone.
func (a adapter) Try(ctx context.Context, query string, args ...any) (int64, error) {
	return a.Exec(ctx, query, args...)
}

type cursor struct{ *sql.Rows }

func (c cursor) Close() { c.Rows.Close() }

type row struct{ *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.Mark(err, sqlstore.ErrNoRows)
	}
	return err
}
