package world

import (
	"math"
	"slices"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world/worldtest"
)

// coasts finds the boundary edge nearest to a point, by 1-degree buckets.
type coasts map[[2]int][]coastEdge

type coastEdge struct {
	a, b    geoindex.Point
	country int
}

func newCoasts(t testing.TB, shapes []geoindex.Shape) coasts {
	c := coasts{}
	for i, s := range shapes {
		rings, err := geoindex.Normalize(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rings {
			for k, a := range r {
				b := r[(k+1)%len(r)]
				if a.Lon == b.Lon && math.Abs(a.Lon) == 180 || a.Lat == b.Lat && math.Abs(a.Lat) == 90 {
					continue // the antimeridian cut or the polar closure
				}
				for x := math.Floor(min(a.Lon, b.Lon)); x <= max(a.Lon, b.Lon); x++ {
					for y := math.Floor(min(a.Lat, b.Lat)); y <= max(a.Lat, b.Lat); y++ {
						k := [2]int{int(x), int(y)}
						c[k] = append(c[k], coastEdge{a, b, i})
					}
				}
			}
		}
	}
	return c
}

// nearest returns the distance in degrees of great circle (in a local
// equirectangular projection) from p to the nearest edge within half a
// degree, or +Inf, and that edge's country.
func (c coasts) nearest(p geoindex.Point) (float64, int) {
	cos := math.Cos(p.Lat * math.Pi / 180)
	wrap := func(d float64) float64 { return (d - 360*math.Round(d/360)) * cos }
	best, country := math.Inf(1), -1
	for x := math.Floor(p.Lon - 0.5/cos); x <= p.Lon+0.5/cos; x++ {
		for y := math.Floor(p.Lat - 0.5); y <= p.Lat+0.5; y++ {
			k := [2]int{int(x) - 360*int(math.Floor((x+180)/360)), int(y)}
			for _, e := range c[k] {
				ax, ay := wrap(e.a.Lon-p.Lon), e.a.Lat-p.Lat
				dx, dy := wrap(e.b.Lon-p.Lon)-ax, e.b.Lat-p.Lat-ay
				s := 0.0
				if l := dx*dx + dy*dy; l > 0 {
					s = max(0, min(1, -(ax*dx+ay*dy)/l))
				}
				if d := math.Hypot(ax+s*dx, ay+s*dy); d < best {
					best, country = d, e.country
				}
			}
		}
	}
	return best, country
}

// TestSeaAccuracy compares the Sea at 1:10m with the 12 nm limit measured
// from the polygons themselves, at sea positions within 50 km of a
// boundary (up to 80 degrees of latitude).
func TestSeaAccuracy(t *testing.T) {
	const limit = 0.2 // 12 arc-minutes
	const kmPerDegree = 111.12
	d := load(t, Res10m)
	shapes := d.Shapes()
	ix, err := geoindex.Build(shapes, geoindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCoasts(t, shapes)
	pts, err := worldtest.Points(shapes, 400000, 7)
	if err != nil {
		t.Fatal(err)
	}
	var off []float64 // km from the limit of each position on the wrong side
	sea, inside, otherCountry := 0, 0, 0
	for i := 1; i < len(pts); i += 2 { // the odd ones lie near a boundary
		p := pts[i]
		if id, err := ix.Lookup(p.Lon, p.Lat); err != nil || id != 0 || math.Abs(p.Lat) > 80 {
			continue
		}
		sea++
		dist, country := c.nearest(p)
		got := d.Sea.Owner(p.Lon, p.Lat)
		if (got >= 0) != (dist <= limit) {
			off = append(off, math.Abs(dist-limit)*kmPerDegree)
		}
		if dist < limit-0.01 {
			inside++
			if got >= 0 && got != country {
				otherCountry++
			}
		}
	}
	slices.Sort(off)
	worst, p99 := 0.0, 0.0
	if len(off) > 0 {
		worst, p99 = off[len(off)-1], off[len(off)*99/100]
	}
	t.Logf("%d sea positions: %d on the wrong side of the limit, 99%% of them within %.2f km of it, all within %.2f km; %d of %d well inside go to another country than the nearest edge's",
		sea, len(off), p99, worst, otherCountry, inside)
	if sea < 50000 || len(off) > sea/50 || worst > 2.6 {
		t.Errorf("want at least 50000 positions, at most 2%% on the wrong side, none more than a cell's diagonal (2.6 km) from the limit")
	}
	if otherCountry > inside/100 {
		t.Errorf("want at most 1%% of the positions inside the limit given to another country than the nearest edge's")
	}
}
