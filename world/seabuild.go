package world

import (
	"errors"
	"fmt"
)

// SeaBuilder makes a Sea from runs of cells, in the order of the grid's
// cells: row by row from the south, each row from the antimeridian east. A
// run may go on from the end of one row to the start of the next. The zero
// SeaBuilder is not usable; call NewSeaBuilder.
type SeaBuilder struct {
	regions int
	sea     *Sea
	next    int // cells added so far
	last    int // owner+1 of the last run, or -1 before the first
	// The segments of each row of the current row of blocks: segment i
	// runs from segment i-1's end (or 0) to its own end.
	rows [seaBlock][]segment
	// Scratch space for flushing a row of blocks.
	val     [seaBlockCols]uint16
	mixed   [seaBlockCols]bool
	next1   [seaBlockCols + 1]int  // the first mixed block at or after each
	palette [seaBlockCols][]uint16 // of each mixed block
	cells   [seaBlockCols][]uint8  // of each mixed block, in Sea.cells
}

type segment struct {
	end   int
	owner uint16 // owner+1
}

// NewSeaBuilder returns a builder for a Sea over regions countries: owners
// run from 0 to regions-1.
func NewSeaBuilder(regions int) *SeaBuilder {
	return &SeaBuilder{regions: regions, last: -1, sea: &Sea{
		blocks:   make([]uint32, seaBlockCols*seaBlockRows),
		cells:    make([][]uint8, seaBlockRows),
		first:    make([]uint32, seaBlockRows),
		palStart: []uint32{0},
	}}
}

// Add appends a run of n cells with the given owner (-1 for none). It
// fails if n is not positive, if the run goes beyond the last cell, if the
// owner is out of range or if it is the owner of the previous run (runs
// are maximal, so that a Sea has one encoding).
func (b *SeaBuilder) Add(n, owner int) error {
	switch {
	case n <= 0 || n > SeaCols*SeaRows-b.next:
		return fmt.Errorf("run of %d cells after %d of %d", n, b.next, SeaCols*SeaRows)
	case owner < -1 || owner >= b.regions || owner >= seaMaxRegions:
		return fmt.Errorf("owner %d is not a region (there are %d)", owner, b.regions)
	case owner+1 == b.last:
		return fmt.Errorf("owner %d repeats the previous run's", owner)
	}
	b.last = owner + 1
	for n > 0 {
		row, col := b.next/SeaCols, b.next%SeaCols
		take := min(n, SeaCols-col)
		y := row % seaBlock
		b.rows[y] = append(b.rows[y], segment{end: col + take, owner: uint16(owner + 1)})
		b.next += take
		n -= take
		if col+take == SeaCols && y == seaBlock-1 {
			b.flush(row / seaBlock)
		}
	}
	return nil
}

// Sea returns the Sea once every cell has been added.
func (b *SeaBuilder) Sea() (*Sea, error) {
	if b.next != SeaCols*SeaRows {
		return nil, fmt.Errorf("%d cells of %d", b.next, SeaCols*SeaRows)
	}
	if b.sea == nil {
		return nil, errors.New("Sea called twice")
	}
	s := b.sea
	b.sea = nil
	return s, nil
}

// flush stores row by of blocks, whose rows of segments are complete.
//
// A block is uniform unless a segment of one of its rows ends inside it
// (not on its eastern edge) or one of its rows differs somewhere in it from
// its first row. Comparing each row with the first, segment by segment,
// finds the second case in time proportional to the segments and the mixed
// blocks, not to the cells.
func (b *SeaBuilder) flush(by int) {
	clear(b.mixed[:])
	for y, segs := range b.rows {
		start := 0
		for _, sg := range segs {
			if sg.end%seaBlock != 0 {
				b.mixed[sg.end/seaBlock] = true
			}
			if y == 0 {
				for bx := (start + seaBlock - 1) / seaBlock; bx < sg.end/seaBlock; bx++ {
					b.val[bx] = sg.owner
				}
			}
			start = sg.end
		}
		if y > 0 {
			b.markDifferences(b.rows[0], segs)
		}
	}
	s := b.sea
	first := uint32(len(s.palStart) - 1) // the index of this row's first mixed block
	m := first                           // of the next one
	b.next1[seaBlockCols] = seaBlockCols
	for bx := seaBlockCols - 1; bx >= 0; bx-- {
		b.next1[bx] = b.next1[bx+1]
		if b.mixed[bx] {
			b.next1[bx] = bx
		}
	}
	here := make([]uint8, 0, seaBlockCells*countTrue(b.mixed[:]))
	for bx := range seaBlockCols {
		e := uint32(seaUniform) | uint32(b.val[bx])
		if b.mixed[bx] {
			e = m
			m++
			b.palette[bx] = b.palette[bx][:0]
			b.cells[bx] = here[len(here) : len(here)+seaBlockCells]
			here = here[:len(here)+seaBlockCells]
		}
		s.blocks[by*seaBlockCols+bx] = e
	}
	s.cells[by], s.first[by] = here, first
	for y, segs := range b.rows {
		start := 0
		for _, sg := range segs {
			for bx := b.next1[start/seaBlock]; bx*seaBlock < sg.end; bx = b.next1[bx+1] {
				k := paletteIndex(&b.palette[bx], sg.owner)
				x0 := bx*seaBlock - y*seaBlock // cell (x, y) of the block is b.cells[bx][x-x0]
				cells := b.cells[bx][max(start, bx*seaBlock)-x0 : min(sg.end, bx*seaBlock+seaBlock)-x0]
				for i := range cells {
					cells[i] = k
				}
			}
			start = sg.end
		}
		b.rows[y] = segs[:0]
	}
	for bx := range seaBlockCols {
		if b.mixed[bx] {
			s.pal = append(s.pal, b.palette[bx]...)
			s.palStart = append(s.palStart, uint32(len(s.pal)))
		}
	}
}

// markDifferences marks the blocks where the row segs differs from the row
// first.
func (b *SeaBuilder) markDifferences(first, segs []segment) {
	i, j, at := 0, 0, 0
	for at < SeaCols {
		end := min(first[i].end, segs[j].end)
		if first[i].owner != segs[j].owner {
			for bx := at / seaBlock; bx <= (end-1)/seaBlock; bx++ {
				b.mixed[bx] = true
			}
		}
		at = end
		if first[i].end == end {
			i++
		}
		if segs[j].end == end {
			j++
		}
	}
}

// paletteIndex returns the index of owner in the palette p, adding it if
// it is not there. A block has at most seaBlockCells owners, so the index
// fits a byte.
func paletteIndex(p *[]uint16, owner uint16) uint8 {
	for i, o := range *p {
		if o == owner {
			return uint8(i)
		}
	}
	*p = append(*p, owner)
	return uint8(len(*p) - 1)
}

// appendRuns appends the cells of s in the order of SeaBuilder as maximal
// runs: uvarint length, uvarint owner+1.
func (s *Sea) appendRuns(w *writer) {
	n, cur := 0, -1
	emit := func(k, v int) {
		if v == cur {
			n += k
			return
		}
		if n > 0 {
			w.uvarint(uint64(n))
			w.uvarint(uint64(cur))
		}
		n, cur = k, v
	}
	for row := range SeaRows {
		for bx := range seaBlockCols {
			if e := s.blocks[row/seaBlock*seaBlockCols+bx]; e&seaUniform != 0 {
				emit(seaBlock, int(e&^seaUniform))
				continue
			}
			for col := bx * seaBlock; col < bx*seaBlock+seaBlock; col++ {
				emit(1, s.cell(col, row))
			}
		}
	}
	emit(0, -1) // writes the last run
}

// maxOwner returns the largest owner+1 of any cell of s.
func (s *Sea) maxOwner() int {
	m := 0
	for _, e := range s.blocks {
		if e&seaUniform != 0 {
			m = max(m, int(e&^seaUniform))
		}
	}
	for _, o := range s.pal {
		m = max(m, int(o))
	}
	return m
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
