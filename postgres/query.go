package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence/internal/sqlstore"
)

// dialect is what PostgreSQL's SQL has of its own: row locks held until
// the transaction ends (a claim or release locks its cell, an audit append
// the one row of audit_head), and groups kept as text[].
var dialect = sqlstore.Dialect{
	Name:          "postgres",
	ForUpdate:     " FOR UPDATE",
	AuditHead:     `SELECT seq, hash FROM audit_head`,
	LockAuditHead: `SELECT seq, hash FROM audit_head FOR UPDATE`,
	MoveAuditHead: `UPDATE audit_head SET seq = ?, hash = ?`,
	Groups:        groups,
	ScanGroups:    func() sqlstore.GroupsColumn { return &arrayGroups{} },
}

// groups returns groups as stored: never NULL.
func groups(g []string) (any, error) {
	if g == nil {
		return []string{}, nil
	}
	return g, nil
}

// arrayGroups scans a groups column.
type arrayGroups struct{ groups []string }

func (g *arrayGroups) Dest() any                 { return &g.groups }
func (g *arrayGroups) Groups() ([]string, error) { return g.groups, nil }

// adapter is the shared code's Querier on q, numbering its "?"
// placeholders. In a transaction (t set), Try runs in a savepoint.
type adapter struct {
	q querier
	t *tx
}

func (a adapter) Query(ctx context.Context, query string, args ...any) (sqlstore.Cursor, error) {
	return a.q.Query(ctx, sqlstore.Dollars(query), args...)
}

func (a adapter) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return row{a.q.QueryRow(ctx, sqlstore.Dollars(query), args...)}
}

func (a adapter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := a.q.Exec(ctx, sqlstore.Dollars(query), args...)
	return tag.RowsAffected(), sqlstore.MarkConstraint(err, isConflict(err), isMissingRef(err))
}

func (a adapter) Try(ctx context.Context, query string, args ...any) (int64, error) {
	if a.t == nil {
		return a.Exec(ctx, query, args...)
	}
	tag, err := a.t.guarded(ctx, sqlstore.Dollars(query), args...)
	return tag.RowsAffected(), sqlstore.MarkConstraint(err, isConflict(err), isMissingRef(err))
}

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.Mark(err, sqlstore.ErrNoRows)
	}
	return err
}
