package sqlrows

import (
	"context"

	"github.com/skyfence/skyfence"
)

// AlertColumns are the columns of alerts, in the order of alertRow and
// AlertValues.
const AlertColumns = `id, terminal_id, detector, severity, score, first_seen, last_seen, data`

// AlertUpsert ends an INSERT of alerts: an alert replaces the one stored
// with its id.
const AlertUpsert = `ON CONFLICT (id) DO UPDATE SET
	terminal_id = excluded.terminal_id, detector = excluded.detector, severity = excluded.severity,
	score = excluded.score, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
	data = excluded.data`

// alertRow is an alert as stored.
type alertRow struct {
	a                   skyfence.AlertRecord
	firstSeen, lastSeen NullNanos
}

func (r *alertRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.TerminalID, &a.Detector, &a.Severity, &a.Score, &r.firstSeen, &r.lastSeen, &a.Data}
}

// alert returns the stored alert: times in UTC, empty data nil.
func (r *alertRow) alert() *skyfence.AlertRecord {
	a := r.a
	a.FirstSeen, a.LastSeen = r.firstSeen.Time(), r.lastSeen.Time()
	if len(a.Data) == 0 {
		a.Data = nil
	}
	return &a
}

// AlertValues appends the values of AlertColumns for a, which CheckAlert
// passed, to dst (a buffer to reuse, or nil) and returns it. Data is stored
// byte for byte, nil as empty (the column is NOT NULL).
func AlertValues(dst []any, a *skyfence.AlertRecord) []any {
	data := a.Data
	if data == nil {
		data = []byte{}
	}
	return append(dst, a.ID, a.TerminalID, a.Detector, int32(a.Severity), a.Score, Nanos(a.FirstSeen), Nanos(a.LastSeen), data)
}

// FindAlerts returns the alerts f selects, most recently seen first (by
// LastSeen descending, then by id ascending), at most f.Limit of them (0:
// 100; over 1000: 1000). EINVALID for a negative limit.
func (r Reader) FindAlerts(ctx context.Context, f skyfence.AlertFilter) ([]*skyfence.AlertRecord, error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	if f.TerminalID != "" {
		conds, args = append(conds, "terminal_id = ?"), append(args, f.TerminalID)
	}
	if f.Detector != "" {
		conds, args = append(conds, "detector = ?"), append(args, f.Detector)
	}
	return list(ctx, r, "find alerts", `SELECT `+AlertColumns+` FROM alerts`+where(conds)+` ORDER BY last_seen DESC, id LIMIT ?`,
		append(args, limit), func(scan func(...any) error) (*skyfence.AlertRecord, error) {
			var row alertRow
			err := scan(row.dest()...)
			return row.alert(), err
		})
}
