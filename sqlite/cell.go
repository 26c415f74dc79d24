package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// FindCell returns the cell's capacity and counts, or ENOTFOUND if its
// capacity was never set and no terminal ever claimed a place in it.
func (r reader) FindCell(ctx context.Context, id string) (*skyfence.Cell, error) {
	var c skyfence.Cell
	err := r.q.QueryRowContext(ctx, `SELECT id, capacity, active,
		(SELECT count(*) FROM cell_members m WHERE m.cell_id = cells.id AND m.state = 'waiting')
		FROM cells WHERE id = ?`, id).Scan(&c.ID, &c.Capacity, &c.Active, &c.Waiting)
	if err != nil {
		return nil, notFound(err, "cell", id)
	}
	return &c, nil
}

// FindCells returns a page of the cells f selects, in id order: at most
// f.Limit of them (0: 100; over 1000: 1000), those after f.After, and with
// f.Full only the sold-out ones, whose capacity is set and whose active
// terminals number at least the capacity (more, if it was lowered).
// EINVALID for a negative limit.
func (r reader) FindCells(ctx context.Context, f skyfence.CellFilter) ([]*skyfence.Cell, error) {
	limit, err := sqlrows.PageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	if f.After != "" {
		conds, args = append(conds, "id > ?"), append(args, f.After)
	}
	if f.Full {
		conds = append(conds, "capacity > 0 AND active >= capacity")
	}
	rows, err := r.q.QueryContext(ctx, `SELECT id, capacity, active,
		(SELECT count(*) FROM cell_members m WHERE m.cell_id = cells.id AND m.state = 'waiting')
		FROM cells`+where(conds)+` ORDER BY id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find cells: %w", err)
	}
	defer rows.Close()
	var cs []*skyfence.Cell
	for rows.Next() {
		var c skyfence.Cell
		if err := rows.Scan(&c.ID, &c.Capacity, &c.Active, &c.Waiting); err != nil {
			return nil, fmt.Errorf("sqlite: find cells: %w", err)
		}
		cs = append(cs, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find cells: %w", err)
	}
	return cs, nil
}

// SetCellCapacity sets how many terminals the cell may hold active (0:
// unlimited). Lowering it evicts no one; it only makes newcomers wait.
// EINVALID for an empty id or a negative capacity.
func (t *tx) SetCellCapacity(ctx context.Context, cell string, capacity int) error {
	if err := needID("cell", cell); err != nil {
		return err
	}
	if capacity < 0 {
		return skyfence.Errorf(skyfence.EINVALID, "cell %q: capacity %d is negative", cell, capacity)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO cells (id, capacity) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity`, cell, capacity)
	if err != nil {
		return fmt.Errorf("sqlite: set capacity of cell %q: %w", cell, err)
	}
	return nil
}

// ClaimCell counts the terminal against the cell if there is room for it
// and for every terminal ahead of it on the waitlist, else puts it at the
// end of the waitlist (once). A waiting terminal that claims again is
// granted as soon as there is room for it and those ahead; otherwise it
// learns its place. A cell with capacity 0 (or never set) is unlimited.
// ENOTFOUND if the terminal does not exist.
func (t *tx) ClaimCell(ctx context.Context, cell, terminalID string) (skyfence.Claim, error) {
	if err := needID("cell", cell); err != nil {
		return skyfence.Claim{}, err
	}
	if err := needID("terminal", terminalID); err != nil {
		return skyfence.Claim{}, err
	}
	fail := func(err error) (skyfence.Claim, error) {
		return skyfence.Claim{}, fmt.Errorf("sqlite: claim cell %q for %q: %w", cell, terminalID, err)
	}
	// The write transaction holds SQLite's one write lock: nothing else
	// changes the cell until it ends.
	if _, err := t.q.ExecContext(ctx, `INSERT INTO cells (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, cell); err != nil {
		return fail(err)
	}
	var capacity, active int
	if err := t.q.QueryRowContext(ctx, `SELECT capacity, active FROM cells WHERE id = ?`, cell).Scan(&capacity, &active); err != nil {
		return fail(err)
	}
	var seq int64
	var state string
	err := t.q.QueryRowContext(ctx, `SELECT seq, state FROM cell_members WHERE cell_id = ? AND terminal_id = ?`,
		cell, terminalID).Scan(&seq, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows): // a newcomer: behind everyone waiting
		var waiting int
		if err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM cell_members WHERE cell_id = ? AND state = 'waiting'`,
			cell).Scan(&waiting); err != nil {
			return fail(err)
		}
		granted := capacity == 0 || active+waiting < capacity
		state = "waiting"
		if granted {
			state = "active"
		}
		_, err := t.q.ExecContext(ctx, `INSERT INTO cell_members (cell_id, terminal_id, state) VALUES (?, ?, ?)`,
			cell, terminalID, state)
		if isMissingRef(err) {
			return skyfence.Claim{}, skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q not found", terminalID)
		} else if err != nil {
			return fail(err)
		}
		if !granted {
			return skyfence.Claim{Position: waiting + 1}, nil
		}
	case err != nil:
		return fail(err)
	case state == "active":
		return skyfence.Claim{Granted: true}, nil
	default: // waiting
		var ahead int
		if err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM cell_members WHERE cell_id = ? AND state = 'waiting' AND seq < ?`,
			cell, seq).Scan(&ahead); err != nil {
			return fail(err)
		}
		if capacity != 0 && active+ahead >= capacity {
			return skyfence.Claim{Position: ahead + 1}, nil
		}
		if _, err := t.q.ExecContext(ctx, `UPDATE cell_members SET state = 'active' WHERE seq = ?`, seq); err != nil {
			return fail(err)
		}
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE cells SET active = active + 1 WHERE id = ?`, cell); err != nil {
		return fail(err)
	}
	return skyfence.Claim{Granted: true}, nil
}

// ReleaseCell takes the terminal out of the cell, active or waiting (doing
// nothing if it is in neither), and returns the terminal first on the
// waitlist if there is now room for it ("" if not): a ClaimCell for it will
// grant it.
func (t *tx) ReleaseCell(ctx context.Context, cell, terminalID string) (string, error) {
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("sqlite: release cell %q for %q: %w", cell, terminalID, err)
	}
	var state string
	err := t.q.QueryRowContext(ctx, `DELETE FROM cell_members WHERE cell_id = ? AND terminal_id = ? RETURNING state`,
		cell, terminalID).Scan(&state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	if state == "active" {
		if _, err := t.q.ExecContext(ctx, `UPDATE cells SET active = active - 1 WHERE id = ?`, cell); err != nil {
			return fail(err)
		}
	}
	var next string
	err = t.q.QueryRowContext(ctx, `SELECT m.terminal_id FROM cells c JOIN cell_members m ON m.cell_id = c.id
		WHERE c.id = ? AND m.state = 'waiting' AND (c.capacity = 0 OR c.active < c.capacity)
		ORDER BY m.seq LIMIT 1`, cell).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	return next, nil
}
