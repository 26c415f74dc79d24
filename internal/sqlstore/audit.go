package sqlstore

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

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

// audit streams the entries with Seq >= from in order, at most limit of
// them (0: all), to fn.
func (r Reader) audit(ctx context.Context, from int64, limit int, fn func(*skyfence.AuditEntry) error) error {
	query, args := `SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? ORDER BY seq`, []any{from}
	if limit > 0 {
		query, args = query+` LIMIT ?`, append(args, limit)
	}
	return r.auditRows(ctx, query, args, fn)
}

// QueryAudit streams the entries q selects, in q's order, to fn. EINVALID
// for a negative limit or a time out of range.
func (r Reader) QueryAudit(ctx context.Context, q skyfence.AuditQuery, fn func(*skyfence.AuditEntry) error) error {
	if q.Limit < 0 {
		return skyfence.Errorf(skyfence.EINVALID, "limit %d is negative", q.Limit)
	}
	if err := CheckTimes(q.Since, q.Until); err != nil {
		return err
	}
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds, args = append(conds, cond), append(args, a...) }
	if q.ActionPrefix != "" {
		// Not a range of the index: under PostgreSQL's collations the
		// order of text is not the order of its bytes.
		add("substr(action, 1, ?) = ?", utf8.RuneCountInString(q.ActionPrefix), q.ActionPrefix)
	}
	if len(q.Actions) > 0 {
		add("action IN (?"+strings.Repeat(", ?", len(q.Actions)-1)+")", anys(q.Actions)...)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Subject != "" {
		add("subject = ?", q.Subject)
	}
	if !q.Since.IsZero() {
		add("time >= ?", q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		add("time < ?", q.Until.UnixNano())
	}
	if q.Before > 0 {
		add("seq < ?", q.Before)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log` + where(conds) + ` ORDER BY seq`
	if q.Newest {
		query += ` DESC`
	}
	if q.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, q.Limit)
	}
	return r.auditRows(ctx, query, args, fn)
}

// auditRows streams the entries query selects (their auditColumns) to fn.
func (r Reader) auditRows(ctx context.Context, query string, args []any, fn func(*skyfence.AuditEntry) error) error {
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

// anys returns ss as arguments of a query.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
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
// from the head, and e.Time to now (UTC, in microseconds) if it is zero,
// and adds its leaf to the tree. It locks the head until the transaction
// ends (SQLite: the write transaction holds the one write lock), so appends
// from any number of connections and processes form one gapless chain and
// one tree. On error e is unchanged.
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
	if !t.a.complete {
		if err := t.completeTree(ctx, prevSeq); err != nil {
			return err
		}
		t.a.complete = true
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
	if err := t.addLeaf(ctx, &n); err != nil {
		return err
	}
	t.a.appended, t.a.size = true, n.Seq
	*e = n
	return nil
}
