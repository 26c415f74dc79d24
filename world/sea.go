package world

// The territorial-sea grid: cell (col, row) covers longitudes
// [-180 + col/60, -180 + (col+1)/60) and latitudes [-90 + row/60,
// -90 + (row+1)/60); its centre is half a cell further on. Rows run from
// the South Pole north, columns from the antimeridian east.
const (
	// SeaTag is the tag of the territorial-sea section of a world file.
	SeaTag = 1
	// SeaPerDegree is the number of grid cells per degree: one cell is an
	// arc-minute, that is a nautical mile of latitude.
	SeaPerDegree = 60
	// SeaCols and SeaRows are the size of the grid.
	SeaCols = 360 * SeaPerDegree
	SeaRows = 180 * SeaPerDegree
	// SeaBeltMinutes is the breadth of the belt in arc-minutes of great
	// circle: 12 nautical miles.
	SeaBeltMinutes = 12
)

// Sea stores the grid in square blocks of seaBlock × seaBlock cells: most
// blocks hold one owner (open sea, inland, the inside of a belt), and only
// the blocks a coast, a belt's outer limit or a border crosses keep a
// palette and a byte per cell.
const (
	seaBlock      = 15
	seaBlockCols  = SeaCols / seaBlock
	seaBlockRows  = SeaRows / seaBlock
	seaBlockCells = seaBlock * seaBlock
	seaUniform    = 1 << 31   // flags a block entry that holds an owner
	seaMaxRegions = 1<<16 - 1 // owner+1 is stored in 16 bits
)

// Sea is the territorial sea of every country and territory of a data set:
// the waters within 12 nautical miles of its coast, on a grid of one
// arc-minute (about 1.85 km north-south). It is immutable and safe for
// concurrent use. A nil *Sea, like the zero Sea, holds no territorial sea.
//
// Definition. A cell whose centre lies in a country's land is a land cell
// of that country; so is a cell whose centre lies in no country but which
// holds a vertex of a country's boundary (the nearest such vertex decides),
// so that islands smaller than a cell keep their belt. Every other cell
// belongs to the country of the land cell nearest to it, centre to centre,
// if that one is within 12 nautical miles, and to none otherwise. Distances
// are great circles on a sphere on which a nautical mile is an arc-minute
// (radius 6366.7 km): 12 nautical miles are 22.224 km. Where two land cells
// are equally near, the country with the smaller index wins. Lakes and
// enclosed seas that are not part of a country's land, such as the Caspian,
// get belts like any sea, and their middle belongs to no one.
//
// Land takes precedence: callers decide land by the country polygons and
// ask the Sea only where no country's land contains the point. A point in a
// land cell that no polygon contains is at the water's edge, and the Sea
// gives it that land's country.
//
// Accuracy. Coasts are snapped to cell centres and positions to their
// cell, so the limit is off by at most a cell's diagonal (2.6 km) where the
// coast's vertices lie no farther apart than a cell. At 68,000 sea positions
// near the 1:10m coasts it came out within 1.7 km of the 12 nm line
// measured from the polygons, 99% within 1.4 km (TestSeaAccuracy). Where
// two countries' belts meet, the nearer coast wins: an approximation of the
// median line.
//
// No maritime-boundary treaty data is used; straits narrower than 24 nm are
// split between their shores, archipelagic baselines are ignored, and
// disputed waters go to whichever coast the boundary data draws nearer.
type Sea struct {
	// blocks holds, for each block in row-major order from the south,
	// seaUniform | owner+1 if every cell of the block has that owner (0 for
	// none), else the index m of a mixed block.
	blocks []uint32
	// cells[by] holds seaBlockCells palette indices, row-major, for each
	// mixed block of row by of blocks, whose first one is mixed block
	// first[by].
	cells [][]uint8
	first []uint32
	// The palette of mixed block m is pal[palStart[m]:palStart[m+1]], each
	// entry owner+1.
	palStart []uint32
	pal      []uint16
}

// Owner returns the index in Data.Countries of the country whose
// territorial sea (or land cell, see Sea) holds the position, or -1 for
// the high seas. Longitude 180 is the same as -180, and latitude 90 lies in
// the northernmost row. A coordinate that is NaN or outside [-180, 180] or
// [-90, 90] gives -1. Owner neither allocates nor locks.
func (s *Sea) Owner(lon, lat float64) int {
	if s == nil || len(s.blocks) == 0 || !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return -1
	}
	col := int((lon + 180) * SeaPerDegree)
	if col >= SeaCols {
		col -= SeaCols
	}
	row := min(int((lat+90)*SeaPerDegree), SeaRows-1)
	return s.cell(col, row) - 1
}

// cell returns owner+1 of a cell, or 0; col and row must be on the grid.
func (s *Sea) cell(col, row int) int {
	e := s.blocks[row/seaBlock*seaBlockCols+col/seaBlock]
	if e&seaUniform != 0 {
		return int(e &^ seaUniform)
	}
	by := row / seaBlock
	k := s.cells[by][int(e-s.first[by])*seaBlockCells+row%seaBlock*seaBlock+col%seaBlock]
	return int(s.pal[s.palStart[e]+uint32(k)])
}

// Size returns the number of bytes the Sea holds on the heap.
func (s *Sea) Size() int {
	n := 4*cap(s.blocks) + 24*cap(s.cells) + 4*cap(s.first) + 4*cap(s.palStart) + 2*cap(s.pal)
	for _, c := range s.cells {
		n += cap(c)
	}
	return n
}

// MixedBlocks returns the number of blocks that more than one owner shares.
func (s *Sea) MixedBlocks() int { return max(len(s.palStart)-1, 0) }
