package postgres

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// FindAccountByID returns the account, or ENOTFOUND.
func (r reader) FindAccountByID(ctx context.Context, id string) (*skyfence.Account, error) {
	var a skyfence.Account
	var created *int64
	err := r.q.QueryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = $1`, id).Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return nil, notFound(err, "account", id)
	}
	a.CreatedAt = fromNanos(created)
	return &a, nil
}

// CreateAccount stores a new account: EINVALID without an id, ECONFLICT if
// the id exists.
func (t *tx) CreateAccount(ctx context.Context, a *skyfence.Account) error {
	if err := needID("account", a.ID); err != nil {
		return err
	}
	if err := sqlrows.CheckTimes(a.CreatedAt); err != nil {
		return err
	}
	_, err := t.guarded(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)`,
		a.ID, a.Name, nanos(a.CreatedAt))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "account %q already exists", a.ID)
	case err != nil:
		return fmt.Errorf("postgres: create account %q: %w", a.ID, err)
	}
	return nil
}
