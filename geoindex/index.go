package geoindex

import (
	"fmt"
	"math"
)

// SetID names a set of regions: the answer to a lookup. The sets an index
// can return are interned when it is built, so equal sets have equal ids and
// a caller can precompute anything it derives from a set (the policy
// snapshot does) and look it up by id. SetID 0 is the empty set.
type SetID uint32

// Cell references in the grid and in nodes carry a tag in their top two bits.
const (
	tagShift = 30
	tagMask  = 3 << tagShift
	tagSet   = 0 << tagShift // the whole cell is in one set: the low bits are its SetID
	tagNode  = 1 << tagShift // the low bits index nodes; 16 children follow
	tagLeaf  = 2 << tagShift // the low bits index leaves
	valMask  = 1<<tagShift - 1
)

// Index answers which regions contain a point. It is immutable once built
// and safe for any number of concurrent readers; Lookup neither allocates nor
// locks.
//
// Semantics. Each region is the even-odd interior of its normalized rings
// (see Normalize), with straight edges in lon/lat. A point on a boundary is
// decided by the half-open rule of the classic crossing test (a ray towards
// east, a vertex counted as below the ray): a point belongs to a region if
// the region contains the points just east of it, and where that is a
// horizontal edge, just north-east of it. So the regions of a partition
// (countries sharing a border) still get exactly one owner for every point,
// the west and south edges of a box belong to it and the east and north
// edges do not. Longitude 180 is the same meridian as -180, and the North
// Pole belongs where the point just south of it on the given meridian does.
//
// Structure. A flat grid covers the world; a grid cell that no edge touches
// holds its set directly. Others are split 4×4 again and again until a cell
// has few edges: such a leaf keeps those edges, a reference point inside the
// cell and the set there. A point's set is the reference point's set with
// every region toggled whose edges the segment from the point to the
// reference point crosses an odd number of times. The crossings are decided
// with exact predicates under a symbolic perturbation that moves the query
// point infinitesimally east and then north, which is what yields the rule
// above, so the answer equals that of testing every edge of every region
// (Reference) for every input, including points on edges and vertices.
type Index struct {
	gridW, gridH int
	cellW, cellH float64 // degrees per grid cell
	grid         []uint32
	nodes        []uint32
	leaves       []leaf
	edges        []leafEdge
	tables       []SetID
	sets         [][]int32
	regions      int
}

// leaf is a cell crossed by edges: ref is the reference point, whose set is
// tables[table]; tables[table+m] is the set when the regions whose bits are
// set in m are toggled.
type leaf struct {
	refX, refY float64
	first, end uint32
	table      uint32
	_          uint32
}

// leafEdge is an edge kept in a leaf with the bit of its region in the leaf's
// table and the side of the edge's line on which the reference point lies.
type leafEdge struct {
	ax, ay, bx, by float64
	bit            uint8
	refSide        int8
}

// InvalidPointError reports a position that cannot be looked up.
type InvalidPointError struct {
	Lon, Lat float64
}

func (e *InvalidPointError) Error() string {
	return fmt.Sprintf("invalid position lon=%v lat=%v: want finite lon in [-180, 180] and lat in [-90, 90]", e.Lon, e.Lat)
}

// Lookup returns the set of regions that contain the point. A coordinate
// that is NaN, infinite or out of range gives an *InvalidPointError.
func (ix *Index) Lookup(lon, lat float64) (SetID, error) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return 0, &InvalidPointError{lon, lat}
	}
	return ix.lookup(lon, lat), nil
}

func (ix *Index) lookup(lon, lat float64) SetID {
	lon, lat = canonical(lon, lat)
	x := (lon + 180) / ix.cellW
	y := (lat + 90) / ix.cellH
	cx, cy := int(x), int(y)
	if cx >= ix.gridW {
		cx = ix.gridW - 1
	}
	if cy >= ix.gridH {
		cy = ix.gridH - 1
	}
	ref := ix.grid[cy*ix.gridW+cx]
	// Descend with cell-relative coordinates in units of the current cell.
	fx, fy := x-float64(cx), y-float64(cy)
	for ref&tagMask == tagNode {
		fx, fy = fx*4, fy*4
		sx, sy := int(fx), int(fy)
		sx = min(max(sx, 0), 3)
		sy = min(max(sy, 0), 3)
		fx, fy = fx-float64(sx), fy-float64(sy)
		ref = ix.nodes[(ref&valMask)*16+uint32(sy*4+sx)]
	}
	if ref&tagMask == tagSet {
		return SetID(ref)
	}
	l := &ix.leaves[ref&valMask]
	var m uint32
	for i := l.first; i < l.end; i++ {
		e := &ix.edges[i]
		if orientPerturbed(e.ax, e.ay, e.bx, e.by, lon, lat) == int(e.refSide) {
			continue // the point is on the reference point's side of the line
		}
		if segmentSide(lon, lat, l.refX, l.refY, e.ax, e.ay) != segmentSide(lon, lat, l.refX, l.refY, e.bx, e.by) {
			m ^= 1 << e.bit
		}
	}
	return ix.tables[l.table+m]
}

// Regions returns the regions of a set, as indices into the shapes the index
// was built from, in increasing order. The slice is shared: do not modify it.
func (ix *Index) Regions(id SetID) []int32 {
	return ix.sets[id]
}

// NumSets returns the number of distinct sets; SetIDs run from 0 to
// NumSets()-1.
func (ix *Index) NumSets() int { return len(ix.sets) }

// NumRegions returns the number of shapes the index was built from.
func (ix *Index) NumRegions() int { return ix.regions }

// canonical maps the points that the half-open rule would leave outside
// every region onto equivalent ones: longitude 180 onto -180, and the North
// Pole onto the point just south of it on the same meridian. Input must be
// in range.
func canonical(lon, lat float64) (float64, float64) {
	if lon == 180 {
		lon = -180
	}
	if lat == 90 {
		lat = math.Nextafter(90, 0)
	}
	return lon, lat
}

// orientPerturbed is the sign of orient(a, b, p') where p' is p moved east by
// ε and north by δ, 0 < δ ≪ ε infinitesimal. It is 0 only if a == b.
func orientPerturbed(ax, ay, bx, by, px, py float64) int {
	if s := orient(ax, ay, bx, by, px, py); s != 0 {
		return s
	}
	if ay != by {
		if ay > by {
			return 1
		}
		return -1
	}
	if bx > ax {
		return 1
	} else if bx < ax {
		return -1
	}
	return 0
}

// segmentSide is the sign of orient(p', c, a) for the perturbed p' (see
// orientPerturbed); it is 0 only if a == c.
func segmentSide(px, py, cx, cy, ax, ay float64) int {
	if s := orient(px, py, cx, cy, ax, ay); s != 0 {
		return s
	}
	if cy != ay {
		if cy > ay {
			return 1
		}
		return -1
	}
	if ax > cx {
		return 1
	} else if ax < cx {
		return -1
	}
	return 0
}
