package sqlrows

import (
	"context"
	"time"

	"github.com/skyfence/skyfence"
)

// auditColumns are the columns of audit_log, in AuditEntry's order.
const auditColumns = `seq, time, actor, action, subject, reason, data, prev_hash, hash`

// FindAudit returns the entries with Seq >= from in order, at most limit of
// them (0: all). EINVALID for a negative limit.
func (r Reader) FindAudit(ctx context.Context, from int64, limit int) ([]*skyfence.AuditEntry, error) {
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
func (r Reader) ForEachAudit(ctx context.Context, from int64, fn func(*skyfence.AuditEntry) error) error {
	return r.audit(ctx, from, 0, fn)
}

// audit streams the entries with Seq >= from in order, at most limit of
// them (0: all), to fn.
func (r Reader) audit(ctx context.Context, from int64, limit int, fn func(*skyfence.AuditEntry) error) error {
	query, args := `SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? ORDER BY seq`, []any{from}
	if limit > 0 {
		query, args = query+` LIMIT ?`, append(args, limit)
	}
	return r.each(ctx, "find audit", query, args, func(scan func(...any) error) error {
		var e skyfence.AuditEntry
		var at int64
		var data []byte
		if err := scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &data, &e.PrevHash, &e.Hash); err != nil {
			return err
		}
		e.Time = time.Unix(0, at).UTC()
		if len(data) > 0 {
			e.Data = data
		}
		return fn(&e)
	})
}

// AuditHead returns the Seq and Hash of the last entry, or 0 and 32 zero
// bytes if the log is empty: what the next entry chains to. It reads the
// head without locking it.
func (r Reader) AuditHead(ctx context.Context) (int64, []byte, error) {
	return r.auditHead(ctx, r.d.AuditHead)
}

// auditHead returns the head that query selects.
func (r Reader) auditHead(ctx context.Context, query string) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := r.q.QueryRow(ctx, query).Scan(&seq, &hash)
	switch {
	case isNoRows(err):
		return 0, make([]byte, 32), nil
	case err != nil:
		return 0, nil, r.errorf("audit head: %w", err)
	}
	return seq, hash, nil
}

// AppendAudit appends e to the chain, setting e.Seq, e.PrevHash and e.Hash
// from the head, and e.Time to now (UTC, in microseconds) if it is zero. It
// locks the head until the transaction ends (SQLite: the write transaction
// holds the one write lock), so appends from any number of connections and
// processes form one gapless chain. On error e is unchanged.
func (t Tx) AppendAudit(ctx context.Context, e *skyfence.AuditEntry) error {
	n := *e
	if n.Time.IsZero() {
		n.Time = time.Now().UTC().Truncate(time.Microsecond)
	}
	if err := CheckTimes(n.Time); err != nil {
		return err
	}
	prevSeq, prev, err := t.r.auditHead(ctx, t.r.d.LockAuditHead)
	if err != nil {
		return err
	}
	n.Seq, n.PrevHash = prevSeq+1, prev
	n.Hash = n.Digest(prev)
	data := []byte(n.Data)
	if data == nil {
		data = []byte{}
	}
	if _, err := t.r.q.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.Seq, n.Time.UnixNano(), n.Actor, n.Action, n.Subject, n.Reason, data, n.PrevHash, n.Hash); err != nil {
		return t.r.errorf("append audit: %w", err)
	}
	if t.r.d.MoveAuditHead != "" {
		if _, err := t.r.q.Exec(ctx, t.r.d.MoveAuditHead, n.Seq, n.Hash); err != nil {
			return t.r.errorf("append audit: %w", err)
		}
	}
	*e = n
	return nil
}
