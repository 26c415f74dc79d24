// Package sqlrows holds what the SQL stores (sqlite, postgres) check and read the
// same way, over what database/sql's and pgx's result sets have in common.
package sqlrows

import (
	"fmt"

	"github.com/skyfence/skyfence"
)

// Rows is what database/sql's and pgx's result sets share.
type Rows interface {
	Next() bool
	Err() error
}

// Row is one row of a query joining terminals to their verifications: the
// terminal's id, how to build the terminal (called once per terminal, on
// its first row), and the row's verification, or nil if the terminal has
// none.
type Row struct {
	ID           string
	Terminal     func() (*skyfence.Terminal, error)
	Verification *skyfence.Verification
}

// Terminals groups the rows of a query joining terminals to their
// verifications, ordered by terminal id, and calls fn with each terminal and
// its verifications in order. scan reads the current row. Terminals stops at
// the first error of scan or fn and returns it as is; an error of the rows
// themselves comes back prefixed with what.
func Terminals(rows Rows, what string, scan func() (Row, error), fn func(*skyfence.Terminal) error) error {
	var cur *skyfence.Terminal
	for rows.Next() {
		r, err := scan()
		if err != nil {
			return err
		}
		if cur == nil || cur.ID != r.ID {
			if cur != nil {
				if err := fn(cur); err != nil {
					return err
				}
			}
			if cur, err = r.Terminal(); err != nil {
				return err
			}
		}
		if r.Verification != nil {
			cur.Verifications = append(cur.Verifications, *r.Verification)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}
