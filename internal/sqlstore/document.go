package sqlstore

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
)

// Rows is what database/sql's and pgx's result sets share.
type Rows interface {
	Next() bool
	Err() error
}

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

// staleRevision explains an update of the document id in table, guarded
// by the revision rev, that changed no row: ENOTFOUND if there is no such
// document, else ECONFLICT naming the revision stored.
func (t Tx) staleRevision(ctx context.Context, table, what, id string, rev int64) error {
	var stored int64
	err := t.r.q.QueryRow(ctx, `SELECT revision FROM `+table+` WHERE id = ?`, id).Scan(&stored)
	switch {
	case isNoRows(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "%s %q not found", what, id)
	case err != nil:
		return t.r.errorf("update %s %q: %w", what, id, err)
	}
	return skyfence.Errorf(skyfence.ECONFLICT, "%s %q changed meanwhile (revision %d, not %d): read it again", what, id, stored, rev)
}
