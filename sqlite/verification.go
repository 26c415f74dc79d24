package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
	verified, expires, revokedAt             sql.NullInt64
	revoked                                  bool
}

func (r *verificationRow) dest() []any {
	return []any{&r.id, &r.terminalID, &r.region, &r.authority, &r.class, &r.verified, &r.expires, &r.revoked, &r.revokedAt}
}

func (r *verificationRow) verification() (skyfence.Verification, error) {
	class, err := skyfence.ParseVerificationClass(r.class)
	if err != nil {
		return skyfence.Verification{}, fmt.Errorf("sqlite: verification %q: %w", r.id, err)
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
	err := r.q.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = ?`, id).Scan(row.dest()...)
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
	var conds []string
	var args []any
	if f.TerminalID != "" {
		conds, args = append(conds, "terminal_id = ?"), append(args, f.TerminalID)
	}
	if f.Region != "" {
		conds, args = append(conds, "region = ?"), append(args, f.Region)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+verificationColumns+` FROM verifications`+where(conds)+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find verifications: %w", err)
	}
	defer rows.Close()
	var vs []*skyfence.Verification
	for rows.Next() {
		var row verificationRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: find verifications: %w", err)
		}
		v, err := row.verification()
		if err != nil {
			return nil, err
		}
		vs = append(vs, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find verifications: %w", err)
	}
	return vs, nil
}

// where returns the WHERE clause joining conds with AND, or "".
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
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
	_, err := t.q.ExecContext(ctx, `INSERT INTO verifications (`+verificationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.TerminalID, v.Region, v.Authority, v.Class.String(),
		nanos(v.VerifiedAt), nanos(v.ExpiresAt), v.Revoked, nanos(v.RevokedAt))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "verification %q already exists", v.ID)
	case isMissingRef(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "verification %q: terminal %q not found", v.ID, v.TerminalID)
	case err != nil:
		return fmt.Errorf("sqlite: create verification %q: %w", v.ID, err)
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
	if _, err := t.q.ExecContext(ctx, `UPDATE verifications SET revoked = 1, revoked_at = ? WHERE id = ? AND revoked = 0`,
		nanos(at), id); err != nil {
		return nil, fmt.Errorf("sqlite: revoke verification %q: %w", id, err)
	}
	return t.FindVerificationByID(ctx, id)
}
