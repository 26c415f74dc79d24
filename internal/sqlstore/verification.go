package sqlstore

import (
	"context"
	"time"

	"github.com/skyfence/skyfence"
)

// verificationColumns are what verificationRow scans, in its order.
const verificationColumns = `id, terminal_id, region, authority, class, verified_at, expires_at, revoked, revoked_at`

// verificationRow is a verification as stored.
type verificationRow struct {
	id, terminalID, region, authority, class string
	verified, expires, revokedAt             NullNanos
	revoked                                  bool
}

func (r *verificationRow) dest() []any {
	return []any{&r.id, &r.terminalID, &r.region, &r.authority, &r.class, &r.verified, &r.expires, &r.revoked, &r.revokedAt}
}

func (r *verificationRow) verification(store string) (skyfence.Verification, error) {
	class, err := skyfence.ParseVerificationClass(r.class)
	if err != nil {
		return skyfence.Verification{}, errorf(store, "verification %q: %w", r.id, err)
	}
	return skyfence.Verification{
		ID: r.id, TerminalID: r.terminalID, Region: r.region, Authority: r.authority, Class: class,
		VerifiedAt: r.verified.Time(), ExpiresAt: r.expires.Time(),
		Revoked: r.revoked, RevokedAt: r.revokedAt.Time(),
	}, nil
}

// FindVerificationByID returns the verification, or ENOTFOUND.
func (r Reader) FindVerificationByID(ctx context.Context, id string) (*skyfence.Verification, error) {
	var row verificationRow
	err := r.q.QueryRow(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = ?`, id).Scan(row.dest()...)
	if err != nil {
		return nil, r.notFound(err, "verification", id)
	}
	v, err := row.verification(r.d.Name)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// FindVerifications returns the verifications f selects, revoked and
// expired ones included, in id order.
func (r Reader) FindVerifications(ctx context.Context, f skyfence.VerificationFilter) ([]*skyfence.Verification, error) {
	var conds []string
	var args []any
	if f.TerminalID != "" {
		conds, args = append(conds, "terminal_id = ?"), append(args, f.TerminalID)
	}
	if f.Region != "" {
		conds, args = append(conds, "region = ?"), append(args, f.Region)
	}
	return list(ctx, r, "find verifications", `SELECT `+verificationColumns+` FROM verifications`+where(conds)+` ORDER BY id`, args,
		func(scan func(...any) error) (*skyfence.Verification, error) {
			var row verificationRow
			if err := scan(row.dest()...); err != nil {
				return nil, err
			}
			v, err := row.verification(r.d.Name)
			return &v, err
		})
}

// CreateVerification stores a new verification: EINVALID without an id or
// a terminal id, ENOTFOUND if the terminal does not exist, ECONFLICT if the
// id exists.
func (t Tx) CreateVerification(ctx context.Context, v *skyfence.Verification) error {
	if err := NeedID("verification", v.ID); err != nil {
		return err
	}
	if err := NeedID("terminal", v.TerminalID); err != nil {
		return err
	}
	if v.Class > skyfence.Military {
		return skyfence.Errorf(skyfence.EINVALID, "verification %q: unknown class %d", v.ID, v.Class)
	}
	if err := CheckTimes(v.VerifiedAt, v.ExpiresAt, v.RevokedAt); err != nil {
		return err
	}
	_, err := t.r.q.Try(ctx, `INSERT INTO verifications (`+verificationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.TerminalID, v.Region, v.Authority, v.Class.String(),
		Nanos(v.VerifiedAt), Nanos(v.ExpiresAt), v.Revoked, Nanos(v.RevokedAt))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "verification %q already exists", v.ID)
	case isForeignKey(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "verification %q: terminal %q not found", v.ID, v.TerminalID)
	case err != nil:
		return t.r.errorf("create verification %q: %w", v.ID, err)
	}
	return nil
}

// RevokeVerification marks the verification revoked at at and returns it;
// one revoked already keeps its first revocation. EINVALID for a zero at,
// ENOTFOUND for a missing verification.
func (t Tx) RevokeVerification(ctx context.Context, id string, at time.Time) (*skyfence.Verification, error) {
	if at.IsZero() {
		return nil, skyfence.Errorf(skyfence.EINVALID, "verification %q: revocation time is zero", id)
	}
	if err := CheckTimes(at); err != nil {
		return nil, err
	}
	if _, err := t.r.q.Exec(ctx, `UPDATE verifications SET revoked = TRUE, revoked_at = ? WHERE id = ? AND NOT revoked`,
		Nanos(at), id); err != nil {
		return nil, t.r.errorf("revoke verification %q: %w", id, err)
	}
	return t.r.FindVerificationByID(ctx, id)
}
