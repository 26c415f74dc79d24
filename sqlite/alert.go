package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// alertColumns are what alertRow scans, in its order.
const alertColumns = `id, terminal_id, detector, severity, score, first_seen, last_seen, data`

// alertRow is an alert as stored.
type alertRow struct {
	a                   skyfence.AlertRecord
	firstSeen, lastSeen sql.NullInt64
}

func (r *alertRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.TerminalID, &a.Detector, &a.Severity, &a.Score, &r.firstSeen, &r.lastSeen, &a.Data}
}

// alert returns the stored alert: times in UTC, empty data nil.
func (r *alertRow) alert() *skyfence.AlertRecord {
	a := r.a
	a.FirstSeen, a.LastSeen = fromNanos(r.firstSeen), fromNanos(r.lastSeen)
	if len(a.Data) == 0 {
		a.Data = nil
	}
	return &a
}

// FindAlerts returns the alerts f selects, most recently seen first (by
// LastSeen descending, then by id ascending), at most f.Limit of them (0:
// 100; over 1000: 1000). EINVALID for a negative limit.
func (r reader) FindAlerts(ctx context.Context, f skyfence.AlertFilter) ([]*skyfence.AlertRecord, error) {
	limit, err := sqlrows.PageLimit(f.Limit)
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
	rows, err := r.q.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts`+where(conds)+
		` ORDER BY last_seen DESC, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find alerts: %w", err)
	}
	defer rows.Close()
	var as []*skyfence.AlertRecord
	for rows.Next() {
		var row alertRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: find alerts: %w", err)
		}
		as = append(as, row.alert())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find alerts: %w", err)
	}
	return as, nil
}

// SaveAlerts upserts the alerts by id in one write transaction with one
// prepared statement; of two alerts with one id in the batch the later
// wins. Data is stored byte for byte (empty data reads back nil). EINVALID
// (and nothing written) for an alert checkAlert refuses.
func (db *DB) SaveAlerts(ctx context.Context, alerts []*skyfence.AlertRecord) error {
	for i, a := range alerts {
		if err := sqlrows.CheckAlert(i, a); err != nil {
			return err
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	defer t.Rollback() // a no-op after Commit
	stmt, err := t.PrepareContext(ctx, `INSERT INTO alerts (`+alertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			terminal_id = excluded.terminal_id, detector = excluded.detector, severity = excluded.severity,
			score = excluded.score, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
			data = excluded.data`)
	if err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	defer stmt.Close()
	for _, a := range alerts {
		data := a.Data
		if data == nil {
			data = []byte{} // NOT NULL
		}
		if _, err := stmt.ExecContext(ctx, a.ID, a.TerminalID, a.Detector, a.Severity, a.Score,
			nanos(a.FirstSeen), nanos(a.LastSeen), data); err != nil {
			return fmt.Errorf("sqlite: save alert %q: %w", a.ID, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	return nil
}
