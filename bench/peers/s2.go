package peers

import (
	"slices"

	"github.com/golang/geo/s2"

	"github.com/skyfence/skyfence/geoindex"
)

// S2 is golang/geo's s2.ShapeIndex with one s2.Polygon per region, asked
// with s2.ContainsPointQuery under s2.VertexModelSemiOpen. S2's edges are
// geodesics, not straight lines in lon/lat, so points near long edges
// legitimately fall on the other side; the agreement the tests measure
// includes that.
//
// Contains allocates when the point is in a region (the query returns a
// fresh slice of shapes; golang/geo exports no visitor without one). An S2
// is not safe for concurrent use: the query keeps an iterator.
type S2 struct {
	name  string
	query *s2.ContainsPointQuery
	// Stats tells what building did to the rings.
	Stats S2Stats
}

// S2Stats counts what NewS2 did to the normalized rings.
type S2Stats struct {
	Rings    int // normalized rings in
	Dropped  int // rings with fewer than 3 vertices or no area after cleaning
	Reversed int // rings turned round to run counterclockwise
	// Twisted counts rings whose turn at their extreme vertex disagrees with
	// the sign of their planar area: self-intersecting rings, which
	// orienting by area alone gets wrong.
	Twisted int
	// InsideOut counts loops that contain s2.OriginPoint (89.4°N 165.5°E),
	// which no country reaches: loops that S2 takes as the sphere outside a
	// ring rather than inside it.
	InsideOut int
}

// regionPolygon is a region's polygon as the index holds it, so that the
// shapes the query returns name their region.
type regionPolygon struct {
	*s2.Polygon
	region int32
}

// NewS2 builds the engine. With clean false ("s2-raw") every normalized ring
// becomes a loop as it is. That is what a first attempt does, and it fails
// in bulk: a loop is the area to its left, so every clockwise hole (RFC
// 7946) becomes the whole sphere outside it, and a polygon's interior is the
// parity of its loops, so South Africa (one hole, Lesotho) contains the
// whole world but itself. s2.Loop also infers which side is inside from the
// angle at its vertex 1, which a ring that touches or crosses itself there
// misleads.
//
// With clean true ("s2-clean") each ring is first put in a form S2 accepts:
//   - longitude -180 becomes 180 and a pole's longitude 0, so that points
//     equal on the sphere are equal as numbers;
//   - repeated vertices are dropped, and so are spikes, where the ring goes
//     to a vertex and straight back (A B A, or back and forth along a
//     meridian or parallel, as the cut at ±180 leaves), repeatedly;
//   - a ring left with fewer than 3 vertices, or with no planar area, is
//     dropped (the Vatican at 1:10m);
//   - the loop starts so that its vertex 1 is the ring's extreme vertex (the
//     southernmost, or the northernmost for a ring round the South Pole,
//     ties to the west), where the ring's inside is the convex angle between
//     its two edges, and it is reversed unless it turns counterclockwise
//     there (s2.RobustSign). Then every loop's left is the area the ring
//     encloses and S2 infers that from vertex 1 correctly, even for rings
//     that touch or cross themselves elsewhere. For a simple ring this is
//     the sign of its planar signed area; orienting by that sign alone
//     leaves 8 loops inside out at 1:10m (rings of AU, CU, KI, MV, VN that
//     touch or cross themselves near their vertex 1, or are slivers), and
//     those countries then contain the whole world.
//
// s2.PolygonFromLoops then infers holes by nesting; containment is the
// parity of the loops, which is the even-odd rule.
//
// A loop cannot follow a straight lon/lat edge longer than 180 degrees: its
// geodesic goes the other way round. The only such edges in Normalize's
// output are the closures along a pole's parallel (Antarctica's ring spans
// all 360 degrees of longitude). Canonicalising collapses such a closure
// into the pole and the cut beside it into a spike along the antimeridian,
// and removing those leaves the coastline running round the pole, which S2
// holds faithfully (the pole on its left). Long edges elsewhere are kept and
// become geodesics.
func NewS2(shapes []geoindex.Shape, clean bool) (*S2, error) {
	all, err := normalizeAll(shapes)
	if err != nil {
		return nil, err
	}
	e := &S2{name: "s2-raw"}
	if clean {
		e.name = "s2-clean"
	}
	index := s2.NewShapeIndex()
	for region, rings := range all {
		var loops []*s2.Loop
		for _, r := range rings {
			e.Stats.Rings++
			var pts []s2.Point
			if clean {
				if pts = e.cleanLoop(r); pts == nil {
					e.Stats.Dropped++
					continue
				}
			} else {
				pts = s2Points(r)
			}
			l := s2.LoopFromPoints(pts)
			if l.ContainsOrigin() {
				e.Stats.InsideOut++
			}
			loops = append(loops, l)
		}
		if len(loops) > 0 {
			index.Add(&regionPolygon{s2.PolygonFromLoops(loops), int32(region)})
		}
	}
	index.Build()
	e.query = s2.NewContainsPointQuery(index, s2.VertexModelSemiOpen)
	return e, nil
}

// cleanLoop returns the vertices of r's loop as described on NewS2, or nil
// if r is to be dropped.
func (e *S2) cleanLoop(r geoindex.Ring) []s2.Point {
	c, area := cleanRing(r), signedArea(r)
	if len(c) < 3 || area == 0 {
		return nil
	}
	pts := s2Points(c)
	n := len(pts)
	k := extremeVertex(c, southPolar(r))
	ccw := s2.RobustSign(pts[(k+n-1)%n], pts[k], pts[(k+1)%n]) == s2.CounterClockwise
	if ccw != (area > 0) {
		e.Stats.Twisted++
	}
	if !ccw {
		e.Stats.Reversed++
		slices.Reverse(pts)
		k = n - 1 - k
	}
	// Rotate so that the extreme vertex is vertex 1.
	m := (k + n - 1) % n
	return slices.Concat(pts[m:], pts[:m])
}

// s2Points converts r to S2 points.
func s2Points(r geoindex.Ring) []s2.Point {
	pts := make([]s2.Point, len(r))
	for i, p := range r {
		pts[i] = s2.PointFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lon))
	}
	return pts
}

// southPolar reports whether r is closed along the South Pole's parallel,
// as Normalize closes a ring that winds round it.
func southPolar(r geoindex.Ring) bool {
	for _, p := range r {
		if p.Lat == -90 {
			return true
		}
	}
	return false
}

// extremeVertex returns the index of the southernmost vertex of r (the
// northernmost if south is set), ties going to the westernmost.
func extremeVertex(r geoindex.Ring, south bool) int {
	k := 0
	for i, p := range r {
		q := r[k]
		lat, qlat := p.Lat, q.Lat
		if south {
			lat, qlat = -lat, -qlat
		}
		if lat < qlat || lat == qlat && p.Lon < q.Lon {
			k = i
		}
	}
	return k
}

// Name returns "s2-raw" or "s2-clean".
func (e *S2) Name() string { return e.name }

// Contains implements Engine.
func (e *S2) Contains(lon, lat float64, dst []int32) []int32 {
	start := len(dst)
	p := s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lon))
	for _, sh := range e.query.ContainingShapes(p) {
		dst = append(dst, sh.(*regionPolygon).region)
	}
	sortSmall(dst[start:])
	return dst
}

// cleanRing returns a copy of r in the form described on NewS2: canonical
// longitudes, no repeated vertices, no spikes (cyclically).
func cleanRing(r geoindex.Ring) geoindex.Ring {
	out := make(geoindex.Ring, 0, len(r))
	for _, p := range r {
		switch {
		case p.Lat == 90 || p.Lat == -90:
			p.Lon = 0
		case p.Lon == -180:
			p.Lon = 180
		}
		for {
			n := len(out)
			if n > 0 && out[n-1] == p {
				break
			}
			if n >= 2 && spike(out[n-2], out[n-1], p) {
				out = out[:n-1]
				continue
			}
			out = append(out, p)
			break
		}
	}
	// The same across the seam between the last vertex and the first.
	for len(out) >= 3 {
		n := len(out)
		switch {
		case out[n-1] == out[0], spike(out[n-2], out[n-1], out[0]):
			out = out[:n-1]
		case spike(out[n-1], out[0], out[1]):
			out = out[1:]
		default:
			return out
		}
	}
	return out
}

// spike reports whether the path a b c goes from a to b and straight back:
// c equals a, or all three lie on one meridian or one parallel and the path
// turns round at b.
func spike(a, b, c geoindex.Point) bool {
	switch {
	case a == c:
		return true
	case a.Lon == b.Lon && b.Lon == c.Lon:
		return (b.Lat-a.Lat)*(c.Lat-b.Lat) < 0
	case a.Lat == b.Lat && b.Lat == c.Lat:
		return (b.Lon-a.Lon)*(c.Lon-b.Lon) < 0
	}
	return false
}
