package sqlstore

import (
	"context"

	"github.com/skyfence/skyfence"
)

// FindAccountByID returns the account, or ENOTFOUND.
func (r Reader) FindAccountByID(ctx context.Context, id string) (*skyfence.Account, error) {
	var a skyfence.Account
	var created NullNanos
	err := r.q.QueryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = ?`, id).Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return nil, r.notFound(err, "account", id)
	}
	a.CreatedAt = created.Time()
	return &a, nil
}

// CreateAccount stores a new account: EINVALID without an id, ECONFLICT if
// the id exists.
func (t Tx) CreateAccount(ctx context.Context, a *skyfence.Account) error {
	if err := NeedID("account", a.ID); err != nil {
		return err
	}
	if err := CheckTimes(a.CreatedAt); err != nil {
		return err
	}
	_, err := t.r.q.Try(ctx, `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)`,
		a.ID, a.Name, Nanos(a.CreatedAt))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "account %q already exists", a.ID)
	case err != nil:
		return t.r.errorf("create account %q: %w", a.ID, err)
	}
	return nil
}
