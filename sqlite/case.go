package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// FindCaseByID returns the case, or ENOTFOUND.
func (r reader) FindCaseByID(ctx context.Context, id string) (*skyfence.Case, error) {
	var doc []byte
	if err := r.q.QueryRowContext(ctx, `SELECT doc FROM cases WHERE id = ?`, id).Scan(&doc); err != nil {
		return nil, notFound(err, "case", id)
	}
	c, err := sqlrows.DecodeCase(doc)
	if err != nil {
		return nil, fmt.Errorf("sqlite: case %q: %w", id, err)
	}
	return c, nil
}

// FindCases returns the cases f selects, most recently updated first, from
// f.After on, at most f.Limit of them (0: 100; over 1000: 1000), and where
// the next page starts.
func (r reader) FindCases(ctx context.Context, f skyfence.CaseFilter) ([]*skyfence.Case, skyfence.CaseCursor, error) {
	var next skyfence.CaseCursor
	limit, err := sqlrows.PageLimit(f.Limit)
	if err != nil {
		return nil, next, err
	}
	if err := sqlrows.CheckCaseFilter(f); err != nil {
		return nil, next, err
	}
	var conds []string
	var args []any
	for _, c := range sqlrows.CaseConds(f) {
		conds, args = append(conds, c.Expr), append(args, c.Args...)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT id, doc FROM cases`+where(conds)+
		` ORDER BY updated_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, next, fmt.Errorf("sqlite: find cases: %w", err)
	}
	defer rows.Close()
	cs, err := sqlrows.Docs(rows, "case", sqlrows.DecodeCase)
	if err != nil {
		return nil, next, fmt.Errorf("sqlite: find cases: %w", err)
	}
	cs, next = sqlrows.CasePage(cs, limit)
	return cs, next, nil
}

// CreateCase stores a new case at its Revision: EINVALID as
// sqlrows.EncodeCase says, ECONFLICT if the id exists.
func (t *tx) CreateCase(ctx context.Context, c *skyfence.Case) error {
	doc, err := sqlrows.EncodeCase(c, c.Revision)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO cases (id, state, terminal_id, account_id, assignee, label, updated_at, due_at, revision, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label),
		c.UpdatedAt.UnixNano(), sqlrows.DueAt(c), c.Revision, string(doc))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "case %q already exists", c.ID)
	case err != nil:
		return fmt.Errorf("sqlite: create case %q: %w", c.ID, err)
	}
	return nil
}

// UpdateCase stores c in place of the stored case if that is still at
// c.Revision, and then increments c.Revision. ECONFLICT (nothing changed)
// if it was updated since c was read; ENOTFOUND if there is no such case.
func (t *tx) UpdateCase(ctx context.Context, c *skyfence.Case) error {
	next := c.Revision + 1
	doc, err := sqlrows.EncodeCase(c, next)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE cases SET state = ?, terminal_id = ?, account_id = ?, assignee = ?, label = ?,
		updated_at = ?, due_at = ?, revision = ?, doc = ? WHERE id = ? AND revision = ?`,
		string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label), c.UpdatedAt.UnixNano(), sqlrows.DueAt(c), next, string(doc), c.ID, c.Revision)
	if err != nil {
		return fmt.Errorf("sqlite: update case %q: %w", c.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update case %q: %w", c.ID, err)
	}
	if n == 0 {
		return sqlrows.StaleRevision("case", c.ID, c.Revision, func() (int64, bool, error) {
			var stored int64
			err := t.q.QueryRowContext(ctx, `SELECT revision FROM cases WHERE id = ?`, c.ID).Scan(&stored)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, false, nil
			}
			return stored, err == nil, err
		})
	}
	c.Revision = next
	return nil
}
