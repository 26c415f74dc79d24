package policy

import (
	"math"

	"github.com/skyfence/skyfence/geoindex"
)

// authalicRadiusKm is the radius of the sphere with the area of the WGS 84
// ellipsoid (510,065,622 km²). Areas on it differ from areas on the
// ellipsoid by under 0.7% at any latitude, and their sum over the globe is
// exact.
const authalicRadiusKm = 6371.0072

// earthAreaKm2 is the area of the whole sphere.
const earthAreaKm2 = 4 * math.Pi * authalicRadiusKm * authalicRadiusKm

// AreaKm2 returns the area in km² of polygons with straight edges in lon/lat
// (RFC 7946, as the index reads them) on the authalic sphere. Each polygon's
// first ring is its exterior and the others its holes, whichever way they
// run; polygons are taken not to overlap. Rings that cross the antimeridian
// or wind round a pole are read as geoindex.Normalize reads them. It fails
// only on a ring that Normalize rejects.
//
// Along an edge whose latitude φ varies linearly with longitude λ the
// integral ∮ sin φ dλ has a closed form, so the result is exact for the
// sphere, not an approximation by small steps.
func AreaKm2(polys []geoindex.Polygon) (float64, error) {
	total := 0.0
	for _, p := range polys {
		for i, r := range p {
			a, err := ringAreaKm2(r)
			if err != nil {
				return 0, err
			}
			if i == 0 {
				total += a
			} else {
				total -= a
			}
		}
	}
	return total, nil
}

// ringAreaKm2 is the unsigned area enclosed by one ring.
func ringAreaKm2(r geoindex.Ring) (float64, error) {
	parts, err := geoindex.Normalize(geoindex.Shape{Polygons: []geoindex.Polygon{{r}}})
	if err != nil {
		return 0, err
	}
	// The parts of one ring keep its direction, so their signed areas
	// share a sign and add up.
	sum := 0.0
	for _, part := range parts {
		sum += signedIntegral(part)
	}
	return math.Abs(sum) * authalicRadiusKm * authalicRadiusKm, nil
}

// signedIntegral is -∮ sin φ dλ round the closed ring (radians), which by
// Green's theorem is ∬ cos φ dφ dλ, the area on the unit sphere, positive
// for a ring that runs counterclockwise in the lon/lat plane.
func signedIntegral(r geoindex.Ring) float64 {
	const rad = math.Pi / 180
	s := 0.0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		dl := (b.Lon - a.Lon) * rad
		mid := (a.Lat + b.Lat) / 2 * rad
		half := (b.Lat - a.Lat) / 2 * rad
		// ∫ sin φ dλ along the edge = dλ (cos φa - cos φb) / (φb - φa)
		// = dλ sin(mid) sin(half)/half, stable as half goes to 0.
		sinc := 1.0
		if half != 0 {
			sinc = math.Sin(half) / half
		}
		s -= dl * math.Sin(mid) * sinc
	}
	return s
}
