package postgres

import (
	"context"
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
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := r.q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, lim)
	if err != nil {
		return fmt.Errorf("postgres: find audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e skyfence.AuditEntry
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &data, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("postgres: find audit: %w", err)
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
		return fmt.Errorf("postgres: find audit: %w", err)
	}
	return nil
}

// AuditHead returns the Seq and Hash of the last entry, or 0 and 32 zero
// bytes if the log is empty: what the next entry chains to. It reads the
// head without locking it.
func (r reader) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	if err := r.q.QueryRow(ctx, `SELECT seq, hash FROM audit_head`).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("postgres: audit head: %w", err)
	}
	return seq, hash, nil
}

// AppendAudit appends e to the chain, setting e.Seq, e.PrevHash and e.Hash
// from the head, and e.Time to now (UTC, in microseconds) if it is zero. It
// locks the head until the transaction ends, so appends from any number of
// connections and processes form one gapless chain. On error e is
// unchanged.
func (t *tx) AppendAudit(ctx context.Context, e *skyfence.AuditEntry) error {
	n := *e
	if n.Time.IsZero() {
		n.Time = time.Now().UTC().Truncate(time.Microsecond)
	}
	if err := sqlrows.CheckTimes(n.Time); err != nil {
		return err
	}
	var prevSeq int64
	var prev []byte
	if err := t.q.QueryRow(ctx, `SELECT seq, hash FROM audit_head FOR UPDATE`).Scan(&prevSeq, &prev); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	n.Seq, n.PrevHash = prevSeq+1, prev
	n.Hash = n.Digest(prev)
	data := []byte(n.Data)
	if data == nil {
		data = []byte{}
	}
	if _, err := t.q.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		n.Seq, n.Time.UnixNano(), n.Actor, n.Action, n.Subject, n.Reason, data, n.PrevHash, n.Hash); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	if _, err := t.q.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2`, n.Seq, n.Hash); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	*e = n
	return nil
}
