package skyfence

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Role is what an API key may do.
type Role string

// Roles. Admin may do everything; the others what their names say (see
// docs/API.md for the endpoint-by-endpoint table).
const (
	RoleAdmin        Role = "admin"
	RoleViewer       Role = "viewer"
	RoleOperator     Role = "operator"
	RolePolicyAuthor Role = "policy_author"
	RoleApprover     Role = "approver"
	RoleAuditor      Role = "auditor"
	RolePartner      Role = "partner" // a partner authority, scoped to one region
	RoleGateway      Role = "gateway" // network elements: fixes in, decisions out
	RoleEmergency    Role = "emergency"
	// RoleInvestigator is trust and safety: works the cases detection
	// raises, up to cutting terminals off and deciding appeals.
	RoleInvestigator Role = "investigator"
)

// GrantNeedsApproval reports whether a key of role r takes part in a
// two-person rule (it drafts, reviews, activates or bypasses policy
// changes, cuts terminals off or judges appeals, or makes keys), so that
// creating one is a grant a second admin, another person, must approve
// before the key works: otherwise one admin could make a key for an
// invented person and be two people.
func (r Role) GrantNeedsApproval() bool {
	switch r {
	case RoleAdmin, RoleApprover, RoleEmergency, RolePolicyAuthor, RoleInvestigator:
		return true
	}
	return false
}

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleViewer, RoleOperator, RolePolicyAuthor, RoleApprover, RoleAuditor, RolePartner, RoleGateway, RoleEmergency, RoleInvestigator}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// APIKey is a credential. The secret itself is shown once, at creation, and
// only its SHA-256 hash is stored.
type APIKey struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Region string `json:"region,omitempty"` // for RolePartner: the ISO code it may act in
	// Authority is, for RolePartner, the authority whose verifications the
	// key records (an authority of the policy, e.g. "UA-MOD"); a partner
	// key without one may read but not verify until an admin binds it.
	Authority string `json:"authority,omitempty"`
	// PersonID is who holds the key (Person.ID). The two-person rule
	// counts persons: one person's keys, whatever their roles, count as
	// one.
	PersonID string `json:"person_id"`
	Person   string `json:"person"` // the person's handle, for display
	// GrantedBy is the person ID of the admin who created the key ("" for
	// keys older than migration 0005).
	GrantedBy string `json:"granted_by,omitempty"`
	// Pending is set while a grant that needs approval
	// (Role.GrantNeedsApproval) waits for a second admin: the key does not
	// work until then.
	Pending    bool      `json:"pending,omitempty"`
	ApprovedBy string    `json:"approved_by,omitempty"` // the person ID of the admin who approved the grant
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	Hash       []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// KeyUpdate changes a key; zero fields stay as they are.
type KeyUpdate struct {
	// Authority binds a partner key to its authority.
	Authority *string
	// ApprovedBy approves a pending grant, at ApprovedAt: a
	// compare-and-set that fails with ECONFLICT unless the key is still
	// pending and not revoked.
	ApprovedBy string
	ApprovedAt time.Time
}

// keyPrefix starts every secret, so that a leaked one is easy to spot.
const keyPrefix = "sfk_"

// NewKeySecret returns a fresh secret "sfk_<id>_<random>" for key id, and its
// hash for storage.
func NewKeySecret(id string) (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("key secret: %w", err)
	}
	secret = keyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashKeySecret(secret), nil
}

// HashKeySecret returns the stored form of a secret.
func HashKeySecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// LooksLikeKeySecret reports whether s has the shape of a secret, so that
// logs can redact it.
func LooksLikeKeySecret(s string) bool { return strings.HasPrefix(s, keyPrefix) }
