package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
)

// Dialect is what differs between the stores' SQL beyond the placeholders
// (which their Querier rewrites): each store has one.
type Dialect struct {
	// Name starts the stores' errors: "sqlite", "postgres".
	Name string
	// ForUpdate ends a SELECT of a row that the transaction goes on to
	// change, to lock it until the transaction ends: " FOR UPDATE", or ""
	// where a write transaction holds the database's one write lock.
	ForUpdate string
	// AuditHead selects the seq and hash of the audit chain's last entry
	// (no row: the log is empty). LockAuditHead selects them for an
	// append, locking the head until the transaction ends; MoveAuditHead,
	// if not "", moves the head to an appended entry (its seq and hash).
	AuditHead, LockAuditHead, MoveAuditHead string
	// Groups returns a terminal's groups as the store keeps them.
	Groups func(groups []string) (any, error)
	// ScanGroups returns a new scan target for the groups column.
	ScanGroups func() GroupsColumn
}

// GroupsColumn is a scan target for a terminal's groups column.
type GroupsColumn interface {
	// Dest is what Scan writes the column to.
	Dest() any
	// Groups returns the groups that Scan wrote (nil for none).
	Groups() ([]string, error)
}

// Reader implements the methods of skyfence.Reader that both stores run
// alike (all of them), on a Querier: a store embeds it.
type Reader struct {
	q Querier
	d *Dialect
}

// NewReader returns a Reader running on q in the dialect d.
func NewReader(q Querier, d *Dialect) Reader { return Reader{q: q, d: d} }

// errorf returns an error prefixed with the store's name.
func (r Reader) errorf(format string, args ...any) error { return errorf(r.d.Name, format, args...) }

// errorf returns an error prefixed with store, the store's name.
func errorf(store, format string, args ...any) error {
	return fmt.Errorf(store+": "+format, args...)
}

// notFound returns err as ENOTFOUND if it is ErrNoRows, else wrapped as an
// internal error about what.
func (r Reader) notFound(err error, what, id string) error {
	if isNoRows(err) {
		return skyfence.Errorf(skyfence.ENOTFOUND, "%s %q not found", what, id)
	}
	return r.errorf("find %s %q: %w", what, id, err)
}

// Tx implements the methods of skyfence.Tx that both stores run alike (all
// of them), in a transaction: a store embeds it beside its
// reader (Tx does not promote Reader's methods, so that the two do not
// collide).
type Tx struct {
	r Reader
	a *auditState
}

// NewTx returns a Tx running on q, a transaction, in the dialect d.
func NewTx(q Querier, d *Dialect) Tx { return Tx{r: NewReader(q, d), a: &auditState{}} }

// NeedID returns EINVALID if id is empty.
func NeedID(what, id string) error {
	if id == "" {
		return skyfence.Errorf(skyfence.EINVALID, "%s id is empty", what)
	}
	return nil
}

// Nanos returns t as the stores keep it: nanoseconds since the epoch, or
// nil (NULL) for the zero time. t must have passed CheckTimes.
func Nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// NullNanos is a scan target for a stored time (Nanos): both drivers scan
// into a database/sql Scanner.
type NullNanos struct {
	n     int64
	valid bool
}

// Scan implements sql.Scanner.
func (n *NullNanos) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = NullNanos{}
	case int64:
		*n = NullNanos{n: v, valid: true}
	default:
		return fmt.Errorf("a time is stored as %T, not as integer nanoseconds", src)
	}
	return nil
}

// Time returns the stored time in UTC, or the zero time for NULL.
func (n NullNanos) Time() time.Time {
	if !n.valid {
		return time.Time{}
	}
	return time.Unix(0, n.n).UTC()
}

// each runs query and calls fn for each row it returns, with scan reading
// the row. The errors of the query, of scan and of the rows come back
// prefixed with what; those of fn's own as they are.
func (r Reader) each(ctx context.Context, what, query string, args []any, fn func(scan func(dest ...any) error) error) error {
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return r.errorf("%s: %w", what, err)
	}
	defer rows.Close()
	scan := func(dest ...any) error {
		if err := rows.Scan(dest...); err != nil {
			return r.errorf("%s: %w", what, err)
		}
		return nil
	}
	for rows.Next() {
		if err := fn(scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return r.errorf("%s: %w", what, err)
	}
	return nil
}

// list returns what row makes of each row that query returns, read with
// scan (as for each).
func list[T any](ctx context.Context, r Reader, what, query string, args []any, row func(scan func(dest ...any) error) (T, error)) ([]T, error) {
	var out []T
	err := r.each(ctx, what, query, args, func(scan func(dest ...any) error) error {
		v, err := row(scan)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
