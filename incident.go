package skyfence

import (
	"slices"
	"time"
)

// IncidentState is where a GNSS interference incident is: open while it
// may still grow, closed once its area has been quiet for the engine's
// quiet time (detect's incident.quiet).
type IncidentState string

// Incident states.
const (
	IncidentOpen   IncidentState = "open"
	IncidentClosed IncidentState = "closed"
)

// IncidentStates lists every incident state.
var IncidentStates = []IncidentState{IncidentOpen, IncidentClosed}

// Valid reports whether s is one of IncidentStates.
func (s IncidentState) Valid() bool { return slices.Contains(IncidentStates, s) }

// Incident is a GNSS interference incident as stored and served: many
// unrelated terminals of an area jumped where they could not be, from
// Start to End (its last impossible move so far). Detection opens,
// extends and closes it (package detect's Incident); the service upserts
// it by ID.
type Incident struct {
	ID    string        `json:"id"`
	Kind  string        `json:"kind"`
	State IncidentState `json:"state"`
	Start time.Time     `json:"start"`
	End   time.Time     `json:"end"`
	// Opened is the time of the fix that opened it: when it was raised.
	Opened time.Time `json:"opened"`
	// The area: the bounding box of the 1-degree grid cells it covers, and
	// how many.
	MinLat float64 `json:"min_lat"`
	MinLon float64 `json:"min_lon"`
	MaxLat float64 `json:"max_lat"`
	MaxLon float64 `json:"max_lon"`
	Cells  int     `json:"cells"`
	// Terminals is how many terminals it affected.
	Terminals int `json:"terminals"`
}

// CursorAfter is the cursor of the listing of incidents after i: incidents
// come newest first (Cursor.At is Start, which an incident keeps).
func (i *Incident) CursorAfter() Cursor { return Cursor{At: i.Start, ID: i.ID} }

// IncidentFilter selects incidents; zero fields match everything. Results
// come newest first (Start descending, then ID descending).
type IncidentFilter struct {
	State IncidentState
	// From and To select the incidents that were going on at some time of
	// [From, To): End at or after From and Start before To. Zero: no bound.
	From, To time.Time
	After    Cursor
	Limit    int // 0 means 100; at most 1000
}
