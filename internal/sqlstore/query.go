package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Querier runs SQL written once for both stores: "?" stands for each
// argument, and each store's adapter writes it as its driver wants it
// (PostgreSQL numbers them: see Dollars). An adapter marks the errors the
// shared code decides on (ErrNoRows, ErrUnique, ErrForeignKey) with Mark.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (Cursor, error)
	QueryRow(ctx context.Context, query string, args ...any) Scanner
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Try is Exec for a statement of a transaction that may fail on a
	// constraint: if it fails, the transaction goes on as if it had not
	// run (SQLite does so for every statement; PostgreSQL needs a
	// savepoint).
	Try(ctx context.Context, query string, args ...any) (int64, error)
}

// Cursor is the rows of a query.
type Cursor interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Scanner is one row: its Scan returns an error marked ErrNoRows if the
// query returned none.
type Scanner interface {
	Scan(dest ...any) error
}

// The kinds of driver errors that the shared code answers for: no row
// (ENOTFOUND), a UNIQUE or PRIMARY KEY violation (ECONFLICT), a FOREIGN KEY
// violation (ENOTFOUND: the row refers to one that does not exist).
var (
	ErrNoRows     = errors.New("no rows in result set")
	ErrUnique     = errors.New("unique violation")
	ErrForeignKey = errors.New("foreign key violation")
)

// Mark returns err marked as of kind (one of the Err variables above), or
// nil for a nil err: errors.Is finds the kind, errors.As the driver's
// error, and the message stays the driver's.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

// MarkConstraint returns err marked ErrUnique if unique, ErrForeignKey if
// foreignKey (what the driver's codes say of it), else err itself.
func MarkConstraint(err error, unique, foreignKey bool) error {
	switch {
	case unique:
		return Mark(err, ErrUnique)
	case foreignKey:
		return Mark(err, ErrForeignKey)
	}
	return err
}

type marked struct{ err, kind error }

func (e *marked) Error() string   { return e.err.Error() }
func (e *marked) Unwrap() []error { return []error{e.err, e.kind} }

// Dollars returns query with its "?" placeholders numbered as PostgreSQL
// wants them: "$1", "$2"... A "?" inside a quoted string or name stays.
func Dollars(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote of the string or name we are in, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// where returns the WHERE clause joining conds with AND, or "".
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func isNoRows(err error) bool     { return errors.Is(err, ErrNoRows) }
func isUnique(err error) bool     { return errors.Is(err, ErrUnique) }
func isForeignKey(err error) bool { return errors.Is(err, ErrForeignKey) }
