package control

import (
	"context"
	"slices"

	"github.com/skyfence/skyfence"
)

// Principal is who is asking: the holder of an API key.
type Principal struct {
	KeyID  string
	Role   skyfence.Role
	Region string // for partners: the region they act for
}

// System is the principal of skyfence's own actions (start-up, scheduled
// changes).
var System = &Principal{KeyID: "system", Role: skyfence.RoleAdmin}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Permission is one thing a role may do.
type Permission string

// Permissions, checked by the service once per call.
const (
	ReadTerminals      Permission = "terminals:read"
	WriteTerminals     Permission = "terminals:write"
	ChangeStatus       Permission = "terminals:status"
	ReadVerifications  Permission = "verifications:read"
	WriteVerifications Permission = "verifications:write"
	IngestFixes        Permission = "fixes:ingest"
	ReadPolicy         Permission = "policy:read"
	ManageKeys         Permission = "keys:manage"
	ManageCapacity     Permission = "capacity:manage"
	ReadAudit          Permission = "audit:read"
)

// permissions is the role table (docs/API.md shows it per endpoint).
var permissions = map[skyfence.Role][]Permission{
	skyfence.RoleViewer:       {ReadTerminals, ReadVerifications, ReadPolicy},
	skyfence.RoleOperator:     {ReadTerminals, WriteTerminals, ChangeStatus, ReadVerifications, ReadPolicy, ManageCapacity},
	skyfence.RolePolicyAuthor: {ReadTerminals, ReadPolicy},
	skyfence.RoleApprover:     {ReadTerminals, ReadPolicy},
	skyfence.RoleEmergency:    {ReadTerminals, ReadPolicy},
	skyfence.RoleAuditor:      {ReadTerminals, ReadVerifications, ReadPolicy, ReadAudit},
	skyfence.RolePartner:      {ReadVerifications, WriteVerifications},
	skyfence.RoleGateway:      {IngestFixes},
}

// Can reports whether the principal holds the permission. Admin holds all.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	return p.Role == skyfence.RoleAdmin || slices.Contains(permissions[p.Role], perm)
}

// require returns the principal of ctx if it may perm, else EUNAUTHORIZED
// (no principal) or EFORBIDDEN.
func require(ctx context.Context, perm Permission) (*Principal, error) {
	p := PrincipalFrom(ctx)
	switch {
	case p == nil:
		return nil, skyfence.Errorf(skyfence.EUNAUTHORIZED, "authentication required")
	case !p.Can(perm):
		return nil, skyfence.Errorf(skyfence.EFORBIDDEN, "role %s may not %s", p.Role, perm)
	}
	return p, nil
}
