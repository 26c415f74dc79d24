package policy

import "fmt"

// Reason says why a decision was made. The list is closed: clients may
// switch on it. The zero value is Undecided, which denies.
type Reason uint8

// Reasons. Ok is the only one that allows service.
const (
	// Undecided is the zero Reason: no decision was made, so service is
	// denied. Snapshot.Decide never gives it; it is what a Decision reads
	// before the engine has filled it in.
	Undecided Reason = iota
	Ok
	UnknownTerminal
	TerminalInactive
	TerminalSuspended
	TerminalDeactivated
	PositionInvalid
	RegionNotAvailable
	RegionNotLicensed
	RegionEmbargoed
	NoServiceZone
	VerificationRequired
	PlanNotAllowed
	SpeedLimit
	RoamingLimit
	// NetworkPosition denies a fix at a place where the network serves
	// the terminal (its cell) that its claimed position is not in.
	NetworkPosition
	// CellUnknown denies a fix without a serving cell of the grid in a
	// country that requires one (without_cell: deny).
	CellUnknown
	numReasons
)

// NumReasons is how many Reason values there are, Undecided included; they
// run from 0 to NumReasons-1, so an array of NumReasons counts by reason.
const NumReasons = int(numReasons)

var reasonCodes = [numReasons]string{
	"undecided", "ok", "unknown_terminal", "terminal_inactive", "terminal_suspended", "terminal_deactivated",
	"position_invalid", "region_not_available", "region_not_licensed", "region_embargoed",
	"no_service_zone", "verification_required", "plan_not_allowed", "speed_limit", "roaming_limit",
	"network_position", "cell_unknown",
}

// messages are for the terminal's owner: plain words, no internals.
var reasonMessages = [numReasons]string{
	"Service is not available: no decision was made.",
	"Service is available.",
	"This terminal is not registered.",
	"This terminal has not been activated.",
	"Service for this terminal is suspended. Contact support to learn why and how to appeal.",
	"This terminal has been deactivated.",
	"The terminal reported a position that is not valid.",
	"Service is not yet available in this area.",
	"Service is not licensed in this area.",
	"Service is not permitted in this area.",
	"Service is not available in this area.",
	"Service here requires a terminal verified by the local authority.",
	"Your service plan does not cover this area.",
	"Movement speed is too high",
	"Your service plan's roaming allowance for this area is used up.",
	"The network serves this terminal from an area where service is not permitted for it.",
	"The network did not report where this terminal is served, which service here requires.",
}

// wireCodes are the reasons' numbers on the binary wires (the detection
// observations). They were the reasons' values before Undecided existed and
// are fixed: a new reason takes a new number, and none is reused.
var wireCodes = [numReasons]byte{
	Undecided: 255, Ok: 0, UnknownTerminal: 1, TerminalInactive: 2, TerminalSuspended: 3,
	TerminalDeactivated: 4, PositionInvalid: 5, RegionNotAvailable: 6, RegionNotLicensed: 7,
	RegionEmbargoed: 8, NoServiceZone: 9, VerificationRequired: 10, PlanNotAllowed: 11,
	SpeedLimit: 12, RoamingLimit: 13, NetworkPosition: 14, CellUnknown: 15,
}

// Reasons lists every reason a decision gives, in order, from Ok; it leaves
// out Undecided, which no decision gives.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := Ok; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// WireCode returns the reason's fixed number on the binary wires: Ok is 0,
// the denials follow from 1 in their order, Undecided is 255.
func (r Reason) WireCode() byte {
	if r < numReasons {
		return wireCodes[r]
	}
	return wireCodes[Undecided]
}

// ReasonOfWireCode returns the reason whose WireCode is c, or Undecided if
// none is.
func ReasonOfWireCode(c byte) Reason {
	for r, w := range wireCodes {
		if w == c {
			return Reason(r)
		}
	}
	return Undecided
}

// String returns the stable code, e.g. "speed_limit".
func (r Reason) String() string {
	if r < numReasons {
		return reasonCodes[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Message returns the reason in words a terminal's owner can read.
func (r Reason) Message() string {
	if r < numReasons {
		return reasonMessages[r]
	}
	return ""
}

// ParseReason parses a reason code. An unknown code gives Undecided and an
// error.
func ParseReason(s string) (Reason, error) {
	for i, c := range reasonCodes {
		if c == s {
			return Reason(i), nil
		}
	}
	return Undecided, fmt.Errorf("unknown reason %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Reason) UnmarshalText(b []byte) error {
	v, err := ParseReason(string(b))
	*r = v
	return err
}
