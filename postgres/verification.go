package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// verificationColumns are what verificationRow scans, in its order.
const verificationColumns = `id, terminal_id, region, authority, class, verified_at, expires_at, revoked, revoked_at`

// verificationRow is a verification as stored.
type verificationRow struct {
	id, terminalID, region, authority, class string
	verified, expires, revokedAt             *int64
	revoked                                  bool
}

func (r *verificationRow) dest() []any {
	return []any{&r.id, &r.terminalID, &r.region, &r.authority, &r.class, &r.verified, &r.expires, &r.revoked, &r.revokedAt}
}

func (r *verificationRow) verification() (skyfence.Verification, error) {
	class, err := skyfence.ParseVerificationClass(r.class)
	if err != nil {
		return skyfence.Verification{}, fmt.Errorf("postgres: verification %q: %w", r.id, err)
	}
	return skyfence.Verification{
		ID: r.id, TerminalID: r.terminalID, Region: r.region, Authority: r.authority, Class: class,
		VerifiedAt: fromNanos(r.verified), ExpiresAt: fromNanos(r.expires),
		Revoked: r.revoked, RevokedAt: fromNanos(r.revokedAt),
	}, nil
}

// FindVerificationByID returns the verification, or ENOTFOUND.
func (r reader) FindVerificationByID(ctx context.Context, id string) (*skyfence.Verification, error) {
	var row verificationRow
	err := r.q.QueryRow(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = $1`, id).Scan(row.dest()...)
	if err != nil {
		return nil, notFound(err, "verification", id)
	}
	v, err := row.verification()
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// FindVerifications returns the verifications f selects, revoked and
// expired ones included, in id order.
func (r reader) FindVerifications(ctx context.Context, f skyfence.VerificationFilter) ([]*skyfence.Verification, error) {
	var w conds
	if f.TerminalID != "" {
		w.add("terminal_id = ", f.TerminalID)
	}
	if f.Region != "" {
		w.add("region = ", f.Region)
	}
	rows, err := r.q.Query(ctx, `SELECT `+verificationColumns+` FROM verifications`+w.where()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: find verifications: %w", err)
	}
	defer rows.Close()
	var vs []*skyfence.Verification
	for rows.Next() {
		var row verificationRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("postgres: find verifications: %w", err)
		}
		v, err := row.verification()
		if err != nil {
			return nil, err
		}
		vs = append(vs, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: find verifications: %w", err)
	}
	return vs, nil
}

// conds is a list of conditions joined by AND and their arguments.
type conds struct {
	list []string
	args []any
}

// add appends the condition "expr $n" with the argument as $n.
func (c *conds) add(expr string, arg any) {
	c.args = append(c.args, arg)
	c.list = append(c.list, expr+"$"+strconv.Itoa(len(c.args)))
}

// where returns the WHERE clause, or "".
func (c *conds) where() string {
	if len(c.list) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.list, " AND ")
}

// CreateVerification stores a new verification: EINVALID without an id or
// a terminal id, ENOTFOUND if the terminal does not exist, ECONFLICT if the
// id exists.
func (t *tx) CreateVerification(ctx context.Context, v *skyfence.Verification) error {
	if err := needID("verification", v.ID); err != nil {
		return err
	}
	if err := needID("terminal", v.TerminalID); err != nil {
		return err
	}
	if v.Class > skyfence.Military {
		return skyfence.Errorf(skyfence.EINVALID, "verification %q: unknown class %d", v.ID, v.Class)
	}
	if err := sqlrows.CheckTimes(v.VerifiedAt, v.ExpiresAt, v.RevokedAt); err != nil {
		return err
	}
	_, err := t.guarded(ctx, `INSERT INTO verifications (`+verificationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		v.ID, v.TerminalID, v.Region, v.Authority, v.Class.String(),
		nanos(v.VerifiedAt), nanos(v.ExpiresAt), v.Revoked, nanos(v.RevokedAt))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "verification %q already exists", v.ID)
	case isMissingRef(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "verification %q: terminal %q not found", v.ID, v.TerminalID)
	case err != nil:
		return fmt.Errorf("postgres: create verification %q: %w", v.ID, err)
	}
	return nil
}

// RevokeVerification marks the verification revoked at at and returns it;
// one revoked already keeps its first revocation. EINVALID for a zero at,
// ENOTFOUND for a missing verification.
func (t *tx) RevokeVerification(ctx context.Context, id string, at time.Time) (*skyfence.Verification, error) {
	if at.IsZero() {
		return nil, skyfence.Errorf(skyfence.EINVALID, "verification %q: revocation time is zero", id)
	}
	if err := sqlrows.CheckTimes(at); err != nil {
		return nil, err
	}
	if _, err := t.q.Exec(ctx, `UPDATE verifications SET revoked = true, revoked_at = $1 WHERE id = $2 AND NOT revoked`,
		nanos(at), id); err != nil {
		return nil, fmt.Errorf("postgres: revoke verification %q: %w", id, err)
	}
	return t.FindVerificationByID(ctx, id)
}
