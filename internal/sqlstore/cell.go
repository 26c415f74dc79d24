package sqlstore

import (
	"context"

	"github.com/skyfence/skyfence"
)

// cellColumns are what cellDest scans, in its order.
const cellColumns = `id, capacity, active,
	(SELECT count(*) FROM cell_members m WHERE m.cell_id = cells.id AND m.state = 'waiting')`

func cellDest(c *skyfence.Cell) []any { return []any{&c.ID, &c.Capacity, &c.Active, &c.Waiting} }

// FindCell returns the cell's capacity and counts, or ENOTFOUND if its
// capacity was never set and no terminal ever claimed a place in it.
func (r Reader) FindCell(ctx context.Context, id string) (*skyfence.Cell, error) {
	var c skyfence.Cell
	if err := r.q.QueryRow(ctx, `SELECT `+cellColumns+` FROM cells WHERE id = ?`, id).Scan(cellDest(&c)...); err != nil {
		return nil, r.notFound(err, "cell", id)
	}
	return &c, nil
}

// FindCells returns a page of the cells f selects, in id order: at most
// f.Limit of them (0: 100; over 1000: 1000), those after f.After, and with
// f.Full only the sold-out ones, whose capacity is set and whose active
// terminals number at least the capacity (more, if it was lowered).
// EINVALID for a negative limit.
func (r Reader) FindCells(ctx context.Context, f skyfence.CellFilter) ([]*skyfence.Cell, error) {
	limit, err := PageLimit(f.Limit)
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
	return list(ctx, r, "find cells", `SELECT `+cellColumns+` FROM cells`+where(conds)+` ORDER BY id LIMIT ?`, append(args, limit),
		func(scan func(...any) error) (*skyfence.Cell, error) {
			var c skyfence.Cell
			err := scan(cellDest(&c)...)
			return &c, err
		})
}

// SetCellCapacity sets how many terminals the cell may hold active (0:
// unlimited). Lowering it evicts no one; it only makes newcomers wait.
// EINVALID for an empty id or a negative capacity.
func (t Tx) SetCellCapacity(ctx context.Context, cell string, capacity int) error {
	if err := NeedID("cell", cell); err != nil {
		return err
	}
	if capacity < 0 {
		return skyfence.Errorf(skyfence.EINVALID, "cell %q: capacity %d is negative", cell, capacity)
	}
	_, err := t.r.q.Exec(ctx, `INSERT INTO cells (id, capacity) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity`, cell, capacity)
	if err != nil {
		return t.r.errorf("set capacity of cell %q: %w", cell, err)
	}
	return nil
}

// lockCell locks the cell's row until the transaction ends (the dialect's
// ForUpdate), creating it (unlimited) if create is set, and returns its
// capacity and active count; ok is false if there is no such row. The
// lock serializes every claim and release of the cell.
func (t Tx) lockCell(ctx context.Context, cell string, create bool) (capacity, active int, ok bool, err error) {
	if create {
		if _, err := t.r.q.Exec(ctx, `INSERT INTO cells (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, cell); err != nil {
			return 0, 0, false, err
		}
	}
	err = t.r.q.QueryRow(ctx, `SELECT capacity, active FROM cells WHERE id = ?`+t.r.d.ForUpdate, cell).Scan(&capacity, &active)
	if isNoRows(err) {
		return 0, 0, false, nil
	}
	return capacity, active, err == nil, err
}

// ClaimCell counts the terminal against the cell if there is room for it
// and for every terminal ahead of it on the waitlist, else puts it at the
// end of the waitlist (once). A waiting terminal that claims again is
// granted as soon as there is room for it and those ahead; otherwise it
// learns its place. A cell with capacity 0 (or never set) is unlimited.
// ENOTFOUND if the terminal does not exist.
func (t Tx) ClaimCell(ctx context.Context, cell, terminalID string) (skyfence.Claim, error) {
	if err := NeedID("cell", cell); err != nil {
		return skyfence.Claim{}, err
	}
	if err := NeedID("terminal", terminalID); err != nil {
		return skyfence.Claim{}, err
	}
	fail := func(err error) (skyfence.Claim, error) {
		return skyfence.Claim{}, t.r.errorf("claim cell %q for %q: %w", cell, terminalID, err)
	}
	capacity, active, _, err := t.lockCell(ctx, cell, true)
	if err != nil {
		return fail(err)
	}
	var seq int64
	var state string
	err = t.r.q.QueryRow(ctx, `SELECT seq, state FROM cell_members WHERE cell_id = ? AND terminal_id = ?`,
		cell, terminalID).Scan(&seq, &state)
	switch {
	case isNoRows(err): // a newcomer: behind everyone waiting
		var waiting int
		if err := t.r.q.QueryRow(ctx, `SELECT count(*) FROM cell_members WHERE cell_id = ? AND state = 'waiting'`,
			cell).Scan(&waiting); err != nil {
			return fail(err)
		}
		granted := capacity == 0 || active+waiting < capacity
		state = "waiting"
		if granted {
			state = "active"
		}
		_, err := t.r.q.Try(ctx, `INSERT INTO cell_members (cell_id, terminal_id, state) VALUES (?, ?, ?)`,
			cell, terminalID, state)
		if isForeignKey(err) {
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
		if err := t.r.q.QueryRow(ctx, `SELECT count(*) FROM cell_members WHERE cell_id = ? AND state = 'waiting' AND seq < ?`,
			cell, seq).Scan(&ahead); err != nil {
			return fail(err)
		}
		if capacity != 0 && active+ahead >= capacity {
			return skyfence.Claim{Position: ahead + 1}, nil
		}
		if _, err := t.r.q.Exec(ctx, `UPDATE cell_members SET state = 'active' WHERE seq = ?`, seq); err != nil {
			return fail(err)
		}
	}
	if _, err := t.r.q.Exec(ctx, `UPDATE cells SET active = active + 1 WHERE id = ?`, cell); err != nil {
		return fail(err)
	}
	return skyfence.Claim{Granted: true}, nil
}

// ReleaseCell takes the terminal out of the cell, active or waiting (doing
// nothing if it is in neither), and returns the terminal first on the
// waitlist if there is now room for it ("" if not): a ClaimCell for it will
// grant it.
func (t Tx) ReleaseCell(ctx context.Context, cell, terminalID string) (string, error) {
	fail := func(err error) (string, error) {
		return "", t.r.errorf("release cell %q for %q: %w", cell, terminalID, err)
	}
	capacity, active, ok, err := t.lockCell(ctx, cell, false)
	if err != nil {
		return fail(err)
	}
	if !ok { // no row, so no member either
		return "", nil
	}
	var state string
	err = t.r.q.QueryRow(ctx, `DELETE FROM cell_members WHERE cell_id = ? AND terminal_id = ? RETURNING state`,
		cell, terminalID).Scan(&state)
	if err != nil && !isNoRows(err) {
		return fail(err)
	}
	if state == "active" {
		if _, err := t.r.q.Exec(ctx, `UPDATE cells SET active = active - 1 WHERE id = ?`, cell); err != nil {
			return fail(err)
		}
		active--
	}
	if capacity != 0 && active >= capacity {
		return "", nil
	}
	var next string
	err = t.r.q.QueryRow(ctx, `SELECT terminal_id FROM cell_members WHERE cell_id = ? AND state = 'waiting' ORDER BY seq LIMIT 1`,
		cell).Scan(&next)
	if err != nil && !isNoRows(err) {
		return fail(err)
	}
	return next, nil
}
