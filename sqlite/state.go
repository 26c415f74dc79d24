package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// stateColumns are what stateRow scans, in its order.
const stateColumns = `terminal_id, fix_time, lat, lon, alt_m, speed_kmh, cell, allow, reason, rule, country, policy, decided_at, track`

// stateRow is a terminal state as stored.
type stateRow struct {
	s                  skyfence.TerminalState
	fixTime, decidedAt sql.NullInt64
}

func (r *stateRow) dest() []any {
	s := &r.s
	return []any{&s.TerminalID, &r.fixTime, &s.Fix.Lat, &s.Fix.Lon, &s.Fix.AltM, &s.Fix.SpeedKmh, &s.Fix.Cell,
		&s.Allow, &s.Reason, &s.Rule, &s.Country, &s.Policy, &r.decidedAt, &s.Track}
}

// state returns the stored state; its Fix.TerminalID is its TerminalID.
func (r *stateRow) state() *skyfence.TerminalState {
	s := r.s
	s.Fix.TerminalID = s.TerminalID
	s.Fix.Time, s.DecidedAt = fromNanos(r.fixTime), fromNanos(r.decidedAt)
	if len(s.Track) == 0 {
		s.Track = nil
	}
	return &s
}

// FindState returns the terminal's last state, or ENOTFOUND.
func (r reader) FindState(ctx context.Context, terminalID string) (*skyfence.TerminalState, error) {
	var row stateRow
	err := r.q.QueryRowContext(ctx, `SELECT `+stateColumns+` FROM terminal_states WHERE terminal_id = ?`, terminalID).
		Scan(row.dest()...)
	if err != nil {
		return nil, notFound(err, "state of terminal", terminalID)
	}
	return row.state(), nil
}

// ForEachState calls fn for every stored state in terminal id order,
// streaming from one query; it stops at fn's first error and returns it.
func (r reader) ForEachState(ctx context.Context, fn func(*skyfence.TerminalState) error) error {
	rows, err := r.q.QueryContext(ctx, `SELECT `+stateColumns+` FROM terminal_states ORDER BY terminal_id`)
	if err != nil {
		return fmt.Errorf("sqlite: states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var row stateRow
		if err := rows.Scan(row.dest()...); err != nil {
			return fmt.Errorf("sqlite: states: %w", err)
		}
		if err := fn(row.state()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: states: %w", err)
	}
	return nil
}

// SaveStates upserts the states in one write transaction with one prepared
// statement; of two states of one terminal in the batch the later wins.
// Fix.TerminalID is not stored: a state read back has its TerminalID there.
// EINVALID (and nothing written) for a nil state, an empty terminal id or a
// time out of range.
func (db *DB) SaveStates(ctx context.Context, states []*skyfence.TerminalState) error {
	for i, s := range states {
		if s == nil {
			return skyfence.Errorf(skyfence.EINVALID, "state %d is nil", i)
		}
		if err := needID("terminal", s.TerminalID); err != nil {
			return err
		}
		if err := sqlrows.CheckTimes(s.Fix.Time, s.DecidedAt); err != nil {
			return err
		}
	}
	if len(states) == 0 {
		return nil
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	defer t.Rollback() // a no-op after Commit
	stmt, err := t.PrepareContext(ctx, `INSERT INTO terminal_states (`+stateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (terminal_id) DO UPDATE SET
			fix_time = excluded.fix_time, lat = excluded.lat, lon = excluded.lon, alt_m = excluded.alt_m,
			speed_kmh = excluded.speed_kmh, cell = excluded.cell, allow = excluded.allow, reason = excluded.reason,
			rule = excluded.rule, country = excluded.country, policy = excluded.policy,
			decided_at = excluded.decided_at, track = excluded.track`)
	if err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	defer stmt.Close()
	for _, s := range states {
		f := &s.Fix
		if _, err := stmt.ExecContext(ctx, s.TerminalID, nanos(f.Time), f.Lat, f.Lon, f.AltM, f.SpeedKmh, f.Cell,
			s.Allow, s.Reason, s.Rule, s.Country, s.Policy, nanos(s.DecidedAt), s.Track); err != nil {
			return fmt.Errorf("sqlite: save state of %q: %w", s.TerminalID, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: save states: %w", err)
	}
	return nil
}
