package main

import (
	"fmt"
	"io"
	"math"

	"github.com/skyfence/skyfence/world"
)

// feature is a source feature with its rings cleaned: open, unwrapped,
// in RFC 7946 orientation, without repeated vertices.
type feature struct {
	Name, ID string
	Polygons []world.QPolygon
}

// ringStats counts what cleaning found, for the summary.
type ringStats struct {
	Jumps      map[string]int // antimeridian crossings unwrapped, by feature
	Polar      int            // rings that wind round a pole
	Dropped    int            // rings dropped for having fewer than 3 distinct vertices
	Widened    int            // collapsed rings widened into a box (see widen)
	ZeroArea   int            // rings kept although their area is zero
	Misorients int            // non-polar rings whose orientation after reversal is not RFC 7946's
}

// cleanFeatures cleans every ring of every feature. It reports on log each
// ring it drops and each ring of zero area it keeps, naming the feature.
func cleanFeatures(file string, raw []rawFeature, width int32, log io.Writer) ([]feature, ringStats) {
	st := ringStats{Jumps: map[string]int{}}
	out := make([]feature, 0, len(raw))
	for _, rf := range raw {
		f := feature{Name: rf.Name, ID: rf.ID}
		for j, p := range rf.Polygons {
			var poly world.QPolygon
			for k, closed := range p {
				ring, turns, jumps := cleanRing(closed, width)
				if jumps > 0 {
					st.Jumps[rf.Name] += jumps
				}
				if _, ok := widen[rf.Name]; ok && turns == 0 && (distinct(ring) < 3 || area2(ring) == 0) {
					ring = widenRing(ring, k > 0)
					st.Widened++
					fmt.Fprintf(log, "worldgen: %s: %s polygon %d ring %d: collapsed; widened to the box %v (codes.go widen)\n", file, rf.Name, j, k, ring)
				}
				if distinct(ring) < 3 {
					st.Dropped++
					what := "hole"
					if k == 0 {
						what = "exterior ring, and with it the polygon"
					}
					fmt.Fprintf(log, "worldgen: %s: %s polygon %d ring %d: dropped %s: %d distinct vertices\n", file, rf.Name, j, k, what, distinct(ring))
					if k == 0 {
						break
					}
					continue
				}
				if turns != 0 {
					st.Polar++
					poly = append(poly, ring)
					continue
				}
				a := area2(ring)
				if a == 0 {
					st.ZeroArea++
					fmt.Fprintf(log, "worldgen: %s: %s polygon %d ring %d: kept, but its %d vertices enclose zero area\n", file, rf.Name, j, k, len(ring))
				}
				if (k == 0) != (a > 0) && a != 0 {
					st.Misorients++
					fmt.Fprintf(log, "worldgen: %s: %s polygon %d ring %d: orientation after reversal is not RFC 7946's (twice the area %d)\n", file, rf.Name, j, k, a)
				}
				poly = append(poly, ring)
			}
			if len(poly) > 0 {
				f.Polygons = append(f.Polygons, recentre(poly, width))
			}
		}
		out = append(out, f)
	}
	return out, st
}

// cleanRing turns a closed ring in the source's form into an open ring in
// the stored form. It unwraps the ring: where consecutive x differ by more
// than half the world width, it adds or subtracts the width to that vertex
// and all following ones. It then drops the closing vertex and repeated
// vertices and reverses the ring (d3's clockwise exteriors become RFC 7946's
// counterclockwise ones). turns is the net change in x of the returned ring
// in world widths: 0 for an ordinary ring, +1 or -1 for one that winds round
// a pole, running east or west. jumps counts the unwrapped crossings.
func cleanRing(closed []world.QPoint, width int32) (ring world.QRing, turns, jumps int) {
	ring = make(world.QRing, 0, len(closed))
	var offset int32
	for i, q := range closed {
		if i > 0 {
			d := int64(q.X) - int64(closed[i-1].X)
			switch {
			case 2*d > int64(width):
				offset -= width
				jumps++
			case 2*d < -int64(width):
				offset += width
				jumps++
			}
		}
		q.X += offset
		ring = append(ring, q)
	}
	turns = int(offset / width)
	// The closing vertex repeats the first, one turn on for a polar ring.
	ring = dedupe(ring[:len(ring)-1])
	for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
		ring[i], ring[j] = ring[j], ring[i]
	}
	return ring, -turns, jumps
}

// recentre moves every ring of p by the same whole number of world widths
// so that the middle of the exterior ring's x range lies in [0, width),
// that is its middle longitude in [-180, 180). Unwrapping starts from a
// ring's first vertex, which can leave a whole ring a turn away (mainland
// Russia, starting on the Chukotka side of the antimeridian, would lie at
// -333 to -180 degrees). A polygon that winds round a pole stays as it is.
func recentre(p world.QPolygon, width int32) world.QPolygon {
	lo, hi := p[0][0].X, p[0][0].X
	for _, q := range p[0] {
		lo, hi = min(lo, q.X), max(hi, q.X)
	}
	if int64(hi)-int64(lo) >= int64(width) {
		return p
	}
	shift := -width * int32(math.Floor(float64(int64(lo)+int64(hi))/float64(2*int64(width))))
	if shift == 0 {
		return p
	}
	for _, r := range p {
		for i := range r {
			r[i].X += shift
		}
	}
	return p
}

// widenRing returns the box of r's vertices, grown by one quantum each way
// along an axis where it has no extent: counterclockwise, or clockwise for a
// hole.
func widenRing(r world.QRing, hole bool) world.QRing {
	lo, hi := r[0], r[0]
	for _, q := range r {
		lo.X, lo.Y = min(lo.X, q.X), min(lo.Y, q.Y)
		hi.X, hi.Y = max(hi.X, q.X), max(hi.Y, q.Y)
	}
	if lo.X == hi.X {
		lo.X, hi.X = lo.X-1, hi.X+1
	}
	if lo.Y == hi.Y {
		lo.Y, hi.Y = lo.Y-1, hi.Y+1
	}
	box := world.QRing{lo, {X: hi.X, Y: lo.Y}, hi, {X: lo.X, Y: hi.Y}}
	if hole {
		box[1], box[3] = box[3], box[1]
	}
	return box
}

// dedupe drops each vertex equal to the one before it, cyclically.
func dedupe(r world.QRing) world.QRing {
	out := r[:0]
	for _, q := range r {
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	for len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	return out
}

// distinct counts the distinct vertices of r.
func distinct(r world.QRing) int {
	seen := make(map[world.QPoint]bool, len(r))
	for _, q := range r {
		seen[q] = true
	}
	return len(seen)
}

// area2 returns twice the signed area of the open ring r in quantized
// units: positive if r runs counterclockwise (x east, y north). It is exact.
func area2(r world.QRing) int64 {
	var s int64
	for i, p := range r {
		q := r[(i+1)%len(r)]
		s += int64(p.X)*int64(q.Y) - int64(q.X)*int64(p.Y)
	}
	return s
}
