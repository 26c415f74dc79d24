package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/changejson"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// FindChangeByID returns the policy change, or ENOTFOUND.
func (r reader) FindChangeByID(ctx context.Context, id string) (*skyfence.PolicyChange, error) {
	var doc []byte
	if err := r.q.QueryRowContext(ctx, `SELECT doc FROM policy_changes WHERE id = ?`, id).Scan(&doc); err != nil {
		return nil, notFound(err, "policy change", id)
	}
	c, err := changejson.Decode(doc)
	if err != nil {
		return nil, fmt.Errorf("sqlite: policy change %q: %w", id, err)
	}
	return c, nil
}

// FindChanges returns the policy changes f selects, newest first (by
// CreatedAt, then by id, both descending), at most f.Limit of them (0:
// 100; over 1000: 1000). EINVALID for a negative limit or an unknown state.
func (r reader) FindChanges(ctx context.Context, f skyfence.ChangeFilter) ([]*skyfence.PolicyChange, error) {
	limit, err := sqlrows.PageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	if f.State != "" {
		if err := changejson.CheckState(f.State); err != nil {
			return nil, err
		}
		conds, args = append(conds, "state = ?"), append(args, string(f.State))
	}
	rows, err := r.q.QueryContext(ctx, `SELECT id, doc FROM policy_changes`+where(conds)+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find policy changes: %w", err)
	}
	defer rows.Close()
	cs, err := sqlrows.Docs(rows, "policy change", changejson.Decode)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find policy changes: %w", err)
	}
	return cs, nil
}

// CreateChange stores a new policy change at its Revision (see package
// changejson for what is stored and what reads back). EINVALID without an
// id, with an unknown state or a zero CreatedAt; ECONFLICT if the id
// exists.
func (t *tx) CreateChange(ctx context.Context, c *skyfence.PolicyChange) error {
	if err := needID("policy change", c.ID); err != nil {
		return err
	}
	doc, err := changejson.Encode(c, c.Revision)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO policy_changes (id, state, created_at, revision, doc) VALUES (?, ?, ?, ?, ?)`,
		c.ID, string(c.State), c.CreatedAt.UnixNano(), c.Revision, string(doc))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "policy change %q already exists", c.ID)
	case err != nil:
		return fmt.Errorf("sqlite: create policy change %q: %w", c.ID, err)
	}
	return nil
}

// UpdateChange stores c in place of the stored change if that is still at
// c.Revision, at revision c.Revision+1, and then sets c.Revision to it.
// ECONFLICT (and nothing changed) if the stored change is at another
// revision: it was updated since c was read. ENOTFOUND if there is no
// change with c's id; EINVALID as for CreateChange.
func (t *tx) UpdateChange(ctx context.Context, c *skyfence.PolicyChange) error {
	if err := needID("policy change", c.ID); err != nil {
		return err
	}
	next := c.Revision + 1
	doc, err := changejson.Encode(c, next)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE policy_changes SET state = ?, created_at = ?, revision = ?, doc = ?
		WHERE id = ? AND revision = ?`, string(c.State), c.CreatedAt.UnixNano(), next, string(doc), c.ID, c.Revision)
	if err != nil {
		return fmt.Errorf("sqlite: update policy change %q: %w", c.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update policy change %q: %w", c.ID, err)
	}
	if n == 0 {
		return sqlrows.StaleRevision("policy change", c.ID, c.Revision, func() (int64, bool, error) {
			var stored int64
			err := t.q.QueryRowContext(ctx, `SELECT revision FROM policy_changes WHERE id = ?`, c.ID).Scan(&stored)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, false, nil
			}
			return stored, err == nil, err
		})
	}
	c.Revision = next
	return nil
}
