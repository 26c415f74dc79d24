package control

import (
	"context"
	"slices"

	"github.com/skyfence/skyfence"
)

// Principal is who is asking: the holder of an API key.
type Principal struct {
	KeyID string
	// PersonID is who holds the key (skyfence.Person.ID): the two-person
	// rule compares persons by it (skyfence.Actor.SamePerson).
	PersonID string
	Person   string // the person's handle, for messages
	Role     skyfence.Role
	Region   string // for partners: the region they act for
	// Authority is, for partners, the authority their verifications
	// carry; "" for a partner key not bound yet, which may only read.
	Authority string
}

// Actor returns the principal as the author or reviewer of a change.
func (p *Principal) Actor() skyfence.Actor {
	return skyfence.Actor{KeyID: p.KeyID, PersonID: p.PersonID, Person: p.Person}
}

// System is the principal of skyfence's own actions (start-up, scheduled
// changes). Its person is no person of the registry.
var System = &Principal{KeyID: "system", PersonID: skyfence.SystemPerson, Person: skyfence.SystemPerson, Role: skyfence.RoleAdmin}

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
	ReadChanges        Permission = "changes:read"
	DraftPolicy        Permission = "changes:draft"
	ReviewPolicy       Permission = "changes:review"
	ActivatePolicy     Permission = "changes:activate"
	EmergencyPolicy    Permission = "changes:emergency"
	ReadAlerts         Permission = "alerts:read"
	ReadCases          Permission = "cases:read"
	WorkCases          Permission = "cases:write"    // open, note, act, record and decide appeals
	ReviewCutoffs      Permission = "cutoffs:review" // approve or reject a bulk cut-off
	ReadReports        Permission = "reports:read"   // the regulator's report of cut-offs
)

// permissions is the role table (docs/API.md shows it per endpoint).
var permissions = map[skyfence.Role][]Permission{
	skyfence.RoleViewer:       {ReadTerminals, ReadVerifications, ReadPolicy, ReadChanges, ReadAlerts},
	skyfence.RoleOperator:     {ReadTerminals, WriteTerminals, ChangeStatus, ReadVerifications, ReadPolicy, ManageCapacity, ReadChanges, ReadAlerts},
	skyfence.RolePolicyAuthor: {ReadTerminals, ReadPolicy, ReadChanges, DraftPolicy, ActivatePolicy},
	skyfence.RoleApprover:     {ReadTerminals, ReadPolicy, ReadChanges, ReviewPolicy, ActivatePolicy, ReadCases, ReviewCutoffs},
	skyfence.RoleEmergency:    {ReadTerminals, ReadPolicy, ReadChanges, EmergencyPolicy},
	skyfence.RoleAuditor:      {ReadTerminals, ReadVerifications, ReadPolicy, ReadAudit, ReadChanges, ReadAlerts, ReadCases, ReadReports},
	skyfence.RoleInvestigator: {ReadTerminals, ReadVerifications, ReadPolicy, ReadChanges, ReadAlerts, ReadCases, WorkCases, ReadReports},
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

// MayIngest returns nil if the principal of ctx may send fixes to the
// authorizer (IngestFixes), else EUNAUTHORIZED (no principal) or
// EFORBIDDEN: what every caller of authorizer.Core.Ingest asks first.
func MayIngest(ctx context.Context) error {
	_, err := require(ctx, IngestFixes)
	return err
}
