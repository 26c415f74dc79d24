package sqlstore

import (
	"context"
	"time"

	"github.com/skyfence/skyfence"
)

// keyColumns are what keyRow scans, in its order.
const keyColumns = `id, name, role, region, person, hash, created_at, revoked_at, person_id, authority, granted_by, pending, approved_by, approved_at`

// keyRow is an API key as stored.
type keyRow struct {
	k                          skyfence.APIKey
	role                       string
	created, revoked, approved NullNanos
}

func (r *keyRow) dest() []any {
	return []any{&r.k.ID, &r.k.Name, &r.role, &r.k.Region, &r.k.Person, &r.k.Hash, &r.created, &r.revoked,
		&r.k.PersonID, &r.k.Authority, &r.k.GrantedBy, &r.k.Pending, &r.k.ApprovedBy, &r.approved}
}

func (r *keyRow) key() *skyfence.APIKey {
	k := r.k
	k.Role = skyfence.Role(r.role)
	k.CreatedAt, k.RevokedAt, k.ApprovedAt = r.created.Time(), r.revoked.Time(), r.approved.Time()
	return &k
}

// FindKeyByID returns the key, revoked or not, or ENOTFOUND.
func (r Reader) FindKeyByID(ctx context.Context, id string) (*skyfence.APIKey, error) {
	var row keyRow
	if err := r.q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id).Scan(row.dest()...); err != nil {
		return nil, r.notFound(err, "key", id)
	}
	return row.key(), nil
}

// FindKeyByHash returns the key whose secret hashes to hash, revoked or
// not, or ENOTFOUND.
func (r Reader) FindKeyByHash(ctx context.Context, hash []byte) (*skyfence.APIKey, error) {
	var row keyRow
	err := r.q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash).Scan(row.dest()...)
	switch {
	case isNoRows(err):
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no key has that secret")
	case err != nil:
		return nil, r.errorf("find key by hash: %w", err)
	}
	return row.key(), nil
}

// FindKeys returns every key, revoked ones included, in id order.
func (r Reader) FindKeys(ctx context.Context) ([]*skyfence.APIKey, error) {
	return list(ctx, r, "find keys", `SELECT `+keyColumns+` FROM api_keys ORDER BY id`, nil,
		func(scan func(...any) error) (*skyfence.APIKey, error) {
			var row keyRow
			err := scan(row.dest()...)
			return row.key(), err
		})
}

// CreateKey stores a new key: EINVALID without an id, a hash or a person
// ID, ENOTFOUND if the person does not exist, ECONFLICT if the id or the
// hash exists.
func (t Tx) CreateKey(ctx context.Context, k *skyfence.APIKey) error {
	if err := NeedID("key", k.ID); err != nil {
		return err
	}
	if len(k.Hash) == 0 {
		return skyfence.Errorf(skyfence.EINVALID, "key %q has no hash", k.ID)
	}
	if err := NeedID("person", k.PersonID); err != nil {
		return skyfence.FieldErrorf(skyfence.EINVALID, "person_id", "key %q belongs to no person", k.ID)
	}
	if err := CheckTimes(k.CreatedAt, k.RevokedAt, k.ApprovedAt); err != nil {
		return err
	}
	if _, err := t.r.FindPersonByID(ctx, k.PersonID); err != nil {
		return err
	}
	_, err := t.r.q.Try(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, string(k.Role), k.Region, k.Person, k.Hash, Nanos(k.CreatedAt), Nanos(k.RevokedAt),
		k.PersonID, k.Authority, k.GrantedBy, k.Pending, k.ApprovedBy, Nanos(k.ApprovedAt))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "key %q, or one with the same secret, already exists", k.ID)
	case err != nil:
		return t.r.errorf("create key %q: %w", k.ID, err)
	}
	return nil
}

// RevokeKey marks the key revoked at at and returns it; a key revoked
// already keeps its first revocation. EINVALID for a zero at, ENOTFOUND for
// a missing key.
func (t Tx) RevokeKey(ctx context.Context, id string, at time.Time) (*skyfence.APIKey, error) {
	if at.IsZero() {
		return nil, skyfence.Errorf(skyfence.EINVALID, "key %q: revocation time is zero", id)
	}
	if err := CheckTimes(at); err != nil {
		return nil, err
	}
	if _, err := t.r.q.Exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		Nanos(at), id); err != nil {
		return nil, t.r.errorf("revoke key %q: %w", id, err)
	}
	var row keyRow
	err := t.r.q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id).Scan(row.dest()...)
	if err != nil {
		return nil, t.r.notFound(err, "key", id)
	}
	return row.key(), nil
}

// UpdateKey applies u to the key and returns it: ENOTFOUND for a missing
// key, ECONFLICT for an approval of a key that is not pending or is
// revoked, EINVALID for an approval without a time.
func (t Tx) UpdateKey(ctx context.Context, id string, u skyfence.KeyUpdate) (*skyfence.APIKey, error) {
	if _, err := t.r.FindKeyByID(ctx, id); err != nil {
		return nil, err
	}
	if u.Authority != nil {
		if _, err := t.r.q.Exec(ctx, `UPDATE api_keys SET authority = ? WHERE id = ?`, *u.Authority, id); err != nil {
			return nil, t.r.errorf("bind key %q: %w", id, err)
		}
	}
	if u.ApprovedBy != "" {
		if u.ApprovedAt.IsZero() {
			return nil, skyfence.Errorf(skyfence.EINVALID, "key %q: approval time is zero", id)
		}
		if err := CheckTimes(u.ApprovedAt); err != nil {
			return nil, err
		}
		n, err := t.r.q.Exec(ctx, `UPDATE api_keys SET pending = ?, approved_by = ?, approved_at = ? WHERE id = ? AND pending = ? AND revoked_at IS NULL`,
			false, u.ApprovedBy, Nanos(u.ApprovedAt), id, true)
		switch {
		case err != nil:
			return nil, t.r.errorf("approve key %q: %w", id, err)
		case n == 0:
			return nil, skyfence.Errorf(skyfence.ECONFLICT, "key %q is not a pending grant (approved or revoked already)", id)
		}
	}
	return t.r.FindKeyByID(ctx, id)
}
