package sqlite

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// SaveAlerts upserts the alerts by id in one write transaction with one
// prepared statement; of two alerts with one id in the batch the later
// wins. Data is stored byte for byte (empty data reads back nil). EINVALID
// (and nothing written) for an alert sqlrows.CheckAlert refuses.
func (db *DB) SaveAlerts(ctx context.Context, alerts []*skyfence.AlertRecord) error {
	if err := sqlrows.CheckAlerts(alerts); err != nil {
		return err
	}
	if len(alerts) == 0 {
		return nil
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	defer t.Rollback() // a no-op after Commit
	stmt, err := t.PrepareContext(ctx, `INSERT INTO alerts (`+sqlrows.AlertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) `+sqlrows.AlertUpsert)
	if err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	defer stmt.Close()
	var vals []any // one buffer for every row: ExecContext keeps none of it
	for _, a := range alerts {
		vals = sqlrows.AlertValues(vals[:0], a)
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("sqlite: save alert %q: %w", a.ID, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	return nil
}
