package detect

import (
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// Observation is one decided fix: the terminal's registry record when it
// was decided, the fix, and the decision.
type Observation struct {
	// Terminal is the registry record; nil for an unknown terminal, which
	// the engine ignores. The engine only reads it; it must not change
	// after the observation is offered (the control service replaces
	// records whole).
	Terminal *skyfence.Terminal
	Fix      skyfence.Fix
	Decision policy.Decision
	// Received is when the fix arrived; the zero value means now, by the
	// engine's clock. Only future_timestamp reads it: every other window
	// runs on the fixes' own times.
	Received time.Time
}

// Options are what an Engine needs besides its thresholds.
type Options struct {
	// Now is the clock for observations without Received; time.Now if nil.
	Now func() time.Time
	// Beam returns the centre of a serving beam named by a fix's Cell, for
	// cell_mismatch; capacity cells ("c" row "." column, skyfence.CellOf)
	// are known without it. Nil: only capacity cells are checked.
	Beam func(id string) (lat, lon float64, ok bool)
}

// Stats counts what an engine did.
type Stats struct {
	Observations uint64 `json:"observations"` // processed
	// Ignored observations: unknown terminal, invalid position, or a fix
	// not after the terminal's last.
	Ignored   uint64 `json:"ignored"`
	Terminals int    `json:"terminals"` // followed now
	Evictions uint64 `json:"evictions"` // terminals forgotten to make room
	Alerts    uint64 `json:"alerts"`    // alerts opened
	Updates   uint64 `json:"updates"`   // firings that updated an open alert
	// SharedPositions and ClusterCells are the entries of the shared
	// tables now; Rotations counts their generations dropped early because
	// they were full (their windows were then shorter).
	SharedPositions int    `json:"shared_positions"`
	ClusterCells    int    `json:"cluster_cells"`
	Rotations       uint64 `json:"rotations"`
	// Incidents counts the GNSS interference incidents opened.
	Incidents uint64 `json:"incidents"`
}

// Engine runs the detectors over observations, one at a time, in order.
// It is not safe for concurrent use (see Queue). Memory is bounded by the
// Config: MaxTerminals states of about 770 bytes each (with the index),
// their open alerts (at most one per detector, each with at most
// EvidenceMax evidence), the first-sighting filter (16 << CloneFilterBits
// bytes) and the shared position and grid cell tables (two generations of
// ClonePositions and MaxCells entries of at most 32 terminals).
type Engine struct {
	cfg  Config
	lim  *limits
	now  func() time.Time
	beam func(string) (float64, float64, bool)

	index  map[string]int32 // terminal id -> slot
	states []termState
	links  []link // LRU order of states, parallel to it
	head   int32  // most recently seen, or -1
	tail   int32  // least recently seen, or -1

	open      map[alertKey]*openAlert
	countries interner
	filter    []filterSlot
	shared    groupTable // exact positions seen by more than one terminal
	cells     groupTable // grid cells of restricted regions
	out       []Alert
	stats     Stats

	icells      []icell // 1-degree grid cells, for incidents
	incidents   [incidentRing]incident
	incidentSeq int32
	reported    int32 // ChangedIncidents reported every incident up to it closed
	lastAt      int64 // time of the newest fix processed, unix ns
}

// link is a slot's place in the LRU list, kept apart from the states so
// that moving a terminal to the front touches only this small array.
type link struct{ prev, next int32 }

// New returns an engine with cfg, which must be valid.
func New(cfg Config, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, lim: cfg.limits(), now: opts.Now, beam: opts.Beam,
		index: map[string]int32{}, head: -1, tail: -1,
		open:   map[alertKey]*openAlert{},
		filter: make([]filterSlot, 1<<cfg.Integrity.CloneFilterBits),
		shared: newGroupTable(cfg.Integrity.ClonePositions, int64(cfg.Integrity.CloneWindow)),
		cells:  newGroupTable(cfg.Cluster.MaxCells, int64(cfg.Cluster.Window)),
		icells: make([]icell, 180*gridCols),
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Terminals = len(e.index)
	s.SharedPositions = e.shared.len()
	s.ClusterCells = e.cells.len()
	s.Rotations = e.shared.rotations + e.cells.rotations
	return s
}

// Process runs the detectors over one observation and returns the alerts
// it opened or updated (see Alert). The slice is reused by the next call:
// copy the alerts out of it (a value copy is enough; their slices are the
// caller's) to keep them.
func (e *Engine) Process(o *Observation) []Alert {
	e.out = e.out[:0]
	e.stats.Observations++
	t, f := o.Terminal, &o.Fix
	if t == nil || o.Decision.Reason == policy.PositionInvalid {
		e.stats.Ignored++
		return e.out
	}
	at := f.Time.UnixNano()
	si := e.slot(t)
	st := &e.states[si]
	if st.n > 0 && at <= st.at(0).t {
		e.stats.Ignored++
		return e.out
	}
	received := o.Received
	if received.IsZero() {
		received = e.now()
	}
	tr := trigger{o: o, speed: -1}
	if skew := at - received.UnixNano(); skew > e.lim.futureSkew {
		// A fix from the future is not recorded: it would make every
		// later fix look out of order.
		s := float64(skew) / 1e9
		lim := float64(e.lim.futureSkew) / 1e9
		e.fire(si, finding{det: FutureTimestamp, score: 0.5 + 0.5*min(1, s/(10*lim)), value: s, limit: lim}, at, &tr)
		return e.out
	}
	e.lastAt = max(e.lastAt, at)
	moved := e.record(st, o, at)
	e.interference(si, o, at, moved, moved && e.impossible(st))
	if moved {
		tr.speed = float64(st.at(0).speed)
		e.motion(si, at, &tr)
	}
	e.integrity(si, o, at, &tr)
	if o.Decision.Located && o.Fix.AltM <= e.lim.originAlt {
		e.origin(si, o, at, &tr)
	}
	return e.out
}

// trigger is the observation being processed, for the evidence of the
// alerts it fires: made only when one fires.
type trigger struct {
	o     *Observation
	speed float64 // of the move it made, derived; -1 if none
}

func (tr *trigger) evidence() Evidence {
	f, d := &tr.o.Fix, &tr.o.Decision
	return Evidence{
		Time: f.Time.UTC(), Lat: f.Lat, Lon: f.Lon, AltM: f.AltM, SpeedKmh: tr.speed, Cell: f.ServingCell,
		Allow: d.Allow, Reason: d.Reason, Country: d.Country, Land: d.Land,
		Rule: d.Rule, Region: d.Region, Zones: d.Zones, Fired: true,
	}
}

// slot returns the slot of terminal t, making one (and forgetting the
// least recently seen terminal if the engine is full), and makes it the
// most recently seen.
func (e *Engine) slot(t *skyfence.Terminal) int32 {
	si, ok := e.index[t.ID]
	if !ok {
		if len(e.states) < e.cfg.MaxTerminals {
			si = int32(len(e.states))
			e.states = append(e.states, termState{})
			e.links = append(e.links, link{-1, -1})
		} else {
			si = e.tail
			e.forget(si)
		}
		e.states[si] = termState{id: t.ID, hash: uint32(hashString(t.ID))}
		e.index[t.ID] = si
		e.pushFront(si)
	} else if si != e.head {
		e.unlink(si)
		e.pushFront(si)
	}
	st := &e.states[si]
	if st.plan != t.Plan || st.home != t.Country {
		st.plan, st.home = t.Plan, t.Country
		st.planMax = e.lim.planMax(t.Plan)
		st.droneExempt = e.lim.droneExempt[t.Plan]
	}
	return si
}

// forget drops the terminal in slot si and its open alerts.
func (e *Engine) forget(si int32) {
	st := &e.states[si]
	for d := Detector(0); d < numDetectors; d++ {
		if st.open&(1<<d) != 0 {
			delete(e.open, alertKey{si, d})
		}
	}
	delete(e.index, st.id)
	e.unlink(si)
	e.stats.Evictions++
}

func (e *Engine) pushFront(si int32) {
	e.links[si] = link{prev: -1, next: e.head}
	if e.head >= 0 {
		e.links[e.head].prev = si
	}
	e.head = si
	if e.tail < 0 {
		e.tail = si
	}
}

func (e *Engine) unlink(si int32) {
	l := e.links[si]
	if l.prev >= 0 {
		e.links[l.prev].next = l.next
	} else {
		e.head = l.next
	}
	if l.next >= 0 {
		e.links[l.next].prev = l.prev
	} else {
		e.tail = l.prev
	}
}

// termState is what the engine remembers of one terminal.
type termState struct {
	id, plan, home string
	hash           uint32  // hashString(id), for the shared tables
	moved          uint32  // unix seconds of its newest move, or of its first fix
	planMax        float64 // the plan's ceiling, km/h

	ring      [ringSize]sample   // the last moves; ring[head] is the newest
	denied    [deniedRing]uint32 // unix seconds of the last denied attempts; denied[dhead] is the newest
	presSince int64              // start of the current restricted presence (unix ns); 0 if none
	presLast  int64              // last fix of it
	loiter    loiter
	anchor    pt32 // where it was before its impossible move, while displaced
	rest      pt32 // where it was last still
	restAlt   float32
	restAt    int64   // unix ns of its last still fix; 0 if never
	climbGain float32 // m above rest of the first fix that climbed TakeoffM since
	icell     int32   // its grid cell for incidents (gridIndex)
	incident  int32   // seq of the last incident it was counted in
	lastJump  uint32  // unix seconds of its last impossible move

	head, n     int8
	displaced   bool   // since an impossible move, until its position agrees with its network's again
	climbed     bool   // a fix since rest climbed TakeoffM
	steep       bool   // and got there steeply or fast
	cellAgrees  bool   // its last fix was within cell_max_km of its serving cell, or named none
	ownJumps    bool   // it came back from a jump within the incident window: its jumps are its own
	displacedAt uint32 // unix seconds of the impossible move that displaced it
	dhead, dn   int8
	droneExempt bool
	open        uint16 // bit d set if detector d has an open alert
}

// sample is one move: a fix at least minMoveKm from the previous one. A
// fix closer than that updates the time of the newest sample instead, so
// that the newest sample says when the terminal was last seen there.
type sample struct {
	t        int64 // unix ns
	lat, lon float64
	alt      float32 // m
	speed    float32 // km/h from the previous sample; -1 for the first
	heading  float32 // degrees clockwise from north from the previous sample; NaN for the first
	country  uint16  // interned Decision.Country
	reason   policy.Reason
	flags    uint8
}

const (
	flagAllow uint8 = 1 << iota
	flagLand
)

// at returns the k-th newest sample (0 is the newest); k < n.
func (st *termState) at(k int) *sample {
	return &st.ring[(int(st.head)-k+ringSize)%ringSize]
}

// interner numbers the country names of decisions so that a sample holds
// two bytes instead of a string. Decisions name a few hundred regions; past
// maxNames names the rest are numbered 0, the empty name.
type interner struct {
	ids   map[string]uint16
	names []string
	last  string
	lastI uint16
}

const maxNames = 4096

func (in *interner) id(name string) uint16 {
	if in.names == nil {
		in.ids, in.names = map[string]uint16{"": 0}, []string{""}
	}
	if name == in.last {
		return in.lastI
	}
	i, ok := in.ids[name]
	if !ok && len(in.names) < maxNames {
		i = uint16(len(in.names))
		in.names = append(in.names, name)
		in.ids[name] = i
	}
	in.last, in.lastI = name, i
	return i
}

func (in *interner) name(i uint16) string { return in.names[i] }
