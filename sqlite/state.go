package sqlite

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// SaveStates upserts the states in one write transaction with one prepared
// statement; of two states of one terminal in the batch the later wins.
// Fix.TerminalID is not stored: a state read back has its TerminalID there.
// EINVALID (and nothing written) for a nil state, an empty terminal id or a
// time out of range.
func (db *DB) SaveStates(ctx context.Context, states []*skyfence.TerminalState) error {
	if err := sqlrows.CheckStates(states); err != nil {
		return err
	}
	if len(states) == 0 {
		return nil
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	defer t.Rollback() // a no-op after Commit
	stmt, err := t.PrepareContext(ctx, `INSERT INTO terminal_states (`+sqlrows.StateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+sqlrows.StateUpsert)
	if err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	defer stmt.Close()
	var vals []any // one buffer for every row: ExecContext keeps none of it
	for _, s := range states {
		vals = sqlrows.StateValues(vals[:0], s)
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("sqlite: save state of %q: %w", s.TerminalID, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	return nil
}
