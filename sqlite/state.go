package sqlite

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// SaveStates upserts the states in one write transaction with one prepared
// statement; of two states of one terminal in the batch the later wins.
// Fix.TerminalID is not stored: a state read back has its TerminalID there.
// EINVALID (and nothing written) for a nil state, an empty terminal id or a
// time out of range.
func (db *DB) SaveStates(ctx context.Context, states []*skyfence.TerminalState) error {
	if err := sqlstore.CheckStates(states); err != nil {
		return err
	}
	return db.upsert(ctx, "save states", `INSERT INTO terminal_states (`+sqlstore.StateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+sqlstore.StateUpsert, len(states),
		func(dst []any, i int) []any { return sqlstore.StateValues(dst, states[i]) },
		func(i int) string { return fmt.Sprintf("save state of %q", states[i].TerminalID) })
}

// upsert runs insert, prepared once, with the values of each of n rows in
// one write transaction: values appends those of row i to dst, a buffer
// that every row reuses (ExecContext keeps none of it). what names the
// batch in errors, and name(i) row i. Nothing for none.
func (db *DB) upsert(ctx context.Context, what, insert string, n int, values func(dst []any, i int) []any, name func(i int) string) error {
	if n == 0 {
		return nil
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer t.Rollback() // a no-op after Commit
	stmt, err := t.PrepareContext(ctx, insert)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer stmt.Close()
	var vals []any
	for i := range n {
		vals = values(vals[:0], i)
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("sqlite: %s: %w", name(i), err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}
