package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// auditColumns are the columns of audit_log, in AuditEntry's order.
const auditColumns = `seq, time, actor, action, subject, reason, data, prev_hash, hash`

// FindAudit returns the entries with Seq >= from in order, at most limit of
// them (0: all). EINVALID for a negative limit.
func (r reader) FindAudit(ctx context.Context, from int64, limit int) ([]*skyfence.AuditEntry, error) {
	if limit < 0 {
		return nil, skyfence.Errorf(skyfence.EINVALID, "limit %d is negative", limit)
	}
	var es []*skyfence.AuditEntry
	err := r.audit(ctx, from, limit, func(e *skyfence.AuditEntry) error {
		es = append(es, e)
		return nil
	})
	return es, err
}

// ForEachAudit calls fn for every entry with Seq >= from, in order,
// streaming from one query (one snapshot of the log); it stops at fn's
// first error and returns it.
func (r reader) ForEachAudit(ctx context.Context, from int64, fn func(*skyfence.AuditEntry) error) error {
	return r.audit(ctx, from, 0, fn)
}

// audit streams the entries with Seq >= from in order, at most limit of
// them (0: all), to fn.
func (r reader) audit(ctx context.Context, from int64, limit int, fn func(*skyfence.AuditEntry) error) error {
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return fmt.Errorf("sqlite: find audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e skyfence.AuditEntry
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &data, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("sqlite: find audit: %w", err)
		}
		e.Time = time.Unix(0, at).UTC()
		if len(data) > 0 {
			e.Data = data
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: find audit: %w", err)
	}
	return nil
}

// AuditHead returns the Seq and Hash of the last entry, or 0 and 32 zero
// bytes if the log is empty: what the next entry chains to.
func (r reader) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := r.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, make([]byte, 32), nil
	case err != nil:
		return 0, nil, fmt.Errorf("sqlite: audit head: %w", err)
	}
	return seq, hash, nil
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
	if err := sqlrows.CheckTimes(n.Time); err != nil {
		return err
	}
	prevSeq, prev, err := t.AuditHead(ctx)
	if err != nil {
		return err
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
