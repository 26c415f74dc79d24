package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// stateColumns are what stateRow scans, in its order.
const stateColumns = `terminal_id, fix_time, lat, lon, alt_m, speed_kmh, cell, allow, reason, rule, country, policy, decided_at, track`

// stateRow is a terminal state as stored.
type stateRow struct {
	s                  skyfence.TerminalState
	fixTime, decidedAt *int64
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
	err := r.q.QueryRow(ctx, `SELECT `+stateColumns+` FROM terminal_states WHERE terminal_id = $1`, terminalID).
		Scan(row.dest()...)
	if err != nil {
		return nil, notFound(err, "state of terminal", terminalID)
	}
	return row.state(), nil
}

// ForEachState calls fn for every stored state in terminal id order,
// streaming from one query; it stops at fn's first error and returns it.
func (r reader) ForEachState(ctx context.Context, fn func(*skyfence.TerminalState) error) error {
	rows, err := r.q.Query(ctx, `SELECT `+stateColumns+` FROM terminal_states ORDER BY terminal_id`)
	if err != nil {
		return fmt.Errorf("postgres: states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var row stateRow
		if err := rows.Scan(row.dest()...); err != nil {
			return fmt.Errorf("postgres: states: %w", err)
		}
		if err := fn(row.state()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: states: %w", err)
	}
	return nil
}

// stateColumnList is stateColumns as a list, for COPY.
var stateColumnList = strings.Split(strings.ReplaceAll(stateColumns, " ", ""), ",")

// SaveStates upserts the states: COPY into a temporary table, then one
// INSERT ... ON CONFLICT from it, in one transaction. Of two states of one
// terminal in the batch the later wins. Fix.TerminalID is not stored: a
// state read back has its TerminalID there. EINVALID (and nothing written)
// for a nil state, an empty terminal id or a time out of range.
func (db *DB) SaveStates(ctx context.Context, states []*skyfence.TerminalState) error {
	last := make(map[string]int, len(states)) // the index of each terminal's last state
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
		last[s.TerminalID] = i
	}
	if len(states) == 0 {
		return nil
	}
	batch := make([]*skyfence.TerminalState, 0, len(last))
	for i, s := range states {
		if last[s.TerminalID] == i { // ON CONFLICT may not touch a row twice
			batch = append(batch, s)
		}
	}
	fail := func(err error) error { return fmt.Errorf("postgres: save %d states: %w", len(batch), retryable(err)) }
	t, err := db.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer t.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	// One temporary table per connection, emptied at each commit.
	if _, err := t.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS terminal_states_in (LIKE terminal_states) ON COMMIT DELETE ROWS`); err != nil {
		return fail(err)
	}
	if _, err := t.CopyFrom(ctx, pgx.Identifier{"terminal_states_in"}, stateColumnList, pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
		s := batch[i]
		f := &s.Fix
		return []any{s.TerminalID, nanos(f.Time), f.Lat, f.Lon, f.AltM, f.SpeedKmh, f.Cell,
			s.Allow, s.Reason, s.Rule, s.Country, s.Policy, nanos(s.DecidedAt), s.Track}, nil
	})); err != nil {
		return fail(err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO terminal_states SELECT * FROM terminal_states_in
	ON CONFLICT (terminal_id) DO UPDATE SET
		fix_time = excluded.fix_time, lat = excluded.lat, lon = excluded.lon, alt_m = excluded.alt_m,
		speed_kmh = excluded.speed_kmh, cell = excluded.cell, allow = excluded.allow, reason = excluded.reason,
		rule = excluded.rule, country = excluded.country, policy = excluded.policy,
		decided_at = excluded.decided_at, track = excluded.track`); err != nil {
		return fail(err)
	}
	if err := t.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}
