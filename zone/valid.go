package zone

import (
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/skyfence/skyfence/geoindex"
)

// A polygon is valid (OGC simple features) when each ring is simple and
// the rings meet nowhere:
//   - no two consecutive positions of a ring are equal;
//   - no two edges of a ring meet, but consecutive edges at their shared
//     position (and those do not fold back along each other);
//   - no edge of a ring meets an edge of another ring of the polygon, not
//     even at a point;
//   - every hole is inside its polygon's first ring (the shell) and not
//     inside another hole.
//
// Fewer than 4 positions and unclosed rings are refused while parsing.
// The tests are exact: orientations are computed in float64 with an error
// bound and, where that cannot tell, again in rational arithmetic, on the
// positions as given, longitudes unwrapped across the antimeridian (an
// edge spanning more than 180 degrees crosses it). A ring that winds round
// a pole (a polar cap) is checked only for repeated positions, and holes
// of a polygon whose shell does are not placed. Edges are found by a
// sweep over longitude, so that a ring of n edges costs O(n log n) plus
// the pairs of edges whose longitude and latitude ranges overlap.

// maxRingProblems is how many intersections are reported per polygon.
const maxRingProblems = 10

// edge is a segment of a ring in unwrapped coordinates: from vertex i of
// ring r to the next.
type edge struct {
	a, b       geoindex.Point
	ring, i    int
	minX, maxX float64
	minY, maxY float64
}

// ringProblem is an invalidity at a vertex of a polygon's ring.
type ringProblem struct {
	ring, vertex int
	msg          string
}

// validatePolygon returns the polygon's invalidities (at most a few of each
// kind), by ring and vertex, rings as parsed: closed, at least 4
// positions, in range. Where several edges meet at one point, each pair is
// reported.
func validatePolygon(poly geoindex.Polygon) []ringProblem {
	var probs []ringProblem
	rings := make([][]geoindex.Point, len(poly))
	for ri, r := range poly {
		for i := 1; i < len(r); i++ {
			if r[i] == r[i-1] {
				probs = append(probs, ringProblem{ri, i, "repeats the position before it"})
			}
		}
		rings[ri] = unwrap(r)
	}
	if len(probs) > 0 {
		return probs
	}
	// Bring each hole within half a turn of its shell.
	if len(rings) > 1 {
		lo, hi := bounds(rings[0])
		mid := (lo + hi) / 2
		for _, r := range rings[1:] {
			if k := math.Round((r[0].Lon - mid) / 360); k != 0 {
				for i := range r {
					r[i].Lon -= k * 360
				}
			}
		}
	}
	var edges []edge
	for ri, r := range rings {
		if wrapsPole(poly[ri]) {
			continue // its edges along the pole meet at the antimeridian by construction
		}
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			edges = append(edges, edge{a: a, b: b, ring: ri, i: i,
				minX: math.Min(a.Lon, b.Lon), maxX: math.Max(a.Lon, b.Lon),
				minY: math.Min(a.Lat, b.Lat), maxY: math.Max(a.Lat, b.Lat)})
		}
	}
	n := len(probs)
	eachMeeting(edges, lens(rings), func(e, f *edge, how string) bool {
		if e.ring == f.ring {
			probs = append(probs, ringProblem{f.ring, f.i, fmt.Sprintf("the edge from this position %s the edge from position %d: a ring must not cross or touch itself", how, e.i)})
		} else {
			probs = append(probs, ringProblem{f.ring, f.i, fmt.Sprintf("the edge from this position %s the edge from position %d of ring %d: rings must not meet", how, e.i, e.ring)})
		}
		return len(probs)-n < maxRingProblems
	})
	if len(probs) > 0 || wrapsPole(poly[0]) {
		sort.SliceStable(probs, func(i, j int) bool {
			return probs[i].ring < probs[j].ring || probs[i].ring == probs[j].ring && probs[i].vertex < probs[j].vertex
		})
		return probs
	}
	for hi := 1; hi < len(rings); hi++ {
		if !inside(rings[hi][0], rings[0]) {
			probs = append(probs, ringProblem{hi, 0, "the hole is outside its polygon's first ring"})
			continue
		}
		for hj := 1; hj < len(rings); hj++ {
			if hj != hi && inside(rings[hi][0], rings[hj]) {
				probs = append(probs, ringProblem{hi, 0, fmt.Sprintf("the hole is inside hole %d", hj)})
				break
			}
		}
	}
	return probs
}

func lens(rings [][]geoindex.Point) []int {
	n := make([]int, len(rings))
	for i, r := range rings {
		n[i] = len(r) - 1 // edges
	}
	return n
}

// unwrap returns r with each longitude within 180 degrees of the one
// before it.
func unwrap(r geoindex.Ring) []geoindex.Point {
	out := make([]geoindex.Point, len(r))
	copy(out, r)
	for i := 1; i < len(out); i++ {
		d := out[i].Lon - out[i-1].Lon
		switch {
		case d > 180:
			out[i].Lon -= 360 * math.Ceil((d-180)/360)
		case d < -180:
			out[i].Lon += 360 * math.Ceil((-d-180)/360)
		}
	}
	return out
}

// wrapsPole reports whether the ring, unwrapped, ends a turn away from
// where it began.
func wrapsPole(r geoindex.Ring) bool {
	u := unwrap(r)
	return math.Abs(u[len(u)-1].Lon-u[0].Lon) > 180
}

func bounds(r []geoindex.Point) (lo, hi float64) {
	lo, hi = r[0].Lon, r[0].Lon
	for _, p := range r {
		lo, hi = math.Min(lo, p.Lon), math.Max(hi, p.Lon)
	}
	return lo, hi
}

// eachMeeting calls fn for each pair of edges that meet where they must
// not, e before f in the order of rings and edges, until fn returns
// false. edgesPerRing[r] is ring r's number of edges (for adjacency).
func eachMeeting(edges []edge, edgesPerRing []int, fn func(e, f *edge, how string) bool) {
	order := make([]int, len(edges))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return edges[order[i]].minX < edges[order[j]].minX })
	for oi, ei := range order {
		e := &edges[ei]
		for _, fi := range order[oi+1:] {
			f := &edges[fi]
			if f.minX > e.maxX {
				break
			}
			if f.minY > e.maxY || f.maxY < e.minY {
				continue
			}
			first, second := e, f
			if fi < ei {
				first, second = f, e
			}
			if how := meeting(first, second, edgesPerRing); how != "" && !fn(first, second, how) {
				return
			}
		}
	}
}

// meeting says how two edges meet where they must not ("crosses",
// "touches", "overlaps"), or "" if they do not.
func meeting(e, f *edge, edgesPerRing []int) string {
	if e.ring == f.ring {
		n := edgesPerRing[e.ring]
		switch {
		case f.i == e.i+1:
			return foldsBack(e.a, e.b, f.b) // e.b == f.a
		case e.i == 0 && f.i == n-1:
			return foldsBack(f.a, f.b, e.b) // f.b == e.a
		}
	}
	return segmentsMeet(e.a, e.b, f.a, f.b)
}

// foldsBack says whether consecutive edges a-b and b-c overlap along a line
// beyond their shared position b.
func foldsBack(a, b, c geoindex.Point) string {
	if orient(a, b, c) != 0 {
		return ""
	}
	// Collinear: they overlap if c goes back towards a.
	if dot(a, b, c) > 0 {
		return "overlaps"
	}
	return ""
}

// dot is the sign of (a-b).(c-b): positive if a and c are on the same side
// of b along their line.
func dot(a, b, c geoindex.Point) int {
	x := (a.Lon-b.Lon)*(c.Lon-b.Lon) + (a.Lat-b.Lat)*(c.Lat-b.Lat)
	if x != 0 && math.Abs(x) > 1e-12*(math.Abs(a.Lon-b.Lon)*math.Abs(c.Lon-b.Lon)+math.Abs(a.Lat-b.Lat)*math.Abs(c.Lat-b.Lat)) {
		if x > 0 {
			return 1
		}
		return -1
	}
	r := new(big.Rat).Mul(sub(a.Lon, b.Lon), sub(c.Lon, b.Lon))
	r.Add(r, new(big.Rat).Mul(sub(a.Lat, b.Lat), sub(c.Lat, b.Lat)))
	return r.Sign()
}

// segmentsMeet says how segments p1-p2 and p3-p4 meet: "crosses" (at a
// point inside both), "touches" (an end on the other), "overlaps"
// (collinear, sharing more than a point), or "" if they do not.
func segmentsMeet(p1, p2, p3, p4 geoindex.Point) string {
	d1, d2 := orient(p3, p4, p1), orient(p3, p4, p2)
	d3, d4 := orient(p1, p2, p3), orient(p1, p2, p4)
	if d1*d2 < 0 && d3*d4 < 0 {
		return "crosses"
	}
	if d1 == 0 && d2 == 0 { // collinear
		n := 0
		for _, c := range [][3]geoindex.Point{{p3, p4, p1}, {p3, p4, p2}, {p1, p2, p3}, {p1, p2, p4}} {
			if onSegment(c[0], c[1], c[2]) {
				n++
			}
		}
		switch {
		case n == 0:
			return ""
		case n == 2 && (p1 == p3 || p1 == p4 || p2 == p3 || p2 == p4) && !(p1 == p3 && p2 == p4) && !(p1 == p4 && p2 == p3):
			return "touches" // end to end
		}
		return "overlaps"
	}
	switch {
	case d1 == 0 && onSegment(p3, p4, p1), d2 == 0 && onSegment(p3, p4, p2),
		d3 == 0 && onSegment(p1, p2, p3), d4 == 0 && onSegment(p1, p2, p4):
		return "touches"
	}
	return ""
}

// onSegment reports whether p, collinear with a-b, lies on the segment.
func onSegment(a, b, p geoindex.Point) bool {
	return math.Min(a.Lon, b.Lon) <= p.Lon && p.Lon <= math.Max(a.Lon, b.Lon) &&
		math.Min(a.Lat, b.Lat) <= p.Lat && p.Lat <= math.Max(a.Lat, b.Lat)
}

// orient is the sign of the cross product (b-a) x (c-a): 1 if c is left of
// the line from a to b, -1 if right, 0 if on it. Exact: float64 with
// Shewchuk's error bound, else rationals.
func orient(a, b, c geoindex.Point) int {
	l := (b.Lon - a.Lon) * (c.Lat - a.Lat)
	r := (b.Lat - a.Lat) * (c.Lon - a.Lon)
	det := l - r
	const errBound = 3.3306690738754716e-16 * 2 // (3 + 16 eps) eps, with the subtractions' rounding
	if math.Abs(det) > errBound*(math.Abs(l)+math.Abs(r)) && !math.IsInf(det, 0) {
		if det > 0 {
			return 1
		}
		return -1
	}
	x := new(big.Rat).Mul(sub(b.Lon, a.Lon), sub(c.Lat, a.Lat))
	x.Sub(x, new(big.Rat).Mul(sub(b.Lat, a.Lat), sub(c.Lon, a.Lon)))
	return x.Sign()
}

// sub is x - y exactly.
func sub(x, y float64) *big.Rat {
	a, b := new(big.Rat).SetFloat64(x), new(big.Rat).SetFloat64(y)
	return a.Sub(a, b)
}

// inside reports whether p is inside ring r (even-odd rule), p not on it.
func inside(p geoindex.Point, r []geoindex.Point) bool {
	in := false
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			// The edge crosses p's latitude: is p left of it, going up?
			o := orient(a, b, p)
			if b.Lat < a.Lat {
				o = -o
			}
			if o > 0 {
				in = !in
			}
		}
	}
	return in
}
