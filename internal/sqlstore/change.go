package sqlstore

import (
	"context"

	"github.com/skyfence/skyfence"
)

// FindChangeByID returns the policy change, or ENOTFOUND.
func (r Reader) FindChangeByID(ctx context.Context, id string) (*skyfence.PolicyChange, error) {
	var doc []byte
	if err := r.q.QueryRow(ctx, `SELECT doc FROM policy_changes WHERE id = ?`, id).Scan(&doc); err != nil {
		return nil, r.notFound(err, "policy change", id)
	}
	c, err := decodeChange(doc)
	if err != nil {
		return nil, r.errorf("policy change %q: %w", id, err)
	}
	return c, nil
}

// FindChanges returns the policy changes f selects, newest first (by
// CreatedAt, then by id, both descending), from f.After on, at most
// f.Limit of them (0: 100; over 1000: 1000), and where the next page
// starts. EINVALID for a negative limit, an unknown state or a cursor out
// of range.
func (r Reader) FindChanges(ctx context.Context, f skyfence.ChangeFilter) ([]*skyfence.PolicyChange, skyfence.Cursor, error) {
	var next skyfence.Cursor
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, next, err
	}
	if err := CheckTimes(f.After.At); err != nil {
		return nil, next, err
	}
	var conds []string
	var args []any
	if f.State != "" {
		if err := checkChangeState(f.State); err != nil {
			return nil, next, err
		}
		conds, args = append(conds, "state = ?"), append(args, string(f.State))
	}
	if !f.After.IsZero() {
		c := after("created_at", f.After)
		conds, args = append(conds, c.Expr), append(args, c.Args...)
	}
	rows, err := r.q.Query(ctx, `SELECT id, doc FROM policy_changes`+where(conds)+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, next, r.errorf("find policy changes: %w", err)
	}
	defer rows.Close()
	cs, err := Docs(rows, "policy change", decodeChange)
	if err != nil {
		return nil, next, r.errorf("find policy changes: %w", err)
	}
	cs, next = page(cs, limit, (*skyfence.PolicyChange).CursorAfter)
	return cs, next, nil
}

// CreateChange stores a new policy change at its Revision (see
// changedoc.go for what is stored and what reads back). EINVALID without an
// id, with an unknown state or a zero CreatedAt; ECONFLICT if the id
// exists.
func (t Tx) CreateChange(ctx context.Context, c *skyfence.PolicyChange) error {
	if err := NeedID("policy change", c.ID); err != nil {
		return err
	}
	doc, err := encodeChange(c, c.Revision)
	if err != nil {
		return err
	}
	// The document goes as text: SQLite's column is TEXT, and pgx passes a
	// string to PostgreSQL's json column as it is.
	_, err = t.r.q.Try(ctx, `INSERT INTO policy_changes (id, state, created_at, revision, doc) VALUES (?, ?, ?, ?, ?)`,
		c.ID, string(c.State), c.CreatedAt.UnixNano(), c.Revision, string(doc))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "policy change %q already exists", c.ID)
	case err != nil:
		return t.r.errorf("create policy change %q: %w", c.ID, err)
	}
	return nil
}

// UpdateChange stores c in place of the stored change if that is still at
// c.Revision, at revision c.Revision+1, and then sets c.Revision to it.
// ECONFLICT (and nothing changed) if the stored change is at another
// revision: it was updated since c was read. ENOTFOUND if there is no
// change with c's id; EINVALID as for CreateChange. (On PostgreSQL, at READ
// COMMITTED, the UPDATE waits for a concurrent one of the row and then
// rechecks the revision on the row that one committed.)
func (t Tx) UpdateChange(ctx context.Context, c *skyfence.PolicyChange) error {
	if err := NeedID("policy change", c.ID); err != nil {
		return err
	}
	next := c.Revision + 1
	doc, err := encodeChange(c, next)
	if err != nil {
		return err
	}
	n, err := t.r.q.Exec(ctx, `UPDATE policy_changes SET state = ?, created_at = ?, revision = ?, doc = ?
		WHERE id = ? AND revision = ?`, string(c.State), c.CreatedAt.UnixNano(), next, string(doc), c.ID, c.Revision)
	if err != nil {
		return t.r.errorf("update policy change %q: %w", c.ID, err)
	}
	if n == 0 {
		return t.staleRevision(ctx, "policy_changes", "policy change", c.ID, c.Revision)
	}
	c.Revision = next
	return nil
}
