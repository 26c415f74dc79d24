package control

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
)

// audit appends an entry for a change made by the principal of ctx.
func audit(ctx context.Context, tx skyfence.Tx, p *Principal, action, subject, reason string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit data: %w", err)
	}
	return tx.AppendAudit(ctx, &skyfence.AuditEntry{Actor: p.KeyID, Action: action, Subject: subject, Reason: reason, Data: b})
}

// CreateAccount registers an account.
func (s *Service) CreateAccount(ctx context.Context, a *skyfence.Account) error {
	p, err := require(ctx, WriteTerminals)
	if err != nil {
		return err
	}
	if err := skyfence.ValidID("id", a.ID); err != nil {
		return err
	}
	a.CreatedAt = s.now().UTC()
	return s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		return audit(ctx, tx, p, "account.create", a.ID, "", a)
	})
}

// CreateTerminal registers a terminal. It starts inactive: Activate gives it
// service.
func (s *Service) CreateTerminal(ctx context.Context, t *skyfence.Terminal) error {
	p, err := require(ctx, WriteTerminals)
	if err != nil {
		return err
	}
	if err := s.validTerminal(t); err != nil {
		return err
	}
	t.Status = skyfence.Inactive
	t.Verifications = nil
	t.CreatedAt = s.now().UTC()
	t.UpdatedAt = t.CreatedAt
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if _, err := tx.FindAccountByID(ctx, t.AccountID); err != nil {
			if skyfence.ErrorCode(err) == skyfence.ENOTFOUND {
				return skyfence.FieldErrorf(skyfence.EINVALID, "account_id", "no account %q", t.AccountID)
			}
			return err
		}
		if err := tx.CreateTerminal(ctx, t); err != nil {
			return err
		}
		return audit(ctx, tx, p, "terminal.create", t.ID, "", t)
	})
	if err != nil {
		return err
	}
	s.publish(t)
	return nil
}

// validTerminal checks a terminal to be registered: its id, account id
// and groups are ids (skyfence.ValidID), its country and plan known.
func (s *Service) validTerminal(t *skyfence.Terminal) error {
	if err := skyfence.ValidID("id", t.ID); err != nil {
		return err
	}
	if err := skyfence.ValidID("account_id", t.AccountID); err != nil {
		return err
	}
	for i, g := range t.Groups {
		if err := skyfence.ValidID("groups/"+strconv.Itoa(i), g); err != nil {
			return err
		}
	}
	if _, ok := s.atlas.Lookup(t.Country); !ok {
		return skyfence.FieldErrorf(skyfence.EINVALID, "country", "unknown country code %q", t.Country)
	}
	if !s.auth.Snapshot().HasPlan(t.Plan) {
		return skyfence.FieldErrorf(skyfence.EINVALID, "plan", "unknown plan %q", t.Plan)
	}
	return nil
}

// publish makes t the record every decision from now on sees.
func (s *Service) publish(t *skyfence.Terminal) {
	s.auth.SetRecord(t)
	s.emit(bus.TerminalChanged, t.ID, t)
}

// Terminal returns a terminal by id.
func (s *Service) Terminal(ctx context.Context, id string) (*skyfence.Terminal, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, err
	}
	return s.store.FindTerminalByID(ctx, id)
}

// Terminals returns a page of terminals and the cursor of the next.
func (s *Service) Terminals(ctx context.Context, f skyfence.TerminalFilter) ([]*skyfence.Terminal, string, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, "", err
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "limit", "limit must be between 1 and 1000")
	}
	return s.store.FindTerminals(ctx, f)
}

// SetStatus moves a terminal to a status (suspend, deactivate, reinstate),
// with the reason recorded in the audit log. It takes effect on the next
// decision. Activation from inactive goes through Activate instead.
func (s *Service) SetStatus(ctx context.Context, id string, status skyfence.TerminalStatus, reason string) (*skyfence.Terminal, error) {
	p, err := require(ctx, ChangeStatus)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "reason", "a status change needs a reason")
	}
	var out, promoted *skyfence.Terminal
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		out, promoted, err = s.setStatusTx(ctx, tx, p, id, status, reason)
		if err == nil && out == nil {
			out, err = tx.FindTerminalByID(ctx, id) // already in that status
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(out)
	if promoted != nil {
		s.publish(promoted)
	}
	return out, nil
}

// setStatusTx moves a terminal to a status in tx, audited with the reason;
// a deactivation frees its place in its cell for the next one waiting
// (returned as promoted). It returns a nil terminal, and changes nothing,
// if the terminal is in that status already.
func (s *Service) setStatusTx(ctx context.Context, tx skyfence.Tx, p *Principal, id string, status skyfence.TerminalStatus, reason string) (out, promoted *skyfence.Terminal, err error) {
	t, err := tx.FindTerminalByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case t.Status == skyfence.Deactivated:
		return nil, nil, skyfence.Errorf(skyfence.ECONFLICT, "terminal %q is deactivated for good", id)
	case t.Status == status:
		return nil, nil, nil
	case status == skyfence.Inactive:
		return nil, nil, skyfence.FieldErrorf(skyfence.EINVALID, "status", "a terminal cannot go back to inactive")
	case status == skyfence.Active && t.Status == skyfence.Inactive:
		return nil, nil, skyfence.FieldErrorf(skyfence.EINVALID, "status", "activate an inactive terminal with the activation endpoint")
	}
	if out, err = tx.UpdateTerminal(ctx, id, skyfence.TerminalUpdate{Status: &status, IfStatus: &t.Status}, s.now().UTC()); err != nil {
		return nil, nil, err
	}
	if err := audit(ctx, tx, p, "terminal.status", id, reason, map[string]string{"from": t.Status.String(), "to": status.String()}); err != nil {
		return nil, nil, err
	}
	if status == skyfence.Deactivated && t.Cell != "" {
		promoted, err = s.freeCell(ctx, tx, p, t.Cell, id)
	}
	return out, promoted, err
}

// freeCell releases a deactivated terminal's place in its cell and
// activates the first terminal waiting there, if any.
func (s *Service) freeCell(ctx context.Context, tx skyfence.Tx, p *Principal, cell, id string) (*skyfence.Terminal, error) {
	next, err := tx.ReleaseCell(ctx, cell, id)
	if err != nil || next == "" {
		return nil, err
	}
	claim, err := tx.ClaimCell(ctx, cell, next)
	if err != nil || !claim.Granted {
		return nil, err
	}
	active := skyfence.Active
	t, err := tx.UpdateTerminal(ctx, next, skyfence.TerminalUpdate{Status: &active, Cell: &cell}, s.now().UTC())
	if err != nil {
		return nil, err
	}
	return t, audit(ctx, tx, p, "terminal.activate", next, "a place in its cell was freed", map[string]string{"cell": cell, "freed_by": id})
}

// CreateVerification records a partner authority's verification. A partner
// key records its own authority's verifications only (the authority it is
// bound to, filled in if left out), for its region, of a class the
// policy's authority may grant; a partner key bound to no authority may
// not verify until an admin binds it (BindKey). Whoever records it, the
// authority must be one of the policy's, for the verification's region,
// and grant its class.
func (s *Service) CreateVerification(ctx context.Context, v *skyfence.Verification) error {
	p, err := require(ctx, WriteVerifications)
	if err != nil {
		return err
	}
	if p.Role == skyfence.RolePartner {
		switch {
		case v.Region != p.Region:
			return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "region", "this key verifies for %s only, not %s", p.Region, v.Region)
		case p.Authority == "":
			return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "authority", "partner key %s is bound to no authority, so it may read but not verify until an admin binds it (POST /v1/keys/%s/authority)", p.KeyID, p.KeyID)
		case v.Authority == "":
			v.Authority = p.Authority
		case v.Authority != p.Authority:
			return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "authority", "this key records verifications of %s only, not %s", p.Authority, v.Authority)
		}
	}
	switch {
	case v.TerminalID == "":
		return skyfence.FieldErrorf(skyfence.EINVALID, "terminal_id", "missing terminal id")
	case v.Authority == "":
		return skyfence.FieldErrorf(skyfence.EINVALID, "authority", "missing authority")
	case !v.ExpiresAt.IsZero() && !v.ExpiresAt.After(s.now()):
		return skyfence.FieldErrorf(skyfence.EINVALID, "expires_at", "already expired")
	}
	if _, ok := s.atlas.Lookup(v.Region); !ok {
		return skyfence.FieldErrorf(skyfence.EINVALID, "region", "unknown region %q", v.Region)
	}
	switch a := s.auth.Snapshot().Source.Doc.Authority(v.Authority); {
	case a == nil:
		return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "authority", "%s is not one of the policy's authorities", v.Authority)
	case a.Region != v.Region:
		return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "region", "%s verifies for %s, not %s", a.Name, a.Region, v.Region)
	case !a.Grants(v.Class):
		return skyfence.FieldErrorf(skyfence.EFORBIDDEN, "class", "%s may not grant class %s (the policy lets it grant %s)", a.Name, v.Class, classList(a.Classes))
	}
	v.ID = newID("ver-")
	v.VerifiedAt = s.now().UTC()
	v.Revoked, v.RevokedAt = false, timeZero
	var t *skyfence.Terminal
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateVerification(ctx, v); err != nil {
			return err
		}
		if err := audit(ctx, tx, p, "verification.create", v.TerminalID, "", v); err != nil {
			return err
		}
		t, err = tx.FindTerminalByID(ctx, v.TerminalID)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(t)
	return nil
}

// RevokeVerification revokes a verification; a partner only one of its
// region.
func (s *Service) RevokeVerification(ctx context.Context, id, reason string) (*skyfence.Verification, error) {
	p, err := require(ctx, WriteVerifications)
	if err != nil {
		return nil, err
	}
	var v *skyfence.Verification
	var t *skyfence.Terminal
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		old, err := tx.FindVerificationByID(ctx, id)
		if err != nil {
			return err
		}
		if p.Role == skyfence.RolePartner && (old.Region != p.Region || old.Authority != p.Authority) {
			return skyfence.Errorf(skyfence.EFORBIDDEN, "this key may revoke verifications of %s for %s only", cmp.Or(p.Authority, "its authority"), p.Region)
		}
		if v, err = tx.RevokeVerification(ctx, id, s.now().UTC()); err != nil {
			return err
		}
		if err := audit(ctx, tx, p, "verification.revoke", v.TerminalID, reason, v); err != nil {
			return err
		}
		t, err = tx.FindTerminalByID(ctx, v.TerminalID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(t)
	return v, nil
}

// Verifications lists verifications; a partner sees its region's only.
func (s *Service) Verifications(ctx context.Context, f skyfence.VerificationFilter) ([]*skyfence.Verification, error) {
	p, err := require(ctx, ReadVerifications)
	if err != nil {
		return nil, err
	}
	if p.Role == skyfence.RolePartner {
		if f.Region != "" && f.Region != p.Region {
			return nil, skyfence.FieldErrorf(skyfence.EFORBIDDEN, "region", "this key reads verifications for %s only", p.Region)
		}
		f.Region = p.Region
	}
	vs, err := s.store.FindVerifications(ctx, f)
	if err != nil {
		return nil, err
	}
	return slices.Clip(vs), nil
}

// ImportTerminals registers many terminals at once, as they are (status,
// verifications and all), in one transaction with one audit entry: for
// moving a registry into skyfence and for load tests. Their accounts must
// exist.
func (s *Service) ImportTerminals(ctx context.Context, ts []*skyfence.Terminal, reason string) error {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return err
	}
	for i, t := range ts {
		if err := s.validTerminal(t); err != nil {
			// The field names the terminal: terminals/3/id.
			if e, ok := err.(*skyfence.Error); ok {
				e.Field = "terminals/" + strconv.Itoa(i) + "/" + e.Field
			}
			return err
		}
	}
	now := s.now().UTC()
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		for _, t := range ts {
			t.CreatedAt, t.UpdatedAt = now, now
			for i := range t.Verifications {
				v := &t.Verifications[i]
				v.TerminalID = t.ID
				if v.ID == "" {
					v.ID = newID("ver-")
				}
			}
			// The store creates the terminal's verifications with it.
			if err := tx.CreateTerminal(ctx, t); err != nil {
				return err
			}
		}
		return audit(ctx, tx, p, "terminal.import", "", reason, map[string]int{"terminals": len(ts)})
	})
	if err != nil {
		return err
	}
	for _, t := range ts {
		s.publish(t)
	}
	return nil
}

// classList names classes for a message: "civil, military".
func classList(cs []skyfence.VerificationClass) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.String()
	}
	return strings.Join(names, ", ")
}
