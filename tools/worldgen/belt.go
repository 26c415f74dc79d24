package main

import (
	"math"
	"runtime"
)

// The belts are computed with great-circle distances between cell centres,
// compared as haversines (hav θ = sin²(θ/2)) on the unit sphere:
//
//	hav θ = hav Δlat + cos lat1 · cos lat2 · hav Δlon
//
// The limit is the haversine of beltCells arc-minutes, computed the same way
// as the term for beltCells rows, so that the cell exactly beltCells rows
// north or south of a land cell is inside. Each product is rounded before
// the sum (an explicit conversion), so that no platform fuses it and the
// output is the same everywhere.

// noLand marks a row without land in gaps.
const noLand = math.MaxUint16

// gaps holds, for one row, the distance in cells from every column to the
// nearest land cell at or west of it and at or east of it, cyclically, or
// noLand if the row has none.
type gaps struct {
	west, east []uint16
}

func newGaps() *gaps { return &gaps{west: make([]uint16, cols), east: make([]uint16, cols)} }

// fill computes the gaps of row r.
func (gp *gaps) fill(g *seaGrid, r int) {
	first := -1
	for c := range cols {
		if g.isLand(r, c) {
			first = c
			break
		}
	}
	if first < 0 {
		gp.west[0] = noLand
		return
	}
	run := 0
	for i := range cols {
		c := (first + i) % cols
		if g.isLand(r, c) {
			run = 0
		}
		gp.west[c] = uint16(run)
		run++
	}
	run = 0
	for i := range cols {
		c := (first + cols - i) % cols
		if g.isLand(r, c) {
			run = 0
		}
		gp.east[c] = uint16(run)
		run++
	}
}

func (gp *gaps) empty() bool { return gp.west[0] == noLand }

// metric holds the haversine tables.
type metric struct {
	hav    []float64 // hav of 0 .. cols/2 cells of longitude
	dlat   [2*beltCells + 1]float64
	cosLat []float64 // cos of every row's latitude
	limit  float64
}

func newMetric() *metric {
	m := &metric{hav: make([]float64, cols/2+1), cosLat: make([]float64, rows)}
	cell := math.Pi / 180 / perDegree
	h := func(x float64) float64 {
		s := math.Sin(x / 2)
		return s * s
	}
	for dc := range m.hav {
		m.hav[dc] = h(float64(dc) * cell)
	}
	for k := range m.dlat {
		m.dlat[k] = h(float64(k-beltCells) * cell)
	}
	for r := range m.cosLat {
		m.cosLat[r] = math.Cos(cellLat(r) * math.Pi / 180)
	}
	m.limit = m.dlat[0]
	return m
}

// dist returns the haversine between the centres of a cell in row r and one
// in row r+k-beltCells, dc columns apart.
func (m *metric) dist(r, k, dc int) float64 {
	b := m.cosLat[r] * m.cosLat[r+k-beltCells]
	return m.dlat[k] + float64(b*m.hav[dc])
}

// reach returns, for row r and each row offset k, a number of columns
// beyond which no cell of row r+k-beltCells is within the limit: one more
// than the largest such offset found by bisection, in case rounding makes
// the haversine not quite monotonic. Rows off the grid get -1.
func (m *metric) reach(r int, out *[2*beltCells + 1]int) {
	for k := range out {
		if r2 := r + k - beltCells; r2 < 0 || r2 >= rows {
			out[k] = -1
			continue
		}
		lo, hi := 0, len(m.hav) // dist(lo) <= limit < dist(hi), hi virtual
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if m.dist(r, k, mid) <= m.limit {
				lo = mid
			} else {
				hi = mid
			}
		}
		out[k] = min(lo+1, len(m.hav)-1)
	}
}

// belts gives every sea cell within the limit of a land cell the owner of
// the nearest land cell (ties: the smaller region index) and returns how
// many it gave. The nearest land cell in any row is the nearest one west or
// east, so each sea cell looks at two cells in each of 2·beltCells+1 rows.
// Each goroutine fills a band of rows; it reads the land of any row but
// writes only the sea cells of its own.
func (g *seaGrid) belts() int {
	m := newMetric()
	counts := make([]int, runtime.GOMAXPROCS(0))
	parallel(func(w, n int) {
		lo, hi := w*rows/n, (w+1)*rows/n
		// window[r % len(window)] holds the gaps of row r while r is in
		// reach.
		var window [2*beltCells + 1]*gaps
		for i := range window {
			window[i] = newGaps()
		}
		filled := max(lo-beltCells, 0) - 1 // the last row in window
		var reach [2*beltCells + 1]int
		for r := lo; r < hi; r++ {
			for ; filled < min(r+beltCells, rows-1); filled++ {
				window[(filled+1)%len(window)].fill(g, filled+1)
			}
			m.reach(r, &reach)
			for c := range cols {
				if g.isLand(r, c) {
					continue
				}
				best, who := math.Inf(1), uint16(0)
				for k, lim := range reach {
					r2 := r + k - beltCells
					if lim < 0 {
						continue
					}
					gp := window[r2%len(window)]
					if gp.empty() {
						continue
					}
					if dw := int(gp.west[c]); dw <= lim {
						best, who = g.nearer(m, r, k, dw, r2, (c-dw+cols)%cols, best, who)
					}
					if de := int(gp.east[c]); de <= lim {
						best, who = g.nearer(m, r, k, de, r2, (c+de)%cols, best, who)
					}
				}
				if who != 0 {
					g.owner[r*cols+c] = who
					counts[w]++
				}
			}
		}
	})
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}

// nearer compares the land cell (r2, c2), dc columns and k-beltCells rows
// from a cell of row r, with the best so far.
func (g *seaGrid) nearer(m *metric, r, k, dc, r2, c2 int, best float64, who uint16) (float64, uint16) {
	h := m.dist(r, k, dc)
	if h > m.limit {
		return best, who
	}
	if o := g.owner[r2*cols+c2]; h < best || h == best && o < who {
		return h, o
	}
	return best, who
}
