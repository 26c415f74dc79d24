package detect

import (
	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// integrity runs the detectors of positions that cannot be true but need
// no track: cell_mismatch and cloned_position. (position_jump needs the
// track and runs with the motion detectors; future_timestamp runs first.)
func (e *Engine) integrity(si int32, o *Observation, at int64, tr *trigger) {
	f := &o.Fix
	if f.ServingCell != "" {
		lat, lon, ok := cellCentre(f.ServingCell)
		if !ok && e.beam != nil {
			lat, lon, ok = e.beam(f.ServingCell)
		}
		if ok {
			if d := policy.HaversineKm(lat, lon, f.Lat, f.Lon); d > e.lim.cellMaxKm {
				e.fire(si, finding{det: CellMismatch, score: d / (2 * e.lim.cellMaxKm), value: d, limit: e.lim.cellMaxKm}, at, tr)
			}
		}
	}
	e.clone(si, f, at, tr)
}

// filterSlot is one entry of the first-sighting filter: a position's hash,
// the hash of the last terminal seen there and when (in unix seconds). 16 bytes, so that four share a cache line.
type filterSlot struct {
	pos  uint64
	term uint32
	sec  uint32
}

// clone counts the distinct terminals reporting exactly the fix's
// position. Most positions are reported by one terminal only: they stay in
// a fixed-size filter, indexed by the position's hash, where a newer
// position may overwrite an older one. A position that a second terminal
// reports while it is still in the filter, within CloneWindow, moves to
// the shared table, which counts its terminals exactly.
func (e *Engine) clone(si int32, f *skyfence.Fix, at int64, tr *trigger) {
	st := &e.states[si]
	pos := hashPos(f.Lat, f.Lon)
	g := e.shared.get(pos, at)
	if g == nil {
		s := &e.filter[pos&uint64(len(e.filter)-1)]
		sec := uint32(at / 1e9)
		if s.pos != pos || s.term == st.hash || int64(sec)-int64(s.sec) > e.lim.cloneWindow/1e9 {
			*s = filterSlot{pos: pos, term: st.hash, sec: sec}
			return
		}
		g = e.shared.add(pos, at, f.Lat, f.Lon)
		g.members = append(g.members, member{hash: s.term, last: int64(s.sec) * 1e9})
	}
	n := g.join(st.hash, st.id, at, e.lim.cloneWindow)
	g.interference = g.interference || st.displaced && !st.ownJumps
	if n < e.lim.cloneTerminals {
		return
	}
	lim := float64(e.lim.cloneTerminals)
	fd := finding{det: ClonedPosition, score: float64(n) / (2 * lim), value: float64(n), limit: lim, group: g}
	e.fire(si, fd, at, tr)
	e.fireOthers(g, si, fd, at, e.lim.cloneWindow)
}

// fireOthers fires fd for the group's other members the first time the
// group is over its threshold; later, each member fires as it reports.
func (e *Engine) fireOthers(g *group, si int32, fd finding, at, window int64) {
	if g.fired {
		return
	}
	g.fired = true
	self := e.states[si].id
	for _, m := range g.members {
		if m.id == "" || m.id == self || at-m.last > window {
			continue
		}
		if sj, ok := e.index[m.id]; ok {
			e.fire(sj, fd, at, nil)
		}
	}
}

// groupWindow is the window of a group detector.
func (e *Engine) groupWindow(d Detector) int64 {
	if d == Cluster {
		return e.lim.clusterWindow
	}
	return e.lim.cloneWindow
}

// cellCentre returns the centre of a capacity cell named as by
// skyfence.CellOf ("c" row "." column).
func cellCentre(id string) (lat, lon float64, ok bool) {
	if len(id) < 4 || id[0] != 'c' {
		return 0, 0, false
	}
	row, rest, ok := leadingInt(id[1:])
	if !ok || len(rest) < 2 || rest[0] != '.' {
		return 0, 0, false
	}
	col, rest, ok := leadingInt(rest[1:])
	if !ok || rest != "" || row >= int(180/skyfence.CellDegrees) || col >= int(360/skyfence.CellDegrees) {
		return 0, 0, false
	}
	return -90 + (float64(row)+0.5)*skyfence.CellDegrees, -180 + (float64(col)+0.5)*skyfence.CellDegrees, true
}

// leadingInt parses the decimal digits at the start of s (at most 6).
func leadingInt(s string) (n int, rest string, ok bool) {
	i := 0
	for ; i < len(s) && i < 6 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, s[i:], i > 0
}
