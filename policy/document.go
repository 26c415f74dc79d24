package policy

import (
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
)

// Format is the value of the "skyfence" key that a policy document of this
// version starts with.
const Format = "policy/v1"

// Status is what the public availability map shows for a region.
type Status string

// Availability statuses, from most to least open.
const (
	Available   Status = "available"    // service may be activated and used
	ComingSoon  Status = "coming_soon"  // not yet: the operator is working on it
	Waitlist    Status = "waitlist"     // licensed, but no capacity: orders wait
	NotLicensed Status = "not_licensed" // the operator holds no licence
	Embargoed   Status = "embargoed"    // service is forbidden (sanctions)
)

// Statuses lists every status, from most to least open.
var Statuses = []Status{Available, ComingSoon, Waitlist, NotLicensed, Embargoed}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// restrictiveness orders statuses for ties at equal priority: the most
// restrictive wins.
func (s Status) restrictiveness() int {
	for i, x := range Statuses {
		if x == s {
			return i
		}
	}
	return len(Statuses)
}

// Fallback is what a region does with a fix of a terminal the
// deciding process does not know: not registered, or its record not yet
// loaded (after a restart, or a registration through another authorizer
// whose event has not arrived). The zero value says nothing: a position
// where no region says anything denies.
type Fallback string

// Fallbacks.
const (
	// FailClosed denies: unknown_terminal.
	FailClosed Fallback = "deny"
	// FailOpen lets the fix through to what the position alone decides (statuses, no_service rules, the regions' speed caps),
	// as if the terminal held every verification and plan.
	FailOpen Fallback = "allow"
)

// Special region names. Any other region is an ISO 3166-1 alpha-2 code from
// the built-in boundaries or a zone, written ZonePrefix + the zone's id.
const (
	International = "international" // the high seas and the air above them: no country
	Everywhere    = "*"             // every position, at the lowest priority (rules only)
	ZonePrefix    = "zone:"
)

// Pos is a position in a policy file, for messages: 1-based line and column.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Document is a policy as written: statuses, zones, plans and rules. It is
// data only; Compile turns it into a Snapshot that decides. docs/POLICY.md
// describes every field.
type Document struct {
	Name        string
	Description string
	// DefaultStatus applies to every country the document does not list;
	// NotLicensed if empty.
	DefaultStatus Status
	// AirAboveM is the altitude in metres above which a terminal counts as
	// in the air for the plans' speed caps; 1000 if zero.
	AirAboveM float64
	Zones     []ZoneFile
	Plans     []Plan
	Regions   []Region
	// Authorities are the partner authorities and the classes each may
	// grant (authority.go).
	Authorities []Authority
	Rules       []Rule
}

// ZoneFile names a GeoJSON file of custom zones, relative to the policy
// file.
type ZoneFile struct {
	File string
	Pos  Pos
}

// Plan is a service plan and how fast it may move.
type Plan struct {
	Name        string
	Description string
	// Speed caps in km/h by where the terminal is: on land, at sea (in
	// territorial waters or on the high seas), in the air (above
	// Document.AirAboveM). Nil means no cap from the plan there; a missing
	// air cap falls back to the land or sea cap below.
	LandKmh, SeaKmh, AirKmh *float64
	// ActivateAbroad allows activating the terminal outside the country
	// it was bought in (registered country).
	ActivateAbroad bool
	Pos            Pos
}

// Region gives a region its public status and precedence.
type Region struct {
	Region string // a country code, International, or ZonePrefix+zone id
	// Status is what the public map shows; may be empty for a zone that
	// only carries rules.
	Status Status
	// Priority orders regions at one position: the highest that says
	// something about an aspect decides it. Countries and International
	// default to 0, zones to 10.
	Priority  *int
	Note      string // shown on the public map
	Reference string // e.g. a sanctions regulation or a licence decision
	// Licence is required for a country to be Available: outside its
	// validity the country falls back to NotLicensed by itself.
	Licence *Licence
	// UnknownTerminal is what the region does with terminals the
	// authorizer does not know; "" says nothing (docs/POLICY.md).
	UnknownTerminal Fallback
	// Position is which position decides a fix whose claimed position is
	// in this country (or international; not a zone): its claim, the network's serving cell, or both
	// (docs/POLICY.md, "The network's position"); "" is PositionClaimed.
	Position PositionMode
	// WithoutCell is what a Position other than claimed does with a fix
	// that carries no cell of the grid: "" or "claimed" decides it by its
	// claim, "deny" denies it (cell_unknown).
	WithoutCell string
	Pos         Pos
}

// PositionMode is which position decides a fix in a region.
type PositionMode string

// Position modes.
const (
	// PositionClaimed decides by the position the terminal reports.
	PositionClaimed PositionMode = "claimed"
	// PositionNetwork decides by the serving cell where it contradicts the
	// claim: the fix is decided as at every place the cell touches.
	PositionNetwork PositionMode = "network"
	// PositionBoth decides by the claim and, where the cell contradicts
	// it, also by every place the cell touches: the stricter wins.
	PositionBoth PositionMode = "both"
)

// Licence is the record that allows service in a country.
type Licence struct {
	Authority  string
	Reference  string
	ValidFrom  time.Time
	ValidUntil time.Time // zero: no end
	Pos        Pos
}

// ValidAt reports whether the licence holds at t.
func (l *Licence) ValidAt(t time.Time) bool {
	return !t.Before(l.ValidFrom) && (l.ValidUntil.IsZero() || t.Before(l.ValidUntil))
}

// Rule is one measure in a region. Exactly one of NoService,
// RequireVerification, SpeedCapKmh, AllowedPlans, Roaming and Coastal is
// set: the rule's aspect.
type Rule struct {
	ID          string
	Region      string // a country code, International, ZonePrefix+id, or Everywhere
	Description string
	// From and Until bound a temporary measure; zero means unbounded.
	From, Until time.Time

	NoService           bool
	RequireVerification *VerificationRule
	SpeedCapKmh         *float64
	AllowedPlans        []string
	Roaming             *RoamingRule
	Coastal             *CoastalRule

	// Exempt terminals are treated as if the rule did not exist.
	Exempt Exemptions
	Pos    Pos
}

// ActiveAt reports whether the rule's time window contains t.
func (r *Rule) ActiveAt(t time.Time) bool {
	return (r.From.IsZero() || !t.Before(r.From)) && (r.Until.IsZero() || t.Before(r.Until))
}

// VerificationRule admits only terminals verified for the region by the
// authority, with one of the classes (any class if empty).
type VerificationRule struct {
	Authority string
	Classes   []skyfence.VerificationClass
}

// RoamingRule limits how long terminals on the plans may stay outside
// their registered country (days per trip).
type RoamingRule struct {
	Plans         []string
	MaxDaysAbroad int
}

// CoastalRule limits the days of use in coastal waters (a country's
// territorial sea) for terminals on the plans.
type CoastalRule struct {
	Plans              []string
	MaxConsecutiveDays int
	MaxDaysPerYear     int
}

// Exemptions say which terminals a rule does not apply to: those with a
// valid verification of one of the classes for the position's country,
// those on one of the plans, those listed, those in one of the groups.
type Exemptions struct {
	Classes   []skyfence.VerificationClass
	Plans     []string
	Terminals []string
	Groups    []string
}

// Aspect is what a rule decides about.
type Aspect uint8

// Aspects, in the order Decide checks them.
const (
	AspectService Aspect = iota
	AspectVerification
	AspectPlans
	AspectSpeed
	AspectRoaming
	AspectCoastal
	numAspects
)

var aspectNames = [...]string{"service", "verification", "plans", "speed", "roaming", "coastal"}

func (a Aspect) String() string {
	if int(a) < len(aspectNames) {
		return aspectNames[a]
	}
	return fmt.Sprintf("Aspect(%d)", uint8(a))
}

// Aspect returns the rule's aspect and how many aspects it sets (1 for a
// well-formed rule).
func (r *Rule) Aspect() (Aspect, int) {
	n := 0
	a := Aspect(0)
	set := func(x Aspect, ok bool) {
		if ok {
			a, n = x, n+1
		}
	}
	set(AspectService, r.NoService)
	set(AspectVerification, r.RequireVerification != nil)
	set(AspectPlans, r.AllowedPlans != nil)
	set(AspectSpeed, r.SpeedCapKmh != nil)
	set(AspectRoaming, r.Roaming != nil)
	set(AspectCoastal, r.Coastal != nil)
	return a, n
}
