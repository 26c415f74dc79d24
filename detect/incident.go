package detect

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/skyfence/skyfence/policy"
)

// GNSS interference incidents. When many unrelated terminals of one area
// make moves no plan allows at the same time, the area's receivers are
// being jammed or spoofed: an Incident is opened for the area, and the
// alerts that interference explains (a terminal's own jump, its clone
// group, its cell mismatch, the policy's denials at the fake position)
// are kept low and name the incident, while drone_motion and every alert
// of a terminal that did not jump still stand.
//
// Where a terminal is, for incidents, is its network position: the centre
// of its serving cell if the fix names one, else, while it is displaced
// (since its impossible move), where it was before it, else its claimed
// position. The world is cut into 1-degree grid cells; each counts, in two
// buckets of half the window, its fixes, its impossible moves and (up to
// incidentSet) the terminals that made them.

// incidentSet is the most distinct terminals a grid cell tells apart per
// bucket, and so the largest Incident.MinTerminals.
const incidentSet = 8

// incidentRing is how many incidents an engine remembers, the newest.
const incidentRing = 1024

// explainedScore caps the score of an alert that interference explains:
// below medium.
const explainedScore = 0.5

// Incident is a GNSS interference incident: from Start to End (its last
// impossible move so far), Terminals terminals of the Area jumped where
// they could not be.
type Incident struct {
	ID    string    `json:"id"` // in_ and 16 hex digits: the same on a replay
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Opened is the time of the fix that opened it: when it was raised.
	Opened time.Time `json:"opened"`
	// Open is true while the incident may still grow: its last
	// impossible move is less than incident.quiet old.
	Open bool `json:"open"`
	// The area: the 1-degree grid cells it covers, as their bounding box,
	// and how many.
	MinLat    float64 `json:"min_lat"`
	MinLon    float64 `json:"min_lon"`
	MaxLat    float64 `json:"max_lat"`
	MaxLon    float64 `json:"max_lon"`
	Cells     int     `json:"cells"`
	Terminals int     `json:"terminals"`
}

// IncidentKind is the kind of every incident so far.
const IncidentKind = "gnss_interference"

type incident struct {
	Incident
	seq      int32
	start    int64 // unix ns
	end      int64
	rows     [2]int32 // grid rows and columns covered, inclusive
	cols     [2]int32
	initial  [2 * incidentSet]uint32 // terminals counted when it opened
	ninitial int
	sent     Incident // as ChangedIncidents last returned it; zero if never
}

// icell is one 1-degree grid cell's counts: index 0 is the current bucket,
// 1 the one before.
type icell struct {
	bucket   int64
	fixes    [2]uint32
	jumps    [2]uint32
	first    [2]int64 // first impossible move, unix ns
	terms    [2][incidentSet]uint32
	nterms   [2]uint8
	incident int32 // seq of the incident covering it; 0 none
}

const gridCols = 360

func gridIndex(lat, lon float64) int32 {
	r := min(max(int32(math.Floor(lat+90)), 0), 179)
	c := min(max(int32(math.Floor(lon+180)), 0), gridCols-1)
	return r*gridCols + c
}

// roll moves the cell's buckets on to bucket b.
func (c *icell) roll(b int64) {
	switch {
	case b == c.bucket:
		return
	case b == c.bucket+1:
		c.fixes[1], c.jumps[1], c.first[1], c.terms[1], c.nterms[1] = c.fixes[0], c.jumps[0], c.first[0], c.terms[0], c.nterms[0]
	default:
		c.fixes[1], c.jumps[1], c.first[1], c.nterms[1] = 0, 0, 0, 0
	}
	c.fixes[0], c.jumps[0], c.first[0], c.nterms[0] = 0, 0, 0, 0
	c.bucket = b
}

// distinct counts the terminals of both buckets, each once.
func (c *icell) distinct() (n int, hashes [2 * incidentSet]uint32) {
	for b := range 2 {
	next:
		for _, h := range c.terms[b][:c.nterms[b]] {
			for _, x := range hashes[:n] {
				if x == h {
					continue next
				}
			}
			hashes[n] = h
			n++
		}
	}
	return n, hashes
}

// impossible reports whether the terminal's newest move was faster than
// its plan's ceiling (as impossible_travel has it).
func (e *Engine) impossible(st *termState) bool {
	if st.n < 2 {
		return false
	}
	c, p := st.at(0), st.at(1)
	dt := float64(c.t-p.t) / 3.6e12
	dist := float64(c.speed) * dt
	return dist >= e.lim.minDistKm && dist/max(dt, e.lim.minGapH) > st.planMax
}

// interference does the incident bookkeeping of one fix, before the
// detectors run: whether the terminal is displaced, where it is for
// incidents, its grid cell's counts, and the incident that opens or grows.
// moved says the fix made a move, jumped an impossible one.
func (e *Engine) interference(si int32, o *Observation, at int64, moved, jumped bool) {
	st := &e.states[si]
	f := &o.Fix
	clat, clon, hasCell := e.servingCell(f.ServingCell)
	sec := at / 1e9
	if jumped && !st.displaced {
		st.displaced, st.displacedAt = true, uint32(sec)
		p := st.at(1)
		st.anchor = pt32{float32(p.lat), float32(p.lon)}
	} else if jumped && sec-int64(st.displacedAt) <= 2*e.lim.incidentBucket &&
		policy.HaversineKm(float64(st.anchor.lat), float64(st.anchor.lon), f.Lat, f.Lon) <= e.lim.returnKm {
		// Out and straight back: a receiver under interference stays
		// spoofed or jammed for minutes; a spoofer jumps as it pleases.
		st.ownJumps, st.displaced = true, false
	}
	if st.displaced && !jumped {
		// Back where its network says it is, or moving as it may: a
		// receiver under interference freezes, sits at a fake position
		// (to within metres) or jumps; it does not drive.
		back := hasCell && policy.HaversineKm(clat, clon, f.Lat, f.Lon) <= e.lim.cellMaxKm
		if back || moved || !hasCell && at-int64(st.lastJump)*1e9 > e.lim.jumpWindow {
			st.displaced = false
		}
	}
	if jumped {
		st.lastJump = uint32(sec)
	}
	st.cellAgrees = !hasCell || policy.HaversineKm(clat, clon, f.Lat, f.Lon) <= e.lim.cellMaxKm
	lat, lon := f.Lat, f.Lon
	switch {
	case hasCell:
		lat, lon = clat, clon
	case st.displaced:
		lat, lon = float64(st.anchor.lat), float64(st.anchor.lon)
	}
	ci := gridIndex(lat, lon)
	st.icell = ci
	c := &e.icells[ci]
	c.roll(sec / e.lim.incidentBucket)
	c.fixes[0]++
	if !jumped {
		// A victim still displaced keeps its incident going: receivers
		// sit at a spoofed position for as long as it lasts.
		if st.displaced && !st.ownJumps {
			if inc := e.incidentAt(st.incident, at); inc != nil {
				inc.end = max(inc.end, at)
			}
		}
		return
	}
	c.jumps[0]++
	if c.first[0] == 0 {
		c.first[0] = at
	}
	if n := int(c.nterms[0]); n < incidentSet {
		dup := false
		for _, h := range c.terms[0][:n] {
			dup = dup || h == st.hash
		}
		if !dup {
			c.terms[0][n] = st.hash
			c.nterms[0]++
		}
	}
	inc := e.incidentAt(c.incident, at)
	if inc == nil {
		inc = e.neighbourIncident(ci, at)
		if inc == nil {
			inc = e.openIncident(ci, c, at)
		}
		if inc == nil {
			return
		}
		e.join(inc, ci)
	}
	inc.end = max(inc.end, at)
	if st.incident != inc.seq {
		st.incident = inc.seq
		counted := false
		for _, h := range inc.initial[:inc.ninitial] {
			counted = counted || h == st.hash
		}
		if !counted {
			inc.Terminals++
		}
	}
}

// servingCell returns the centre of the cell or beam a fix names, if the
// engine knows it.
func (e *Engine) servingCell(id string) (lat, lon float64, ok bool) {
	if id == "" {
		return 0, 0, false
	}
	lat, lon, ok = cellCentre(id)
	if !ok && e.beam != nil {
		lat, lon, ok = e.beam(id)
	}
	return lat, lon, ok
}

// incidentAt returns the incident seq if it is still open at at.
func (e *Engine) incidentAt(seq int32, at int64) *incident {
	if seq == 0 {
		return nil
	}
	inc := &e.incidents[(seq-1)%incidentRing]
	if inc.seq != seq || at-inc.end > e.lim.incidentQuiet {
		return nil
	}
	return inc
}

// neighbourIncident returns an open incident of one of the grid cells
// around ci: an impossible move next to an incident belongs to it.
func (e *Engine) neighbourIncident(ci int32, at int64) *incident {
	r, c := ci/gridCols, ci%gridCols
	for dr := int32(-1); dr <= 1; dr++ {
		for dc := int32(-1); dc <= 1; dc++ {
			rr, cc := r+dr, (c+dc+gridCols)%gridCols
			if rr < 0 || rr >= 180 || dr == 0 && dc == 0 {
				continue
			}
			if inc := e.incidentAt(e.icells[rr*gridCols+cc].incident, at); inc != nil {
				return inc
			}
		}
	}
	return nil
}

// openIncident opens an incident on grid cell ci if it qualifies: enough
// distinct terminals jumped, and a large enough share of its fixes were
// jumps, within the window.
func (e *Engine) openIncident(ci int32, c *icell, at int64) *incident {
	n, hashes := c.distinct()
	fixes, jumps := c.fixes[0]+c.fixes[1], c.jumps[0]+c.jumps[1]
	if n < e.lim.incidentMin || float64(jumps) < e.lim.incidentShare*float64(fixes) {
		return nil
	}
	start := c.first[0]
	if c.first[1] != 0 {
		start = c.first[1]
	}
	e.incidentSeq++
	seq := e.incidentSeq
	inc := &e.incidents[(seq-1)%incidentRing]
	r, col := ci/gridCols, ci%gridCols
	*inc = incident{seq: seq, start: start, end: at, rows: [2]int32{r, r}, cols: [2]int32{col, col},
		initial: hashes, ninitial: n}
	inc.ID = incidentID(start, ci)
	inc.Opened = time.Unix(0, at).UTC()
	inc.Kind = IncidentKind
	inc.Terminals = n
	e.stats.Incidents++
	return inc
}

func incidentID(start int64, ci int32) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d\x00%d", IncidentKind, ci, start)
	return "in_" + hex.EncodeToString(h.Sum(nil))
}

// join adds grid cell ci to the incident, and explains the open alerts
// of the displaced terminals in the incident's area and the grid cells
// around it: those whose impossible moves came before the incident opened.
func (e *Engine) join(inc *incident, ci int32) {
	c := &e.icells[ci]
	if c.incident == inc.seq {
		return
	}
	c.incident = inc.seq
	inc.Cells++
	r, col := ci/gridCols, ci%gridCols
	inc.rows = [2]int32{min(inc.rows[0], r), max(inc.rows[1], r)}
	inc.cols = [2]int32{min(inc.cols[0], col), max(inc.cols[1], col)}
	for key, oa := range e.open {
		st := &e.states[key.slot]
		if !st.displaced || st.ownJumps || oa.Explained || !explainable(key.det) {
			continue
		}
		r, col := st.icell/gridCols, st.icell%gridCols
		if r < inc.rows[0]-1 || r > inc.rows[1]+1 || col < inc.cols[0]-1 || col > inc.cols[1]+1 {
			continue
		}
		if e.icells[st.icell].incident == 0 {
			e.icells[st.icell].incident = inc.seq
			inc.Cells++
		}
		oa.Incident, oa.Explained = inc.ID, true
		oa.Score = min(oa.Score, explainedScore)
		oa.Severity = severityOf(oa.Score)
		e.out = append(e.out, oa.emit())
	}
}

// explainable reports whether interference can explain an alert of the
// detector: every one but drone_motion (a drone's flight is its own) and
// future_timestamp (a clock's).
func explainable(d Detector) bool { return d != DroneMotion && d != FutureTimestamp }

// incidentOf returns the open incident covering terminal si's network
// position at at, and whether it explains the finding: the terminal was
// displaced by interference, or the finding's clone group is a spoofer's
// fake position.
func (e *Engine) incidentOf(si int32, f *finding, at int64) (id string, explained bool) {
	st := &e.states[si]
	inc := e.incidentAt(e.icells[st.icell].incident, at)
	if inc == nil {
		inc = e.neighbourIncident(st.icell, at)
	}
	if inc == nil {
		return "", false
	}
	// A member of a spoofed clone group that is where its network says
	// it is: a receiver near the fake position. One whose cell is far
	// away is a spoofer that chose the same position.
	spoofed := f.det == ClonedPosition && f.group != nil && f.group.interference && st.cellAgrees
	return inc.ID, explainable(f.det) && (st.displaced && !st.ownJumps || spoofed)
}

// Incidents returns the incidents the engine remembers (the newest 1,024),
// oldest first, as they stand at the time of the last fix processed.
func (e *Engine) Incidents() []Incident {
	var out []Incident
	for seq := max(1, e.incidentSeq-incidentRing+1); seq <= e.incidentSeq; seq++ {
		out = append(out, e.view(&e.incidents[(seq-1)%incidentRing]))
	}
	return out
}

// ChangedIncidents appends to dst the incidents that opened, grew or
// closed since it was last called, as Incidents has them (an incident
// closes when a fix comes after its quiet time), and returns it: for a
// consumer that records incidents (Queue.OnIncident). An incident
// reported closed is not looked at again.
func (e *Engine) ChangedIncidents(dst []Incident) []Incident {
	e.reported = max(e.reported, e.incidentSeq-incidentRing)
	for seq := e.reported + 1; seq <= e.incidentSeq; seq++ {
		inc := &e.incidents[(seq-1)%incidentRing]
		if x := e.view(inc); x != inc.sent {
			inc.sent = x
			dst = append(dst, x)
		}
		if seq == e.reported+1 && !inc.sent.Open {
			e.reported = seq
		}
	}
	return dst
}

// view is an incident as Incidents returns it.
func (e *Engine) view(inc *incident) Incident {
	x := inc.Incident
	x.Start, x.End = time.Unix(0, inc.start).UTC(), time.Unix(0, inc.end).UTC()
	x.Open = e.lastAt-inc.end <= e.lim.incidentQuiet
	x.MinLat, x.MaxLat = float64(inc.rows[0])-90, float64(inc.rows[1])-89
	x.MinLon, x.MaxLon = float64(inc.cols[0])-180, float64(inc.cols[1])-179
	return x
}

// pt32 is a position kept in a terminal's state.
type pt32 struct{ lat, lon float32 }
