package detect

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/skyfence/skyfence/policy"
)

// Config holds every threshold of the engine. DefaultConfig returns the
// documented defaults; decode an operator's JSON over it, so that a field
// left out keeps its default (a map such as Travel.PlanMaxKmh is merged key
// by key). Durations are written as Go durations: "90s", "1h30m".
type Config struct {
	// MaxTerminals is how many terminals the engine keeps state for; the
	// least recently seen is forgotten (with its open alerts) to make room.
	// A terminal followed costs about 770 bytes of heap, all told.
	MaxTerminals int `json:"max_terminals"`
	// QueueSize is how many observations a Queue holds before it drops.
	QueueSize int `json:"queue_size"`
	// Cooldown is how long an alert stays open after it last fired: a
	// detector firing again within it updates the alert, later opens a new
	// one.
	Cooldown Duration `json:"cooldown"`
	// UpdateEvery is how often an open alert that fires again is emitted
	// again; it is always updated, and emitted at once if its severity
	// rises.
	UpdateEvery Duration `json:"update_every"`
	// Disabled lists detectors that never fire.
	Disabled []Detector `json:"disabled,omitempty"`

	Origin    OriginConfig    `json:"origin"`
	Travel    TravelConfig    `json:"travel"`
	Drone     DroneConfig     `json:"drone"`
	Integrity IntegrityConfig `json:"integrity"`
	Cluster   ClusterConfig   `json:"cluster"`
	Incident  IncidentConfig  `json:"incident"`
}

// OriginConfig sets the detectors of use where a terminal may not be:
// origin_denied and origin_presence.
type OriginConfig struct {
	// DeniedReasons are the decision reasons that make a fix a denied
	// attempt in a restricted region.
	DeniedReasons []policy.Reason `json:"denied_reasons"`
	// RestrictedRegions are further regions where a terminal registered
	// elsewhere and not verified there is watched even when service is
	// allowed: ISO country codes, "international", or "zone:" and a zone id.
	RestrictedRegions []string `json:"restricted_regions,omitempty"`
	// DeniedAttempts within DeniedWindow raise origin_denied (1 to 16).
	DeniedAttempts int      `json:"denied_attempts"`
	DeniedWindow   Duration `json:"denied_window"`
	// TransitKmh: a terminal moving at least this fast (by its decision,
	// borne out by its track) is passing through, and its fixes count for
	// neither origin_denied nor cluster; 0 counts every fix.
	TransitKmh float64 `json:"transit_kmh"`
	// PresenceMin of presence in a restricted region away from the
	// registered country, without a verification for it, raises
	// origin_presence. Fixes more than PresenceGap apart break the
	// presence.
	PresenceMin Duration `json:"presence_min"`
	PresenceGap Duration `json:"presence_gap"`
	// MaxAltM: fixes higher than this (above sea level) are flights over a
	// region, not use in it, and count for none of origin_denied,
	// origin_presence and cluster.
	MaxAltM float64 `json:"max_alt_m"`
}

// TravelConfig sets impossible_travel, and the speeds position_jump uses.
type TravelConfig struct {
	// MaxKmh is the speed no plan reaches (an airliner's ceiling).
	MaxKmh float64 `json:"max_kmh"`
	// PlanMaxKmh is the lower ceiling of the plans named; other plans get
	// MaxKmh.
	PlanMaxKmh map[string]float64 `json:"plan_max_kmh"`
	// MinDistanceKm is the shortest move judged: GPS jitter and small
	// glitches never make impossible travel.
	MinDistanceKm float64 `json:"min_distance_km"`
	// MinGap is the shortest time a move is taken to last: moves closer in
	// time are judged as if they took MinGap.
	MinGap Duration `json:"min_gap"`
}

// DroneConfig sets drone_motion.
type DroneConfig struct {
	// ExemptPlans are plans that may fly.
	ExemptPlans []string `json:"exempt_plans"`
	// MinKmh and MaxKmh bound the median speed of the window.
	MinKmh float64 `json:"min_kmh"`
	MaxKmh float64 `json:"max_kmh"`
	// MaxAltM is the altitude (above sea level, as reported) every fix of
	// the window must be under.
	MaxAltM float64 `json:"max_alt_m"`
	// Window is how many moves the detector looks at (3 to 8); they must
	// follow each other by at most MaxGap.
	Window int      `json:"window"`
	MaxGap Duration `json:"max_gap"`
	// A sharp turn is a change of heading of at least TurnDeg between two
	// moves, at a rate of at least TurnRateDegS. MinSharpTurns in the window
	// raise the alert.
	TurnDeg       float64 `json:"turn_deg"`
	TurnRateDegS  float64 `json:"turn_rate_deg_s"`
	MinSharpTurns int     `json:"min_sharp_turns"`
	// A loiter is a run of moves without a stop, each at least MinKmh/2,
	// low and at most MaxGap apart, averaging MinKmh to MaxKmh, that never
	// strays more than LoiterMaxKm from where it began (a run that does
	// begins again there). LoiterKm or more of it, LoiterRatio times its
	// farthest point from its start, raise the alert. It sees what sharp
	// turns cannot when fixes are sparse.
	LoiterKm    float64 `json:"loiter_km"`
	LoiterMaxKm float64 `json:"loiter_max_km"`
	LoiterRatio float64 `json:"loiter_ratio"`
	// A take-off is a terminal that was still and, within TakeoffWindow of
	// its last still fix, moving at MinKmh/2 or more and low, is TakeoffM
	// or more above the altitude it was still at, having climbed at a
	// grade of TakeoffGrade (climb over distance from where it was still)
	// or at TakeoffRateMS metres a second or more: steeper or faster than
	// a road vehicle climbs.
	TakeoffM      float64  `json:"takeoff_m"`
	TakeoffGrade  float64  `json:"takeoff_grade"`
	TakeoffRateMS float64  `json:"takeoff_rate_m_s"`
	TakeoffWindow Duration `json:"takeoff_window"`
}

// IntegrityConfig sets the detectors of positions that cannot be true:
// position_jump, future_timestamp, cell_mismatch and cloned_position.
type IntegrityConfig struct {
	// JumpKm is the least distance of a jump: out by at least JumpKm and
	// back to within ReturnKm of the start, each leg faster than the plan's
	// ceiling, within JumpWindow.
	JumpKm     float64  `json:"jump_km"`
	ReturnKm   float64  `json:"return_km"`
	JumpWindow Duration `json:"jump_window"`
	// FutureSkew is how far ahead of its arrival a fix's time may be: the
	// window ingest accepts (authorizer.MaxClockSkew, 5 minutes), so that a
	// gateway whose clock runs ahead within it raises no alert.
	FutureSkew Duration `json:"future_skew"`
	// CellMaxKm is how far a fix may be from the centre of the capacity
	// cell or beam it names as serving it.
	CellMaxKm float64 `json:"cell_max_km"`
	// CloneTerminals distinct terminals reporting exactly the same position
	// within CloneWindow raise cloned_position (2 to 32).
	CloneTerminals int      `json:"clone_terminals"`
	CloneWindow    Duration `json:"clone_window"`
	// CloneFilterBits sizes the table of first sightings (2^bits slots of
	// 16 bytes); ClonePositions bounds the positions seen by more than one
	// terminal that are followed.
	CloneFilterBits int `json:"clone_filter_bits"`
	ClonePositions  int `json:"clone_positions"`
}

// ClusterConfig sets cluster.
type ClusterConfig struct {
	// CellDeg is the side of a grid cell in degrees.
	CellDeg float64 `json:"cell_deg"`
	// MinTerminals distinct unverified terminals in one cell of a
	// restricted region within Window raise the alert (2 to 32).
	MinTerminals int      `json:"min_terminals"`
	Window       Duration `json:"window"`
	// MaxCells bounds the grid cells followed.
	MaxCells int `json:"max_cells"`
}

// IncidentConfig sets GNSS interference incidents: many terminals of one
// area jumping where they cannot be at the same time.
type IncidentConfig struct {
	// MinTerminals distinct terminals whose network position (serving
	// cell, else last true position) is in one 1-degree grid cell, each
	// making a move faster than its plan's ceiling, within Window...
	MinTerminals int `json:"min_terminals"`
	// ...and at least MinShare of the fixes from that grid cell in Window
	// being such moves, open an incident.
	MinShare float64  `json:"min_share"`
	Window   Duration `json:"window"`
	// Quiet is how long an incident stays open after its last such move.
	Quiet Duration `json:"quiet"`
}

// DefaultConfig returns the defaults documented in docs/DETECTION.md.
func DefaultConfig() Config {
	return Config{
		MaxTerminals: 1_000_000,
		QueueSize:    65536,
		Cooldown:     Duration(time.Hour),
		UpdateEvery:  Duration(time.Minute),
		Origin: OriginConfig{
			DeniedReasons:  []policy.Reason{policy.RegionEmbargoed, policy.NoServiceZone, policy.VerificationRequired},
			DeniedAttempts: 2,
			DeniedWindow:   Duration(time.Hour),
			TransitKmh:     10,
			PresenceMin:    Duration(6 * time.Hour),
			PresenceGap:    Duration(2 * time.Hour),
			MaxAltM:        3000,
		},
		Travel: TravelConfig{
			MaxKmh:        1200,
			PlanMaxKmh:    map[string]float64{"residential": 200, "sponsored": 200, "maritime": 200, "roam": 350},
			MinDistanceKm: 2,
			MinGap:        Duration(10 * time.Second),
		},
		Drone: DroneConfig{
			ExemptPlans:   []string{"aviation"},
			MinKmh:        80,
			MaxKmh:        250,
			MaxAltM:       500,
			Window:        6,
			MaxGap:        Duration(30 * time.Second),
			TakeoffM:      35,
			TakeoffGrade:  0.08,
			TakeoffRateMS: 2.5,
			TakeoffWindow: Duration(45 * time.Second),
			TurnDeg:       90,
			TurnRateDegS:  8,
			MinSharpTurns: 2,
			LoiterKm:      10,
			LoiterMaxKm:   10,
			LoiterRatio:   4,
		},
		Integrity: IntegrityConfig{
			JumpKm:          10,
			ReturnKm:        2,
			JumpWindow:      Duration(10 * time.Minute),
			FutureSkew:      Duration(5 * time.Minute),
			CellMaxKm:       60,
			CloneTerminals:  10,
			CloneWindow:     Duration(10 * time.Minute),
			CloneFilterBits: 20,
			ClonePositions:  100_000,
		},
		Incident: IncidentConfig{MinTerminals: 8, MinShare: 0.05, Window: Duration(2 * time.Minute), Quiet: Duration(5 * time.Minute)},
		Cluster: ClusterConfig{
			CellDeg:      0.05,
			MinTerminals: 5,
			Window:       Duration(time.Hour),
			MaxCells:     100_000,
		},
	}
}

// Bounds of the fixed-size state.
const (
	ringSize   = 8  // moves kept per terminal; the most Drone.Window can be
	deniedRing = 16 // denied attempts kept per terminal; the most Origin.DeniedAttempts can be
	maxMembers = 32 // terminals kept per shared position or grid cell
)

// Validate reports the first threshold that makes no sense, by its JSON
// name.
func (c *Config) Validate() error {
	checks := []struct {
		ok   bool
		name string
		want string
	}{
		{c.MaxTerminals >= 1, "max_terminals", ">= 1"},
		{c.QueueSize >= 1, "queue_size", ">= 1"},
		{c.Cooldown > 0, "cooldown", "> 0"},
		{c.UpdateEvery >= 0, "update_every", ">= 0"},
		{c.Origin.DeniedAttempts >= 1 && c.Origin.DeniedAttempts <= deniedRing, "origin.denied_attempts", fmt.Sprintf("1 to %d", deniedRing)},
		{c.Origin.DeniedWindow > 0, "origin.denied_window", "> 0"},
		{c.Origin.TransitKmh >= 0 && !math.IsInf(c.Origin.TransitKmh, 0), "origin.transit_kmh", ">= 0"},
		{c.Origin.PresenceMin > 0, "origin.presence_min", "> 0"},
		{c.Origin.PresenceGap > 0, "origin.presence_gap", "> 0"},
		{positive(c.Origin.MaxAltM), "origin.max_alt_m", "> 0"},
		{positive(c.Travel.MaxKmh), "travel.max_kmh", "> 0"},
		{c.Travel.MinDistanceKm >= 0, "travel.min_distance_km", ">= 0"},
		{c.Travel.MinGap > 0, "travel.min_gap", "> 0"},
		{c.Drone.MinKmh >= 0 && c.Drone.MaxKmh > c.Drone.MinKmh, "drone.max_kmh", "> drone.min_kmh >= 0"},
		{c.Drone.Window >= 3 && c.Drone.Window <= ringSize, "drone.window", fmt.Sprintf("3 to %d", ringSize)},
		{c.Drone.MaxGap > 0, "drone.max_gap", "> 0"},
		{c.Drone.TurnDeg > 0 && c.Drone.TurnDeg <= 180, "drone.turn_deg", "in (0, 180]"},
		{c.Drone.TurnRateDegS >= 0, "drone.turn_rate_deg_s", ">= 0"},
		{c.Drone.MinSharpTurns >= 1 && c.Drone.MinSharpTurns <= c.Drone.Window-2, "drone.min_sharp_turns", "1 to drone.window-2"},
		{positive(c.Drone.LoiterKm), "drone.loiter_km", "> 0"},
		{positive(c.Drone.LoiterMaxKm), "drone.loiter_max_km", "> 0"},
		{c.Drone.LoiterRatio > 1 && !math.IsInf(c.Drone.LoiterRatio, 0), "drone.loiter_ratio", "> 1"},
		{positive(c.Drone.TakeoffM), "drone.takeoff_m", "> 0"},
		{positive(c.Drone.TakeoffGrade), "drone.takeoff_grade", "> 0"},
		{positive(c.Drone.TakeoffRateMS), "drone.takeoff_rate_m_s", "> 0"},
		{c.Drone.TakeoffWindow >= 0, "drone.takeoff_window", ">= 0"},
		{positive(c.Integrity.JumpKm), "integrity.jump_km", "> 0"},
		{c.Integrity.ReturnKm >= 0 && c.Integrity.ReturnKm < c.Integrity.JumpKm, "integrity.return_km", "in [0, jump_km)"},
		{c.Integrity.JumpWindow > 0, "integrity.jump_window", "> 0"},
		{c.Integrity.FutureSkew > 0, "integrity.future_skew", "> 0"},
		{positive(c.Integrity.CellMaxKm), "integrity.cell_max_km", "> 0"},
		{c.Integrity.CloneTerminals >= 2 && c.Integrity.CloneTerminals <= maxMembers, "integrity.clone_terminals", fmt.Sprintf("2 to %d", maxMembers)},
		{c.Integrity.CloneWindow > 0, "integrity.clone_window", "> 0"},
		{c.Integrity.CloneFilterBits >= 4 && c.Integrity.CloneFilterBits <= 30, "integrity.clone_filter_bits", "4 to 30"},
		{c.Integrity.ClonePositions >= 1, "integrity.clone_positions", ">= 1"},
		{positive(c.Cluster.CellDeg) && c.Cluster.CellDeg <= 10, "cluster.cell_deg", "in (0, 10]"},
		{c.Cluster.MinTerminals >= 2 && c.Cluster.MinTerminals <= maxMembers, "cluster.min_terminals", fmt.Sprintf("2 to %d", maxMembers)},
		{c.Cluster.Window > 0, "cluster.window", "> 0"},
		{c.Cluster.MaxCells >= 1, "cluster.max_cells", ">= 1"},
		{c.Incident.MinTerminals >= 2 && c.Incident.MinTerminals <= incidentSet, "incident.min_terminals", fmt.Sprintf("2 to %d", incidentSet)},
		{c.Incident.MinShare >= 0 && c.Incident.MinShare <= 1, "incident.min_share", "in [0, 1]"},
		{c.Incident.Window >= Duration(time.Second), "incident.window", ">= 1s"},
		{c.Incident.Quiet >= 0, "incident.quiet", ">= 0"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("detect: config: %s must be %s", ch.name, ch.want)
		}
	}
	for plan, v := range c.Travel.PlanMaxKmh {
		if !positive(v) {
			return fmt.Errorf("detect: config: travel.plan_max_kmh[%q] must be > 0", plan)
		}
	}
	for _, r := range c.Origin.RestrictedRegions {
		if r == "" || strings.TrimPrefix(r, policy.ZonePrefix) == "" {
			return fmt.Errorf("detect: config: origin.restricted_regions holds an empty region")
		}
	}
	return nil
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// Duration is a time.Duration written as text ("1h30m") in JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("detect: duration %q: want a Go duration such as 90s or 1h30m", b)
	}
	*d = Duration(v)
	return nil
}

// limits is a Config in the units the detectors use, with its lists made
// into sets.
type limits struct {
	cooldown, updateEvery int64 // ns
	disabled              [numDetectors]bool

	deniedReasons          uint32 // bit r set for each policy.Reason r
	restrictedCountries    map[string]bool
	restrictedZones        map[string]bool
	deniedAttempts         int
	deniedWindow           int64 // s
	transitKmh             float64
	presenceMin, presGap   int64 // ns
	originAlt              float64
	maxKmh                 float64
	planMaxKmh             map[string]float64
	minDistKm              float64
	minGapH                float64 // hours
	droneExempt            map[string]bool
	droneMin, droneMax     float64
	droneAlt               float32
	droneWindow            int
	droneMaxGap            int64 // ns
	turnDeg, turnRate      float64
	minSharpTurns          int
	loiterKm, loiterRatio  float64
	loiterMaxKm            float64
	takeoffM, takeoffGrade float64
	takeoffRate            float64
	takeoffWindow          int64 // ns
	jumpKm, returnKm       float64
	jumpWindow, futureSkew int64 // ns
	cellMaxKm              float64
	cloneTerminals         int
	cloneWindow            int64 // ns
	clusterDeg             float64
	clusterMin             int
	clusterWindow          int64 // ns
	incidentMin            int
	incidentShare          float64
	incidentBucket         int64 // s: half the window
	incidentQuiet          int64 // ns
}

func (c *Config) limits() *limits {
	l := &limits{
		cooldown: int64(c.Cooldown), updateEvery: int64(c.UpdateEvery),
		restrictedCountries: map[string]bool{}, restrictedZones: map[string]bool{},
		deniedAttempts: c.Origin.DeniedAttempts, deniedWindow: int64(c.Origin.DeniedWindow.D().Seconds()),
		transitKmh:  c.Origin.TransitKmh,
		presenceMin: int64(c.Origin.PresenceMin), presGap: int64(c.Origin.PresenceGap), originAlt: c.Origin.MaxAltM,
		maxKmh: c.Travel.MaxKmh, planMaxKmh: c.Travel.PlanMaxKmh, minDistKm: c.Travel.MinDistanceKm,
		minGapH:     c.Travel.MinGap.D().Hours(),
		droneExempt: map[string]bool{}, droneMin: c.Drone.MinKmh, droneMax: c.Drone.MaxKmh,
		droneAlt: float32(c.Drone.MaxAltM), droneWindow: c.Drone.Window, droneMaxGap: int64(c.Drone.MaxGap),
		turnDeg: c.Drone.TurnDeg, turnRate: c.Drone.TurnRateDegS, minSharpTurns: c.Drone.MinSharpTurns,
		loiterKm: c.Drone.LoiterKm, loiterRatio: c.Drone.LoiterRatio, loiterMaxKm: c.Drone.LoiterMaxKm,
		takeoffM: c.Drone.TakeoffM, takeoffGrade: c.Drone.TakeoffGrade, takeoffRate: c.Drone.TakeoffRateMS,
		takeoffWindow: int64(c.Drone.TakeoffWindow),
		jumpKm:        c.Integrity.JumpKm, returnKm: c.Integrity.ReturnKm, jumpWindow: int64(c.Integrity.JumpWindow),
		futureSkew: int64(c.Integrity.FutureSkew), cellMaxKm: c.Integrity.CellMaxKm,
		cloneTerminals: c.Integrity.CloneTerminals, cloneWindow: int64(c.Integrity.CloneWindow),
		clusterDeg: c.Cluster.CellDeg, clusterMin: c.Cluster.MinTerminals, clusterWindow: int64(c.Cluster.Window),
		incidentMin: c.Incident.MinTerminals, incidentShare: c.Incident.MinShare,
		incidentBucket: max(1, int64(c.Incident.Window.D().Seconds())/2), incidentQuiet: int64(c.Incident.Quiet),
	}
	for _, d := range c.Disabled {
		if d < numDetectors {
			l.disabled[d] = true
		}
	}
	for _, r := range c.Origin.DeniedReasons {
		l.deniedReasons |= 1 << r
	}
	for _, r := range c.Origin.RestrictedRegions {
		if z, ok := strings.CutPrefix(r, policy.ZonePrefix); ok {
			l.restrictedZones[z] = true
		} else {
			l.restrictedCountries[r] = true
		}
	}
	for _, p := range c.Drone.ExemptPlans {
		l.droneExempt[p] = true
	}
	return l
}

// planMax is the speed no terminal of plan can reach.
func (l *limits) planMax(plan string) float64 {
	if v, ok := l.planMaxKmh[plan]; ok {
		return min(v, l.maxKmh)
	}
	return l.maxKmh
}
