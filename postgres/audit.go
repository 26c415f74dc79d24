package postgres

import (
	"context"
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
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := r.q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: find audit: %w", err)
	}
	defer rows.Close()
	var es []*skyfence.AuditEntry
	for rows.Next() {
		var e skyfence.AuditEntry
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("postgres: find audit: %w", err)
		}
		e.Time = time.Unix(0, at).UTC()
		if len(data) > 0 {
			e.Data = data
		}
		es = append(es, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: find audit: %w", err)
	}
	return es, nil
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
	if err := checkTimes(n.Time); err != nil {
		return err
	}
	var prevSeq int64
	var prev []byte
	if err := t.t.QueryRow(ctx, `SELECT seq, hash FROM audit_head FOR UPDATE`).Scan(&prevSeq, &prev); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	n.Seq, n.PrevHash = prevSeq+1, prev
	n.Hash = n.Digest(prev)
	data := []byte(n.Data)
	if data == nil {
		data = []byte{}
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		n.Seq, n.Time.UnixNano(), n.Actor, n.Action, n.Subject, n.Reason, data, n.PrevHash, n.Hash); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	if _, err := t.t.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2`, n.Seq, n.Hash); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	*e = n
	return nil
}
