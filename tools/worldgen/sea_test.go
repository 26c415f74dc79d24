package main

import (
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/skyfence/skyfence/world"
)

// gridWithLand returns a grid of one row with land at the given columns.
func gridWithLand(cs ...int) *seaGrid {
	g := &seaGrid{land: make([]uint64, rowWords), owner: make([]uint16, cols)}
	for _, c := range cs {
		g.setLand(0, c, 0)
	}
	return g
}

func TestGaps(t *testing.T) {
	gp := newGaps()
	gp.fill(gridWithLand(5, cols-10), 0)
	for _, tc := range []struct{ col, west, east int }{
		{5, 0, 0},
		{6, 1, cols - 16},
		{0, 10, 5},       // the nearest land to the west is across the antimeridian
		{cols - 1, 9, 6}, // and to the east
		{cols - 10, 0, 0},
	} {
		if w, e := int(gp.west[tc.col]), int(gp.east[tc.col]); w != tc.west || e != tc.east {
			t.Errorf("col %d: west %d, east %d; want %d, %d", tc.col, w, e, tc.west, tc.east)
		}
	}
	gp.fill(gridWithLand(), 0)
	if !gp.empty() {
		t.Error("a row without land has gaps")
	}
}

func TestMetric(t *testing.T) {
	m := newMetric()
	var reach [2*beltCells + 1]int
	for _, tc := range []struct {
		lat    float64
		across int // the belt's half-breadth along the row, in cells
	}{
		{0, beltCells},
		{60, 2 * beltCells}, // cos 60° = 1/2
		{-75.5, 48},
	} {
		r := int(math.Floor((tc.lat + 90) * 60))
		m.reach(r, &reach)
		if got := reach[beltCells]; got != tc.across && got != tc.across+1 {
			t.Errorf("lat %v: reach along the row %d, want %d (or one more)", tc.lat, got, tc.across)
		}
		// The cell beltCells rows away in the same column is exactly at
		// the limit, so inside; the next one along the row is not.
		if m.dist(r, 0, 0) != m.limit || m.dist(r, 2*beltCells, 0) != m.limit {
			t.Errorf("lat %v: the cells %d rows north and south are not at the limit", tc.lat, beltCells)
		}
		if m.dist(r, 0, 1) <= m.limit {
			t.Errorf("lat %v: a cell beyond the limit is inside", tc.lat)
		}
	}
	m.reach(0, &reach)
	if reach[0] != -1 || reach[beltCells] < 0 {
		t.Errorf("reach of the southernmost row %v: want -1 for rows off the grid", reach)
	}
}

func TestCellOf(t *testing.T) {
	for _, tc := range []struct {
		lon, lat float64
		col, row int
	}{
		{-180, -90, 0, 0},
		{180, 90, 0, rows - 1},
		{179.999, 0, cols - 1, rows / 2},
		{181.5, 0.01, 90, rows / 2},
		{-181.5, -0.01, cols - 90, rows/2 - 1},
	} {
		if c, r := cellOf(tc.lon, tc.lat); c != tc.col || r != tc.row {
			t.Errorf("cellOf(%v, %v) = %d, %d; want %d, %d", tc.lon, tc.lat, c, r, tc.col, tc.row)
		}
	}
}

// TestSeaGrid recomputes the territorial sea of the embedded 1:110m data
// and checks that it is the embedded one, and that sampled cells agree with
// a brute-force search for the nearest land cell.
func TestSeaGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("computes a whole grid (about 15 s, 500 MB)")
	}
	b, err := os.ReadFile("../../world/data/countries-110m.bin")
	if err != nil {
		t.Fatal(err)
	}
	f, err := world.DecodeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := newSeaGrid(f)
	if err != nil {
		t.Fatal(err)
	}
	sea, err := g.sea(len(f.Regions))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sea, f.Sea) {
		t.Error("the territorial sea computed from the embedded land is not the embedded one: run worldgen")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for checked < 4000 {
		r, c := rng.IntN(rows), rng.IntN(cols)
		if g.isLand(r, c) || math.Abs(cellLat(r)) > 80 || checked%2 == 0 && g.owner[r*cols+c] == 0 {
			continue
		}
		checked++
		want, ok := nearestLand(g, r, c)
		if got := g.owner[r*cols+c]; ok && got != want {
			t.Errorf("cell (%d, %d) at %.4f, %.4f: owner+1 %d, brute force says %d", c, r, cellLon(c), cellLat(r), got, want)
		}
	}
}

// nearestLand returns owner+1 of the land cell nearest to cell (r, c)
// within the belt, or 0, by trying every cell that could be. It computes
// the great circle afresh; ok is false where the answer is within rounding
// of a tie or of the limit.
func nearestLand(g *seaGrid, r, c int) (owner uint16, ok bool) {
	rad := math.Pi / 180
	limit := float64(beltCells) / 60 * rad
	lat1 := cellLat(r) * rad
	span := int(float64(beltCells)/math.Cos(85*rad)) + 2 // columns; |lat| <= 80 + 0.2
	best, second := math.Inf(1), math.Inf(1)
	for r2 := max(r-beltCells, 0); r2 <= min(r+beltCells, rows-1); r2++ {
		lat2 := cellLat(r2) * rad
		for dc := -span; dc <= span; dc++ {
			c2 := (c + dc + cols) % cols
			if !g.isLand(r2, c2) {
				continue
			}
			h := math.Pow(math.Sin((lat2-lat1)/2), 2) + math.Cos(lat1)*math.Cos(lat2)*math.Pow(math.Sin(float64(dc)/60*rad/2), 2)
			d := 2 * math.Asin(math.Sqrt(h))
			o := g.owner[r2*cols+c2]
			switch {
			case d < best && o != owner:
				best, second, owner = d, best, o
			case d < best:
				best = d
			case o != owner:
				second = min(second, d)
			}
		}
	}
	const eps = 1e-12
	ok = math.Abs(best-limit) > eps && second-best > eps
	if best > limit {
		return 0, ok
	}
	return owner, ok
}
