package main

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
)

// The territorial sea is computed on the grid of world.Sea, whose doc
// comment defines it; cell (col, row) has its centre at lon -180 +
// (col+0.5)/60, lat -90 + (row+0.5)/60.
const (
	perDegree = world.SeaPerDegree
	cols      = world.SeaCols
	rows      = world.SeaRows
	rowWords  = (cols + 63) / 64     // words of a row of the land bitmap
	beltCells = world.SeaBeltMinutes // the belt's breadth in rows
)

// seaGrid is the grid while it is computed: a bit per land cell (each row
// in whole words, so that goroutines working on different rows never share
// a word), and the owner+1 of every cell, or 0.
type seaGrid struct {
	land  []uint64
	owner []uint16
}

func (g *seaGrid) isLand(row, col int) bool {
	return g.land[row*rowWords+col>>6]>>(col&63)&1 != 0
}

func (g *seaGrid) setLand(row, col, region int) {
	g.land[row*rowWords+col>>6] |= 1 << (col & 63)
	g.owner[row*cols+col] = uint16(region + 1)
}

// seaStats says what computing the territorial sea found, for the summary.
type seaStats struct {
	Land, Stamped, Belt int // land cells, of which stamped vertex cells; belt cells
}

// newSeaGrid computes the land cells and the belts of the regions of f:
// region i is f.Regions[i].
func newSeaGrid(f *world.File) (*seaGrid, seaStats, error) {
	d := f.Data()
	ix, err := geoindex.Build(d.Shapes(), geoindex.Options{})
	if err != nil {
		return nil, seaStats{}, err
	}
	g := &seaGrid{land: make([]uint64, rows*rowWords), owner: make([]uint16, rows*cols)}
	var st seaStats
	if err := g.centres(ix); err != nil {
		return nil, st, err
	}
	st.Stamped = g.stampVertices(d)
	for _, w := range g.land {
		st.Land += bits.OnesCount64(w)
	}
	if err := g.checkPoles(); err != nil {
		return nil, st, err
	}
	st.Belt = g.belts()
	return g, st, nil
}

// parallel runs fn(w, n) for w in [0, n) on n goroutines, one per CPU, and
// waits for them.
func parallel(fn func(w, n int)) {
	n := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { fn(w, n) })
	}
	wg.Wait()
}

// centres makes every cell whose centre lies in a region a land cell of
// that region (of the smallest index, should regions overlap).
func (g *seaGrid) centres(ix *geoindex.Index) error {
	errs := make([]error, runtime.GOMAXPROCS(0))
	parallel(func(w, n int) {
		pts := make([]geoindex.Point, cols)
		ids := make([]geoindex.SetID, cols)
		for r := w; r < rows; r += n {
			for c := range pts {
				pts[c] = geoindex.Point{Lon: cellLon(c), Lat: cellLat(r)}
			}
			if err := ix.LookupBatch(pts, ids); err != nil {
				errs[w] = err
				return
			}
			for c, id := range ids {
				if id != 0 {
					g.setLand(r, c, int(ix.Regions(id)[0]))
				}
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func cellLon(c int) float64 { return -180 + (float64(c)+0.5)/perDegree }
func cellLat(r int) float64 { return -90 + (float64(r)+0.5)/perDegree }

// stamp is a candidate owner of a cell that holds boundary vertices.
type stamp struct {
	dist   float64 // squared distance from the cell centre, in degrees of latitude
	region int
}

// stampVertices makes a land cell of every cell whose centre is in no
// region but which holds a boundary vertex, so that islands smaller than a
// cell keep their belt. The cell goes to the region of the vertex nearest
// its centre (ties: the smaller index). It returns the number of such cells.
func (g *seaGrid) stampVertices(d *world.Data) int {
	type cell struct{ row, col int }
	stamps := map[cell]stamp{}
	for i, c := range d.Countries {
		for _, p := range c.Polygons {
			for _, ring := range p {
				for _, q := range ring {
					col, row := cellOf(q.Lon, q.Lat)
					if g.isLand(row, col) {
						continue
					}
					dx := q.Lon - cellLon(col)
					dx = (dx - 360*math.Round(dx/360)) * math.Cos(q.Lat*math.Pi/180)
					dy := q.Lat - cellLat(row)
					s := stamp{dist: dx*dx + dy*dy, region: i}
					k := cell{row, col}
					if old, ok := stamps[k]; !ok || s.dist < old.dist || s.dist == old.dist && s.region < old.region {
						stamps[k] = s
					}
				}
			}
		}
	}
	for k, s := range stamps {
		g.setLand(k.row, k.col, s.region)
	}
	return len(stamps)
}

// cellOf returns the cell of a position, lon taken modulo 360 and lat 90 in
// the last row.
func cellOf(lon, lat float64) (col, row int) {
	col = int(math.Floor((lon + 180) * perDegree))
	col = (col%cols + cols) % cols
	row = min(int(math.Floor((lat+90)*perDegree)), rows-1)
	return col, row
}

// checkPoles fails unless the belts may ignore the poles. A belt that
// reached over a pole would join two cells within beltCells rows of it,
// which the row scans of belts do not: so those rows must be all land
// around the South Pole (Antarctica) and all sea around the North Pole.
func (g *seaGrid) checkPoles() error {
	for r := range beltCells {
		for c := range cols {
			if !g.isLand(r, c) {
				return fmt.Errorf("sea at %.3f, %.3f, near the South Pole", cellLon(c), cellLat(r))
			}
			if n := rows - 1 - r; g.isLand(n, c) {
				return fmt.Errorf("land at %.3f, %.3f, near the North Pole", cellLon(c), cellLat(n))
			}
		}
	}
	return nil
}

// sea turns the grid into a world.Sea, run by run.
func (g *seaGrid) sea(regions int) (*world.Sea, error) {
	b := world.NewSeaBuilder(regions)
	start := 0
	for i := 1; i <= len(g.owner); i++ {
		if i == len(g.owner) || g.owner[i] != g.owner[start] {
			if err := b.Add(i-start, int(g.owner[start])-1); err != nil {
				return nil, err
			}
			start = i
		}
	}
	return b.Sea()
}
