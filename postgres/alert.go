package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// alertColumns are what alertRow scans, in its order.
const alertColumns = `id, terminal_id, detector, severity, score, first_seen, last_seen, data`

// alertColumnList is alertColumns as a list, for COPY.
var alertColumnList = strings.Split(strings.ReplaceAll(alertColumns, " ", ""), ",")

// alertRow is an alert as stored.
type alertRow struct {
	a                   skyfence.AlertRecord
	firstSeen, lastSeen *int64
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
	var w conds
	if f.TerminalID != "" {
		w.add("terminal_id = ", f.TerminalID)
	}
	if f.Detector != "" {
		w.add("detector = ", f.Detector)
	}
	w.args = append(w.args, limit)
	rows, err := r.q.Query(ctx, `SELECT `+alertColumns+` FROM alerts`+w.where()+
		` ORDER BY last_seen DESC, id LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: find alerts: %w", err)
	}
	defer rows.Close()
	var as []*skyfence.AlertRecord
	for rows.Next() {
		var row alertRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("postgres: find alerts: %w", err)
		}
		as = append(as, row.alert())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: find alerts: %w", err)
	}
	return as, nil
}

// SaveAlerts upserts the alerts by id: COPY into a temporary table, then
// one INSERT ... ON CONFLICT from it, in one transaction. Of two alerts
// with one id in the batch the later wins. Data is stored byte for byte
// (empty data reads back nil). EINVALID (and nothing written) for an alert
// checkAlert refuses.
func (db *DB) SaveAlerts(ctx context.Context, alerts []*skyfence.AlertRecord) error {
	last := make(map[string]int, len(alerts)) // the index of each id's last alert
	for i, a := range alerts {
		if err := sqlrows.CheckAlert(i, a); err != nil {
			return err
		}
		last[a.ID] = i
	}
	if len(alerts) == 0 {
		return nil
	}
	batch := make([]*skyfence.AlertRecord, 0, len(last))
	for i, a := range alerts {
		if last[a.ID] == i { // ON CONFLICT may not touch a row twice
			batch = append(batch, a)
		}
	}
	fail := func(err error) error { return fmt.Errorf("postgres: save %d alerts: %w", len(batch), retryable(err)) }
	t, err := db.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer t.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	// One temporary table per connection, emptied at each commit.
	if _, err := t.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS alerts_in (LIKE alerts) ON COMMIT DELETE ROWS`); err != nil {
		return fail(err)
	}
	if _, err := t.CopyFrom(ctx, pgx.Identifier{"alerts_in"}, alertColumnList, pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
		a := batch[i]
		data := a.Data
		if data == nil {
			data = []byte{} // NOT NULL
		}
		return []any{a.ID, a.TerminalID, a.Detector, int32(a.Severity), a.Score,
			nanos(a.FirstSeen), nanos(a.LastSeen), data}, nil
	})); err != nil {
		return fail(err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO alerts (`+alertColumns+`) SELECT `+alertColumns+` FROM alerts_in
	ON CONFLICT (id) DO UPDATE SET
		terminal_id = excluded.terminal_id, detector = excluded.detector, severity = excluded.severity,
		score = excluded.score, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
		data = excluded.data`); err != nil {
		return fail(err)
	}
	if err := t.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}
