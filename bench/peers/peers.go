// Package peers adapts other point-in-polygon engines to one small
// interface so that the benchmark harness (package bench) can compare them
// with skyfence's geoindex on the same shapes and the same points.
//
// It exists for measurement only: neither the product's engines nor the
// serving binary (cmd/skyfence) import it, which the layout test in the
// repository's root checks for the binary.
// Every adapter builds from geoindex.Normalize's rings, so the antimeridian is
// cut the same way for all of them, and region i of every answer is
// shapes[i]. The peers answer with their own boundary semantics (the raycast
// of tidwall/geojson, S2's geodesic edges, a 0.1-degree raster), so they may
// differ from geoindex.Reference near edges; the tests measure by how much.
//
// Engines are not safe for concurrent use unless their doc says so: the S2
// adapter keeps a query iterator.
package peers

import (
	"github.com/skyfence/skyfence/geoindex"
)

// Engine answers which regions contain a point.
type Engine interface {
	// Name identifies the engine in reports ("tidwall", "s2-clean", ...).
	Name() string
	// Contains appends to dst the indices of the regions whose shape
	// contains the point (lon, lat in degrees), in increasing order, and
	// returns the extended slice. It allocates nothing when dst has room,
	// unless the engine's doc says otherwise.
	Contains(lon, lat float64, dst []int32) []int32
}

// normalizeAll returns geoindex.Normalize's rings for every shape.
func normalizeAll(shapes []geoindex.Shape) ([][]geoindex.Ring, error) {
	out := make([][]geoindex.Ring, len(shapes))
	for i, s := range shapes {
		rings, err := geoindex.Normalize(s)
		if err != nil {
			return nil, err
		}
		out[i] = rings
	}
	return out, nil
}

// toggle flips region r in the set held by regs[from:] (unordered, no
// duplicates): it is appended if absent and removed if present. Counting a
// region's containing rings this way leaves it in the set iff their number
// is odd, which is the even-odd rule.
func toggle(regs []int32, from int, r int32) []int32 {
	for i := from; i < len(regs); i++ {
		if regs[i] == r {
			regs[i] = regs[len(regs)-1]
			return regs[:len(regs)-1]
		}
	}
	return append(regs, r)
}

// sortSmall sorts a short slice in place (insertion sort: the sets here
// hold one or two regions, and slices.Sort would cost more).
func sortSmall(a []int32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// signedArea returns twice the planar signed area of r in lon/lat
// (positive when r runs counterclockwise), relative to its first vertex
// so that small rings far from (0, 0) keep their precision.
func signedArea(r geoindex.Ring) float64 {
	o := r[0]
	a := 0.0
	for i, p := range r {
		q := r[(i+1)%len(r)]
		a += (p.Lon-o.Lon)*(q.Lat-o.Lat) - (q.Lon-o.Lon)*(p.Lat-o.Lat)
	}
	return a
}
