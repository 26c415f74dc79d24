// Package skyfence holds the domain of the skyfence control plane: the
// terminals it decides for, their verifications and fixes, and the error
// codes every layer shares. It imports no driver; the engines (geoindex,
// policy, detect) and the adapters (sqlite, postgres, httpapi) build on it.
//
// It owns the domain's types (terminals, verifications, fixes, persons, API
// keys, policy changes, cases, incidents, the audit entry), the Store
// interfaces every store implements (store.go), the error codes (error.go),
// ids and paging cursors.
//
// Its enums are typed strings, each with the list of its values and a
// Valid method where input is checked against it (Role, CaseState,
// ChangeState, Grounds, ...): the string is the wire form and the stored
// form. Two are bytes instead, TerminalStatus and VerificationClass,
// because every terminal's slot keeps them in memory (ten million
// terminals, package authorizer) and their zero values are the defaults
// the API documents (inactive, civil); they marshal as text, so no wire
// or store sees the number.
//
// It imports only the standard library and golang.org/x (text
// normalisation, the audit log's tree hashes): never an engine, a store,
// HTTP or the bus. layout_test.go checks that no engine
// reaches a driver.
package skyfence

import (
	"fmt"
	"time"
)

// TerminalStatus is where a terminal is in its life.
type TerminalStatus uint8

// Terminal statuses. The zero value is Inactive.
const (
	Inactive    TerminalStatus = iota // registered, never activated (or waiting for capacity)
	Active                            // may have service, subject to policy
	Suspended                         // cut off for now (investigation, unpaid); may come back
	Deactivated                       // cut off for good
)

var terminalStatusNames = [...]string{"inactive", "active", "suspended", "deactivated"}

func (s TerminalStatus) String() string {
	if int(s) < len(terminalStatusNames) {
		return terminalStatusNames[s]
	}
	return fmt.Sprintf("TerminalStatus(%d)", uint8(s))
}

// ParseTerminalStatus parses the String form of a status.
func ParseTerminalStatus(s string) (TerminalStatus, error) {
	for i, n := range terminalStatusNames {
		if n == s {
			return TerminalStatus(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown terminal status %q (want inactive, active, suspended or deactivated)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s TerminalStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *TerminalStatus) UnmarshalText(b []byte) error {
	v, err := ParseTerminalStatus(string(b))
	*s = v
	return err
}

// VerificationClass says what kind of user a partner authority vouches for.
type VerificationClass uint8

// Verification classes. The zero value is Civil.
const (
	Civil VerificationClass = iota
	Government
	Military
)

var verificationClassNames = [...]string{"civil", "government", "military"}

func (c VerificationClass) String() string {
	if int(c) < len(verificationClassNames) {
		return verificationClassNames[c]
	}
	return fmt.Sprintf("VerificationClass(%d)", uint8(c))
}

// ParseVerificationClass parses the String form of a class.
func ParseVerificationClass(s string) (VerificationClass, error) {
	for i, n := range verificationClassNames {
		if n == s {
			return VerificationClass(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown verification class %q (want civil, government or military)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (c VerificationClass) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *VerificationClass) UnmarshalText(b []byte) error {
	v, err := ParseVerificationClass(string(b))
	*c = v
	return err
}

// Verification is a partner authority's statement that a terminal may
// operate in its region.
type Verification struct {
	ID         string            `json:"id,omitempty"`
	TerminalID string            `json:"terminal_id,omitempty"`
	Region     string            `json:"region"`    // ISO 3166-1 alpha-2 code of the authority's territory
	Authority  string            `json:"authority"` // e.g. "UA-MOD"
	Class      VerificationClass `json:"class"`
	VerifiedAt time.Time         `json:"verified_at"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"` // zero: does not expire
	Revoked    bool              `json:"revoked,omitempty"`
	RevokedAt  time.Time         `json:"revoked_at,omitzero"`
}

// ValidAt reports whether the verification holds at t: verified by then, not
// expired and not revoked.
func (v *Verification) ValidAt(t time.Time) bool {
	return !v.Revoked && !t.Before(v.VerifiedAt) && (v.ExpiresAt.IsZero() || t.Before(v.ExpiresAt))
}

// Terminal is a user terminal (a dish) as the decision engine sees it.
type Terminal struct {
	ID            string         `json:"id"`
	AccountID     string         `json:"account_id"`
	Plan          string         `json:"plan"`    // a plan named in the policy, e.g. "residential"
	Country       string         `json:"country"` // registered country (ISO 3166-1 alpha-2)
	Status        TerminalStatus `json:"status"`
	Groups        []string       `json:"groups,omitempty"` // e.g. "humanitarian"
	Cell          string         `json:"cell,omitempty"`   // capacity cell it was activated in (CellOf)
	Verifications []Verification `json:"verifications,omitempty"`
	CreatedAt     time.Time      `json:"created_at,omitzero"`
	UpdatedAt     time.Time      `json:"updated_at,omitzero"`
}

// InGroup reports whether the terminal belongs to group g.
func (t *Terminal) InGroup(g string) bool {
	for _, x := range t.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Fix is one report of a terminal's position.
type Fix struct {
	TerminalID string    `json:"terminal_id"`
	Time       time.Time `json:"time"`
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	AltM       float64   `json:"alt_m,omitempty"` // metres above sea level
	// SpeedKmh is the reported ground speed; negative (NoSpeed) means not
	// reported, and the speed is derived from the track (policy.Track).
	SpeedKmh float64 `json:"speed_kmh"`
	// ServingCell is the network's cell (or beam) that carried the fix, as
	// the gateway reports it (the API's "cell"), if known: evidence of
	// where the terminal really is, which its claimed position cannot
	// fake. It is named by an id of the capacity grid (CellOf), but it is
	// not the terminal's capacity cell (Terminal.Cell), which says where
	// the terminal counts against capacity.
	ServingCell string `json:"cell,omitempty"`
}

// NoSpeed marks a fix whose speed was not reported.
const NoSpeed = -1
