package sqlstore

import (
	"context"

	"github.com/skyfence/skyfence"
)

// StateColumns are the columns of terminal_states, in the order of
// stateRow and StateValues.
const StateColumns = `terminal_id, fix_time, lat, lon, alt_m, speed_kmh, cell, allow, reason, rule, country, policy, decided_at, track`

// StateUpsert ends an INSERT of states into terminal_states: a state
// replaces the one stored for its terminal.
const StateUpsert = `ON CONFLICT (terminal_id) DO UPDATE SET
	fix_time = excluded.fix_time, lat = excluded.lat, lon = excluded.lon, alt_m = excluded.alt_m,
	speed_kmh = excluded.speed_kmh, cell = excluded.cell, allow = excluded.allow, reason = excluded.reason,
	rule = excluded.rule, country = excluded.country, policy = excluded.policy,
	decided_at = excluded.decided_at, track = excluded.track`

// stateRow is a terminal state as stored.
type stateRow struct {
	s                  skyfence.TerminalState
	fixTime, decidedAt NullNanos
}

func (r *stateRow) dest() []any {
	s := &r.s
	return []any{&s.TerminalID, &r.fixTime, &s.Fix.Lat, &s.Fix.Lon, &s.Fix.AltM, &s.Fix.SpeedKmh, &s.Fix.ServingCell,
		&s.Allow, &s.Reason, &s.Rule, &s.Country, &s.Policy, &r.decidedAt, &s.Track}
}

// state returns the stored state; its Fix.TerminalID is its TerminalID.
func (r *stateRow) state() *skyfence.TerminalState {
	s := r.s
	s.Fix.TerminalID = s.TerminalID
	s.Fix.Time, s.DecidedAt = r.fixTime.Time(), r.decidedAt.Time()
	if len(s.Track) == 0 {
		s.Track = nil
	}
	return &s
}

// StateValues appends the values of StateColumns for s to dst (a buffer
// to reuse, or nil) and returns it. Fix.TerminalID is not stored: a state
// read back has its TerminalID there.
func StateValues(dst []any, s *skyfence.TerminalState) []any {
	f := &s.Fix
	return append(dst, s.TerminalID, Nanos(f.Time), f.Lat, f.Lon, f.AltM, f.SpeedKmh, f.ServingCell,
		s.Allow, s.Reason, s.Rule, s.Country, s.Policy, Nanos(s.DecidedAt), s.Track)
}

// CheckStates returns EINVALID for a batch of states to save that holds a
// nil state, an empty terminal id or a time out of range.
func CheckStates(states []*skyfence.TerminalState) error {
	for i, s := range states {
		if s == nil {
			return skyfence.Errorf(skyfence.EINVALID, "state %d is nil", i)
		}
		if err := NeedID("terminal", s.TerminalID); err != nil {
			return err
		}
		if err := CheckTimes(s.Fix.Time, s.DecidedAt); err != nil {
			return err
		}
	}
	return nil
}

// FindState returns the terminal's last state, or ENOTFOUND.
func (r Reader) FindState(ctx context.Context, terminalID string) (*skyfence.TerminalState, error) {
	var row stateRow
	err := r.q.QueryRow(ctx, `SELECT `+StateColumns+` FROM terminal_states WHERE terminal_id = ?`, terminalID).
		Scan(row.dest()...)
	if err != nil {
		return nil, r.notFound(err, "state of terminal", terminalID)
	}
	return row.state(), nil
}

// ForEachState calls fn for every stored state in terminal id order,
// streaming from one query; it stops at fn's first error and returns it.
func (r Reader) ForEachState(ctx context.Context, fn func(*skyfence.TerminalState) error) error {
	return r.each(ctx, "states", `SELECT `+StateColumns+` FROM terminal_states ORDER BY terminal_id`, nil,
		func(scan func(...any) error) error {
			var row stateRow
			if err := scan(row.dest()...); err != nil {
				return err
			}
			return fn(row.state())
		})
}
