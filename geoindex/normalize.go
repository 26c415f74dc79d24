package geoindex

import (
	"fmt"
	"math"
)

// GeometryError reports invalid input geometry and where it is: the shape's
// name, and the polygon, ring and vertex indices (-1 where not applicable).
type GeometryError struct {
	Shape                 string
	Polygon, Ring, Vertex int
	Msg                   string
}

func (e *GeometryError) Error() string {
	loc := fmt.Sprintf("shape %q polygon %d ring %d", e.Shape, e.Polygon, e.Ring)
	if e.Vertex >= 0 {
		loc += fmt.Sprintf(" vertex %d", e.Vertex)
	}
	return loc + ": " + e.Msg
}

// Normalize turns the polygons of a shape into rings that lie within the
// window lon [-180, 180], lat [-90, 90], ready for planar even-odd tests.
//
//   - Vertices must be finite, with lat in [-90, 90] and lon in [-540, 540]
//     (rings that continue past the antimeridian may be given unwrapped).
//   - A closing vertex equal to the first is dropped, as are repeated
//     consecutive vertices; a ring with fewer than 3 distinct vertices is an
//     error.
//   - Consecutive vertices more than 180 degrees of longitude apart are taken
//     to cross the antimeridian (the shorter way round), so rings stitched
//     across it (Fiji, Chukotka) are unwrapped first.
//   - A ring whose longitude winds once round the globe encloses a pole. As
//     in RFC 7946 the interior lies to the left of the direction of travel:
//     a ring running east encloses the North Pole, one running west the
//     South Pole. It is closed along that pole's parallel.
//   - The unwrapped ring is cut at lon ±180 and the parts beyond are moved
//     by 360 degrees into the window.
//
// Edges are straight lines in lon/lat (RFC 7946). The rings returned may
// touch or overlap the window's border; under the even-odd rule they cover
// exactly the input's area.
func Normalize(s Shape) ([]Ring, error) {
	var out []Ring
	for pi, p := range s.Polygons {
		for ri, r := range p {
			rings, err := normalizeRing(r)
			if err != nil {
				err.Shape, err.Polygon, err.Ring = s.Name, pi, ri
				return nil, err
			}
			out = append(out, rings...)
		}
	}
	return out, nil
}

func normalizeRing(in Ring) ([]Ring, *GeometryError) {
	if len(in) == 0 {
		return nil, &GeometryError{Vertex: -1, Msg: "empty ring"}
	}
	r := make(Ring, 0, len(in)+4)
	for i, p := range in {
		switch {
		case math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || math.IsInf(p.Lon, 0) || math.IsInf(p.Lat, 0):
			return nil, &GeometryError{Vertex: i, Msg: fmt.Sprintf("coordinate is not a finite number (%v, %v)", p.Lon, p.Lat)}
		case p.Lat < -90 || p.Lat > 90:
			return nil, &GeometryError{Vertex: i, Msg: fmt.Sprintf("latitude %v out of range [-90, 90]", p.Lat)}
		case p.Lon < -540 || p.Lon > 540:
			return nil, &GeometryError{Vertex: i, Msg: fmt.Sprintf("longitude %v out of range [-540, 540]", p.Lon)}
		}
		if len(r) > 0 {
			// Unwrap relative to the previous vertex.
			prev := r[len(r)-1].Lon
			for p.Lon-prev > 180 {
				p.Lon -= 360
			}
			for p.Lon-prev < -180 {
				p.Lon += 360
			}
			if p == r[len(r)-1] {
				continue
			}
		}
		r = append(r, p)
	}
	// The closing vertex, if given, matches the first up to whole turns.
	if n := len(r); n > 1 && r[n-1].Lat == r[0].Lat && math.Mod(r[n-1].Lon-r[0].Lon, 360) == 0 && r[n-1].Lon != r[0].Lon {
		// An explicit closing vertex after a full turn: keep the turn, drop the vertex.
		turn := r[n-1].Lon - r[0].Lon
		r = r[:n-1]
		return closeAndWrap(r, turn)
	} else if n > 1 && r[n-1] == r[0] {
		r = r[:n-1]
	}
	if distinct(r) < 3 {
		return nil, &GeometryError{Vertex: -1, Msg: "ring has fewer than 3 distinct vertices"}
	}
	last, first := r[len(r)-1].Lon, r[0].Lon
	closing := first - last
	for closing > 180 {
		closing -= 360
	}
	for closing < -180 {
		closing += 360
	}
	return closeAndWrap(r, last+closing-first)
}

// closeAndWrap closes an unwrapped ring whose net longitude change is turn
// (0 or ±360) and cuts it into the window.
func closeAndWrap(r Ring, turn float64) ([]Ring, *GeometryError) {
	if distinct(r) < 3 {
		return nil, &GeometryError{Vertex: -1, Msg: "ring has fewer than 3 distinct vertices"}
	}
	switch {
	case turn == 0:
	case math.Abs(turn) == 360:
		pole := 90.0
		if turn < 0 {
			pole = -90
		}
		f := r[0]
		r = append(r, Point{f.Lon + turn, f.Lat}, Point{f.Lon + turn, pole}, Point{f.Lon, pole})
	default:
		return nil, &GeometryError{Vertex: -1, Msg: fmt.Sprintf("ring winds %v degrees round the pole; at most one turn is allowed", turn)}
	}
	minX, maxX := r[0].Lon, r[0].Lon
	for _, p := range r {
		minX = math.Min(minX, p.Lon)
		maxX = math.Max(maxX, p.Lon)
	}
	var out Ring
	var rings []Ring
	for k := math.Floor((-180 - maxX) / 360); minX+360*k < 180; k++ {
		if maxX+360*k <= -180 {
			continue
		}
		shift := 360 * k
		out = out[:0]
		for _, p := range r {
			out = append(out, Point{p.Lon + shift, p.Lat})
		}
		c := clipX(clipX(out, -180, true), 180, false)
		if distinct(c) >= 3 {
			rings = append(rings, c)
		}
	}
	return rings, nil
}

// clipX clips a closed ring to the half-plane lon >= x (keepAbove) or
// lon <= x (Sutherland-Hodgman). Where the ring leaves and re-enters the
// half-plane, the result runs along the line lon = x; such back-and-forth
// edges cancel under the even-odd rule.
func clipX(r Ring, x float64, keepAbove bool) Ring {
	inside := func(p Point) bool {
		if keepAbove {
			return p.Lon >= x
		}
		return p.Lon <= x
	}
	cross := func(s, e Point) Point {
		t := (x - s.Lon) / (e.Lon - s.Lon)
		return Point{x, s.Lat + t*(e.Lat-s.Lat)}
	}
	out := make(Ring, 0, len(r)+4)
	add := func(p Point) {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	for i, e := range r {
		s := r[(i+len(r)-1)%len(r)]
		switch {
		case inside(e):
			if !inside(s) {
				add(cross(s, e))
			}
			add(e)
		case inside(s):
			add(cross(s, e))
		}
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	return out
}

// distinct counts the distinct vertices of r, stopping at 3.
func distinct(r Ring) int {
	var seen [3]Point
	n := 0
	for _, p := range r {
		dup := false
		for _, q := range seen[:n] {
			dup = dup || p == q
		}
		if !dup {
			seen[n] = p
			if n++; n == 3 {
				break
			}
		}
	}
	return n
}
