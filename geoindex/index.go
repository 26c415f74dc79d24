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
	invW, invH   float64 // grid cells per degree
	// coarse has one entry per block of coarseSide × coarseSide grid
	// cells: the set, if the whole block is in one, else tagNode. It is
	// small enough to stay in a core's cache.
	coarse  []uint32
	grid    []uint32
	nodes   []uint32
	leaves  []uint64
	sets    [][]int32
	regions int
}

// A leaf is a record in Index.leaves, laid out so that a lookup reads one
// contiguous run of memory:
//
//	word 0            number of edges n | number of regions g << 16
//	words 1, 2        the reference point (lon, lat), as float64 bits
//	4n words          the edges (ax, ay, bx, by), each directed so that the
//	                  reference point lies to its left
//	ceil(n/16) words  if g > 1: a 4-bit region number per edge
//	ceil(2^g/2) words the table: 2^g SetIDs, two to a word; entry m is the
//	                  set of a point whose segment to the reference point
//	                  crosses the edges of region i an odd number of times
//	                  exactly when bit i of m is set
const (
	coarseShift  = 2
	leafHeader   = 3
	leafMaxEdges = 1<<16 - 1
)

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
	ref, fx, fy := ix.cell(lon, lat)
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
	return ix.leafLookup(ref&valMask, lon, lat)
}

// cell returns the grid reference for a canonical position, and the
// position within that grid cell in units of the cell.
func (ix *Index) cell(lon, lat float64) (ref uint32, fx, fy float64) {
	x, y := (lon+180)*ix.invW, (lat+90)*ix.invH
	cx, cy := min(int(x), ix.gridW-1), min(int(y), ix.gridH-1)
	if c := ix.coarse[(cy>>coarseShift)*(ix.gridW>>coarseShift)+cx>>coarseShift]; c&tagMask == tagSet {
		return c, 0, 0
	}
	return ix.grid[cy*ix.gridW+cx], x - float64(cx), y - float64(cy)
}

func (ix *Index) leafLookup(off uint32, lon, lat float64) SetID {
	rec := ix.leaves[off:]
	n := int(rec[0] & 0xffff)
	g := int(rec[0] >> 16)
	rx, ry := math.Float64frombits(rec[1]), math.Float64frombits(rec[2])
	edges := rec[leafHeader : leafHeader+4*n]
	meta := leafHeader + 4*n
	var m uint32
	for i := 0; i+3 < len(edges); i += 4 {
		ax, ay := math.Float64frombits(edges[i]), math.Float64frombits(edges[i+1])
		bx, by := math.Float64frombits(edges[i+2]), math.Float64frombits(edges[i+3])
		// Is the point on the reference point's side (the left) of the
		// edge's line? The filter of orient, inlined.
		l, r := (bx-ax)*(lat-ay), (by-ay)*(lon-ax)
		if d, bound := l-r, orientErrBound*(math.Abs(l)+math.Abs(r)); d > bound ||
			(d >= -bound && orientPerturbed(ax, ay, bx, by, lon, lat) > 0) {
			continue
		}
		if segmentSide(lon, lat, rx, ry, ax, ay) != segmentSide(lon, lat, rx, ry, bx, by) {
			bit := uint32(0)
			if g > 1 {
				bit = uint32(rec[meta+i/64]>>((i/4)%16*4)) & 15
			}
			m ^= 1 << bit
		}
	}
	if g > 1 {
		meta += (n + 15) / 16
	}
	return SetID(uint32(rec[meta+int(m/2)] >> (32 * (m & 1))))
}

// NoSet marks, in the output of LookupBatch, a position that was invalid.
const NoSet SetID = 1<<32 - 1

// touchNever is a sum of leaf words that LookupBatch compares with so that
// its touching loads have a use.
const touchNever = 0x5eedf00ddeadbeef

// batchChunk is how many points LookupBatch carries through each stage.
const batchChunk = 64

// LookupBatch looks up pts[i] into out[i], which must be at least as long
// as pts. It gives the same answers as Lookup but overlaps the memory
// accesses of many points, so it is several times faster per point on large
// indexes. An invalid position gets NoSet, and the first one is returned as
// an *InvalidPointError after all points have been answered.
func (ix *Index) LookupBatch(pts []Point, out []SetID) error {
	out = out[:len(pts)]
	var firstBad error
	var refs [batchChunk]uint32
	var fx, fy [batchChunk]float64
	for base := 0; base < len(pts); base += batchChunk {
		ps := pts[base:min(base+batchChunk, len(pts))]
		// Stage 1: the grid cell of every point.
		for i, p := range ps {
			lon, lat := p.Lon, p.Lat
			if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
				refs[i] = tagMask
				if firstBad == nil {
					firstBad = &InvalidPointError{lon, lat}
				}
				continue
			}
			refs[i], fx[i], fy[i] = ix.cell(canonical(lon, lat))
		}
		// Stage 2: one level of nodes for every point still in a node.
		for more := true; more; {
			more = false
			for i := range ps {
				ref := refs[i]
				if ref&tagMask != tagNode {
					continue
				}
				x, y := fx[i]*4, fy[i]*4
				sx, sy := min(max(int(x), 0), 3), min(max(int(y), 0), 3)
				fx[i], fy[i] = x-float64(sx), y-float64(sy)
				ref = ix.nodes[(ref&valMask)*16+uint32(sy*4+sx)]
				refs[i] = ref
				more = more || ref&tagMask == tagNode
			}
		}
		// Stage 3: touch every leaf record so that the loads overlap, then
		// decide.
		var touch uint64
		for i := range ps {
			if refs[i]&tagMask == tagLeaf {
				touch += ix.leaves[refs[i]&valMask+leafHeader]
			}
		}
		if touch == touchNever {
			// Never true; keeps the compiler from dropping the loads above.
			return firstBad
		}
		for i, p := range ps {
			switch ref := refs[i]; ref & tagMask {
			case tagSet:
				out[base+i] = SetID(ref)
			case tagLeaf:
				lon, lat := canonical(p.Lon, p.Lat)
				out[base+i] = ix.leafLookup(ref&valMask, lon, lat)
			default:
				out[base+i] = NoSet
			}
		}
	}
	return firstBad
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
