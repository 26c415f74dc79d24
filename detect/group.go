package detect

import (
	"fmt"
	"math"
	"strconv"
)

// group is what several terminals share: an exact position, or a grid
// cell of a restricted region.
type group struct {
	lat, lon float64 // the position, or the cell's south-west corner
	members  []member
	// fired is set once the group has been over its threshold, when every
	// member known then was alerted; later members are alerted as they come.
	fired bool
	// interference is set once a terminal displaced by interference (and
	// not by its own jumps) joined it: the position is a spoofer's.
	interference bool
}

// member is a terminal of a group. Its id is "" if it is known only by its
// hash (the first terminal of a shared position, seen by the filter).
type member struct {
	hash uint32
	id   string
	last int64 // unix ns
}

// join records terminal (hash, id) in the group at time at and returns how
// many distinct members were seen within window of at. A group keeps at
// most maxMembers; past that, new terminals replace members gone quiet, or
// are not counted.
func (g *group) join(hash uint32, id string, at, window int64) int {
	found, free := -1, -1
	for i := range g.members {
		m := &g.members[i]
		if m.hash == hash {
			found = i
		} else if free < 0 && at-m.last > window {
			free = i
		}
	}
	switch {
	case found >= 0:
		m := &g.members[found]
		m.last = max(m.last, at)
		if m.id == "" {
			m.id = id
		}
	case len(g.members) < maxMembers:
		g.members = append(g.members, member{hash, id, at})
	case free >= 0:
		g.members[free] = member{hash, id, at}
	}
	return g.active(at, window)
}

// active is how many members were seen within window of at.
func (g *group) active(at, window int64) int {
	n := 0
	for i := range g.members {
		if at-g.members[i].last <= window {
			n++
		}
	}
	return n
}

// others lists the ids of the members seen within window of at, but self.
func (g *group) others(self string, at, window int64) []string {
	var out []string
	for _, m := range g.members {
		if m.id != "" && m.id != self && at-m.last <= window {
			out = append(out, m.id)
		}
	}
	return out
}

// name is Alert.Group for the group.
func (g *group) name(d Detector, cellDeg float64) string {
	if d == Cluster {
		// The corner is a multiple of the cell size; round off what
		// computing it added.
		r := func(v float64) float64 { return math.Round(v*1e9) / 1e9 }
		return fmt.Sprintf("grid:%g,%g+%g", r(g.lat), r(g.lon), cellDeg)
	}
	return "pos:" + strconv.FormatFloat(g.lat, 'g', -1, 64) + "," + strconv.FormatFloat(g.lon, 'g', -1, 64)
}

// groupTable follows groups by key for a window, in two generations: a
// group is looked up in the current generation, then in the previous one
// (and moved to the current). When the current generation is window old it
// becomes the previous one and the previous one is dropped, so a group not
// touched for two windows is gone. When the current generation holds max
// groups it is rotated early, and counted: under that load the window is
// shorter. Memory is bounded by two generations of max groups.
type groupTable struct {
	max       int
	window    int64
	cur, prev map[uint64]*group
	start     int64 // when cur began (the latest time seen when it did)
	rotations uint64
}

func newGroupTable(max int, window int64) groupTable {
	return groupTable{max: max, window: window, cur: map[uint64]*group{}, prev: map[uint64]*group{}}
}

func (t *groupTable) len() int { return len(t.cur) + len(t.prev) }

func (t *groupTable) rotate(at int64) {
	t.prev, t.cur = t.cur, t.prev
	clear(t.cur)
	t.start = at
}

// get returns the group of key, or nil.
func (t *groupTable) get(key uint64, at int64) *group {
	if at-t.start >= t.window {
		t.rotate(at)
	}
	if g := t.cur[key]; g != nil {
		return g
	}
	g := t.prev[key]
	if g != nil {
		delete(t.prev, key)
		t.put(key, g, at)
	}
	return g
}

// add makes a group for key, which get did not find.
func (t *groupTable) add(key uint64, at int64, lat, lon float64) *group {
	g := &group{lat: lat, lon: lon}
	t.put(key, g, at)
	return g
}

func (t *groupTable) put(key uint64, g *group, at int64) {
	if len(t.cur) >= t.max {
		t.rotate(at)
		t.rotations++
	}
	t.cur[key] = g
}

// hashString is FNV-1a: fixed, so that a run is the same every time.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hashPos hashes an exact position; never 0.
func hashPos(lat, lon float64) uint64 {
	h := math.Float64bits(lat)*0x9e3779b97f4a7c15 ^ math.Float64bits(lon)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return h | 1
}
