package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
)

// auditColumns are the columns of audit_log, in AuditEntry's order.
const auditColumns = `seq, time, actor, action, subject, reason, data, prev_hash, hash`

// FindAudit returns the entries with Seq >= from in order, at most limit of
// them (0: all). EINVALID for a negative limit.
func (r reader) FindAudit(ctx context.Context, from int64, limit int) ([]*skyfence.AuditEntry, error) {
	if limit < 0 {
		return nil, skyfence.Errorf(skyfence.EINVALID, "limit %d is negative", limit)
	}
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find audit: %w", err)
	}
	defer rows.Close()
	var es []*skyfence.AuditEntry
	for rows.Next() {
		var e skyfence.AuditEntry
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlite: find audit: %w", err)
		}
		e.Time = time.Unix(0, at).UTC()
		if len(data) > 0 {
			e.Data = data
		}
		es = append(es, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find audit: %w", err)
	}
	return es, nil
}

// AppendAudit appends e to the chain, setting e.Seq, e.PrevHash and e.Hash
// from the head, and e.Time to now (UTC, in microseconds) if it is zero. The
// write transaction holds SQLite's one write lock, so appends from any
// number of goroutines and processes form one gapless chain. On error e is
// unchanged.
func (t *tx) AppendAudit(ctx context.Context, e *skyfence.AuditEntry) error {
	n := *e
	if n.Time.IsZero() {
		n.Time = time.Now().UTC().Truncate(time.Microsecond)
	}
	if err := checkTimes(n.Time); err != nil {
		return err
	}
	var prevSeq int64
	prev := make([]byte, 32)
	err := t.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: audit head: %w", err)
	}
	n.Seq, n.PrevHash = prevSeq+1, prev
	n.Hash = n.Digest(prev)
	data := []byte(n.Data)
	if data == nil {
		data = []byte{}
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.Seq, n.Time.UnixNano(), n.Actor, n.Action, n.Subject, n.Reason, data, n.PrevHash, n.Hash); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	*e = n
	return nil
}
