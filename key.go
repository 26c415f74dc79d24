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
	// Person is who holds the key. The two-person rule counts persons: one
	// person's keys, whatever their roles, count as one.
	Person    string    `json:"person"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

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
