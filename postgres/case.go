package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// FindCaseByID returns the case, or ENOTFOUND.
func (r reader) FindCaseByID(ctx context.Context, id string) (*skyfence.Case, error) {
	var doc []byte
	if err := r.q.QueryRow(ctx, `SELECT doc FROM cases WHERE id = $1`, id).Scan(&doc); err != nil {
		return nil, notFound(err, "case", id)
	}
	c, err := sqlrows.DecodeCase(doc)
	if err != nil {
		return nil, fmt.Errorf("postgres: case %q: %w", id, err)
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
	var w conds
	for _, c := range sqlrows.CaseConds(f) {
		w.list = append(w.list, numbered(c.Expr, len(w.args)))
		w.args = append(w.args, c.Args...)
	}
	w.args = append(w.args, limit+1)
	rows, err := r.q.Query(ctx, `SELECT id, doc FROM cases`+w.where()+
		` ORDER BY updated_at DESC, id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
	if err != nil {
		return nil, next, fmt.Errorf("postgres: find cases: %w", err)
	}
	defer rows.Close()
	cs, err := sqlrows.Docs(rows, "case", sqlrows.DecodeCase)
	if err != nil {
		return nil, next, fmt.Errorf("postgres: find cases: %w", err)
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
	_, err = t.guarded(ctx, `INSERT INTO cases (id, state, terminal_id, account_id, assignee, label, updated_at, due_at, revision, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, c.ID, string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label),
		c.UpdatedAt.UnixNano(), sqlrows.DueAt(c), c.Revision, doc)
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "case %q already exists", c.ID)
	case err != nil:
		return fmt.Errorf("postgres: create case %q: %w", c.ID, err)
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
	// At READ COMMITTED the UPDATE waits for a concurrent one of the row
	// and then rechecks the revision on the row that one committed.
	tag, err := t.q.Exec(ctx, `UPDATE cases SET state = $1, terminal_id = $2, account_id = $3, assignee = $4, label = $5,
		updated_at = $6, due_at = $7, revision = $8, doc = $9 WHERE id = $10 AND revision = $11`,
		string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label), c.UpdatedAt.UnixNano(), sqlrows.DueAt(c), next, doc, c.ID, c.Revision)
	if err != nil {
		return fmt.Errorf("postgres: update case %q: %w", c.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrows.StaleRevision("case", c.ID, c.Revision, func() (int64, bool, error) {
			var stored int64
			err := t.q.QueryRow(ctx, `SELECT revision FROM cases WHERE id = $1`, c.ID).Scan(&stored)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0, false, nil
			}
			return stored, err == nil, err
		})
	}
	c.Revision = next
	return nil
}

// numbered writes PostgreSQL's placeholders into expr, which has a "?"
// for each: "$n+1", "$n+2"... after the n arguments before it.
func numbered(expr string, n int) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(expr, '?')
		if i < 0 {
			return b.String() + expr
		}
		n++
		b.WriteString(expr[:i])
		b.WriteString("$" + strconv.Itoa(n))
		expr = expr[i+1:]
	}
}
