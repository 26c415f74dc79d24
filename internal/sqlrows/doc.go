package sqlrows

import (
	"fmt"

	"github.com/skyfence/skyfence"
)

// ScanRows is Rows that scan: database/sql's *Rows and pgx's Rows.
type ScanRows interface {
	Rows
	Scan(dest ...any) error
}

// Docs reads rows of (id, doc) and decodes each document: the listings of
// the objects the stores keep as JSON documents (policy changes, cases).
// A document that does not decode is an error naming what and its id.
func Docs[T any](rows ScanRows, what string, decode func([]byte) (*T, error)) ([]*T, error) {
	var out []*T
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, err
		}
		v, err := decode(doc)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, id, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// StaleRevision explains an update guarded by a revision that changed no
// row: ENOTFOUND if there is no such object, else ECONFLICT naming the
// revision stored. stored reads that revision (found false: no row).
func StaleRevision(what, id string, rev int64, stored func() (r int64, found bool, err error)) error {
	r, found, err := stored()
	switch {
	case err != nil:
		return fmt.Errorf("update %s %q: %w", what, id, err)
	case !found:
		return skyfence.Errorf(skyfence.ENOTFOUND, "%s %q not found", what, id)
	}
	return skyfence.Errorf(skyfence.ECONFLICT, "%s %q changed meanwhile (revision %d, not %d): read it again", what, id, r, rev)
}
