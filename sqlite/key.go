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

// keyColumns are what keyRow scans, in its order.
const keyColumns = `id, name, role, region, person, hash, created_at, revoked_at`

// keyRow is an API key as stored.
type keyRow struct {
	k                skyfence.APIKey
	created, revoked sql.NullInt64
}

func (r *keyRow) dest() []any {
	return []any{&r.k.ID, &r.k.Name, &r.k.Role, &r.k.Region, &r.k.Person, &r.k.Hash, &r.created, &r.revoked}
}

func (r *keyRow) key() *skyfence.APIKey {
	k := r.k
	k.CreatedAt, k.RevokedAt = fromNanos(r.created), fromNanos(r.revoked)
	return &k
}

// FindKeyByHash returns the key whose secret hashes to hash, revoked or
// not, or ENOTFOUND.
func (r reader) FindKeyByHash(ctx context.Context, hash []byte) (*skyfence.APIKey, error) {
	var row keyRow
	err := r.q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash).Scan(row.dest()...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no key has that secret")
	case err != nil:
		return nil, fmt.Errorf("sqlite: find key by hash: %w", err)
	}
	return row.key(), nil
}

// FindKeys returns every key, revoked ones included, in id order.
func (r reader) FindKeys(ctx context.Context) ([]*skyfence.APIKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find keys: %w", err)
	}
	defer rows.Close()
	var ks []*skyfence.APIKey
	for rows.Next() {
		var row keyRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: find keys: %w", err)
		}
		ks = append(ks, row.key())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find keys: %w", err)
	}
	return ks, nil
}

// CreateKey stores a new key: EINVALID without an id or a hash, ECONFLICT
// if the id or the hash exists.
func (t *tx) CreateKey(ctx context.Context, k *skyfence.APIKey) error {
	if err := needID("key", k.ID); err != nil {
		return err
	}
	if len(k.Hash) == 0 {
		return skyfence.Errorf(skyfence.EINVALID, "key %q has no hash", k.ID)
	}
	if err := sqlrows.CheckTimes(k.CreatedAt, k.RevokedAt); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, string(k.Role), k.Region, k.Person, k.Hash, nanos(k.CreatedAt), nanos(k.RevokedAt))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "key %q, or one with the same secret, already exists", k.ID)
	case err != nil:
		return fmt.Errorf("sqlite: create key %q: %w", k.ID, err)
	}
	return nil
}

// RevokeKey marks the key revoked at at and returns it; a key revoked
// already keeps its first revocation. EINVALID for a zero at, ENOTFOUND for
// a missing key.
func (t *tx) RevokeKey(ctx context.Context, id string, at time.Time) (*skyfence.APIKey, error) {
	if at.IsZero() {
		return nil, skyfence.Errorf(skyfence.EINVALID, "key %q: revocation time is zero", id)
	}
	if err := sqlrows.CheckTimes(at); err != nil {
		return nil, err
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		nanos(at), id); err != nil {
		return nil, fmt.Errorf("sqlite: revoke key %q: %w", id, err)
	}
	var row keyRow
	err := t.q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id).Scan(row.dest()...)
	if err != nil {
		return nil, notFound(err, "key", id)
	}
	return row.key(), nil
}
