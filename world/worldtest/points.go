// Package worldtest makes reproducible test and benchmark positions over the
// world's boundaries.
//
// worldtest owns the positions that tests and benchmarks ask the indexes.
// It imports only geoindex, and only tests and benchmarks import it.
package worldtest

import (
	"math"
	"math/rand/v2"

	"github.com/skyfence/skyfence/geoindex"
)

// Points returns n positions from a generator seeded with seed: even indices
// uniform on the sphere, odd indices within 50 km of a boundary edge of the
// shapes (a point on an edge picked in proportion to the edge's length, moved
// a uniform distance up to 50 km in a uniform direction).
func Points(shapes []geoindex.Shape, n int, seed uint64) ([]geoindex.Point, error) {
	var edges []geoindex.Point // pairs
	var cum []float64
	total := 0.0
	for _, s := range shapes {
		rings, err := geoindex.Normalize(s)
		if err != nil {
			return nil, err
		}
		for _, r := range rings {
			for i, a := range r {
				b := r[(i+1)%len(r)]
				if isWindowBorder(a, b) {
					continue
				}
				total += math.Hypot((b.Lon-a.Lon)*math.Cos(a.Lat*math.Pi/180), b.Lat-a.Lat)
				edges = append(edges, a, b)
				cum = append(cum, total)
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	pts := make([]geoindex.Point, n)
	for i := range pts {
		if i%2 == 0 || len(cum) == 0 {
			pts[i] = Uniform(rng)
			continue
		}
		k, _ := searchFloat(cum, rng.Float64()*total)
		a, b := edges[2*k], edges[2*k+1]
		t := rng.Float64()
		p := geoindex.Point{Lon: a.Lon + t*(b.Lon-a.Lon), Lat: a.Lat + t*(b.Lat-a.Lat)}
		pts[i] = Offset(p, rng.Float64()*50, rng.Float64()*2*math.Pi)
	}
	return pts, nil
}

// Uniform returns a point uniformly distributed on the sphere.
func Uniform(rng *rand.Rand) geoindex.Point {
	lat := math.Asin(2*rng.Float64()-1) * 180 / math.Pi
	return geoindex.Point{Lon: rng.Float64()*360 - 180, Lat: lat}
}

// Offset moves p by km kilometres in direction bearing (radians from north)
// on a local flat approximation, wrapping longitude and clamping latitude.
func Offset(p geoindex.Point, km, bearing float64) geoindex.Point {
	const kmPerDeg = 111.32
	lat := p.Lat + km*math.Cos(bearing)/kmPerDeg
	c := math.Max(math.Cos(p.Lat*math.Pi/180), 0.01)
	lon := p.Lon + km*math.Sin(bearing)/(kmPerDeg*c)
	lat = math.Max(-90, math.Min(90, lat))
	for lon >= 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return geoindex.Point{Lon: lon, Lat: lat}
}

// isWindowBorder reports edges that lie along lon ±180 or a pole, which the
// antimeridian cut and the polar closure add: they are not real borders.
func isWindowBorder(a, b geoindex.Point) bool {
	return (a.Lon == b.Lon && math.Abs(a.Lon) == 180) || (a.Lat == b.Lat && math.Abs(a.Lat) == 90)
}

func searchFloat(a []float64, v float64) (int, bool) {
	lo, hi := 0, len(a)
	for lo < hi {
		m := (lo + hi) / 2
		if a[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return min(lo, len(a)-1), true
}
