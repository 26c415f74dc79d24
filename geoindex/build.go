package geoindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Options tune the index's shape. The zero value gives the defaults.
type Options struct {
	// GridLevels sets the flat grid to 2·4^GridLevels × 4^GridLevels cells;
	// default 5 (2048 × 1024 cells of about 0.18 degrees).
	GridLevels int
	// LeafEdges is the number of edges at or below which a cell is not
	// split further; default 4.
	LeafEdges int
	// MaxDepth is the number of 4×4 splits allowed below the grid; default
	// 9 (cells of about 0.7 m at the equator with the default grid).
	MaxDepth int
}

func (o Options) withDefaults() Options {
	if o.GridLevels <= 0 {
		o.GridLevels = 5
	}
	o.GridLevels = max(o.GridLevels, 2) // room for the coarse summary
	if o.LeafEdges <= 0 {
		o.LeafEdges = 4
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 9
	}
	return o
}

const (
	// leafGroups is the most regions a leaf may have edges of before it is
	// split further; maxGroups the most allowed at the deepest level.
	leafGroups = 8
	maxGroups  = 16
	// margin widens every cell when deciding which edges it keeps, so that
	// rounding in locating a point's cell can never put a crossing edge out
	// of the cell's reach.
	margin = 1e-9
)

type bedge struct {
	ax, ay, bx, by float64
	region         int32
}

type rect struct{ x0, y0, x1, y1 float64 }

type builder struct {
	opt     Options
	edges   []bedge
	ix      *Index
	setKeys map[string]SetID
	key     []byte
	regs    []int32  // scratch
	masks   []uint16 // scratch
}

// Build indexes the shapes; region i of every answer is shapes[i]. It
// returns a *GeometryError naming the shape, polygon, ring and vertex for
// invalid input, and an error if more than 16 regions' boundaries meet
// within one cell of the deepest level.
func Build(shapes []Shape, opt Options) (*Index, error) {
	opt = opt.withDefaults()
	if len(shapes) >= 1<<31 {
		return nil, fmt.Errorf("too many shapes: %d", len(shapes))
	}
	b := &builder{opt: opt, setKeys: map[string]SetID{}}
	for i, s := range shapes {
		rings, err := Normalize(s)
		if err != nil {
			return nil, err
		}
		for _, r := range rings {
			for j, a := range r {
				c := r[(j+1)%len(r)]
				if a != c {
					b.edges = append(b.edges, bedge{a.Lon, a.Lat, c.Lon, c.Lat, int32(i)})
				}
			}
		}
	}
	side := 1 << (2 * opt.GridLevels) // grid cells along a meridian
	b.ix = &Index{
		gridW:   2 * side,
		gridH:   side,
		cellW:   360 / float64(2*side),
		cellH:   180 / float64(side),
		invW:    float64(2*side) / 360,
		invH:    float64(side) / 180,
		grid:    make([]uint32, 2*side*side),
		regions: len(shapes),
	}
	b.intern(nil) // SetID 0 is the empty set
	all := make([]int32, len(b.edges))
	for i := range all {
		all[i] = int32(i)
	}
	world := rect{-180, -90, 180, 90}
	ref, err := b.chooseRef(world, all)
	if err != nil {
		return nil, err
	}
	state := b.crossingState(ref)
	halves, err := b.split(world, 2, 1, all, ref, state)
	if err != nil {
		return nil, err
	}
	// The two hemispheres are built at once, by two builders that share
	// the grid (each writes its own half) and start from the sets known so
	// far; the east's nodes, leaves and sets are then appended to the
	// west's.
	east := b.fork()
	errs := make(chan error, 1)
	go func() { errs <- east.top(halves[1], side, 0, side) }()
	werr := b.top(halves[0], 0, 0, side)
	if eerr := <-errs; werr == nil {
		werr = eerr
	}
	if werr != nil {
		return nil, werr
	}
	b.merge(east, side)
	b.fillCoarse()
	return b.ix, nil
}

// fork returns a builder that builds into its own nodes, leaves and sets,
// starting from b's sets, and into b's grid.
func (b *builder) fork() *builder {
	ix := *b.ix
	ix.nodes, ix.leaves = nil, nil
	ix.sets = slices.Clone(b.ix.sets)
	f := &builder{opt: b.opt, edges: b.edges, ix: &ix, setKeys: make(map[string]SetID, len(b.setKeys))}
	for k, v := range b.setKeys {
		f.setKeys[k] = v
	}
	return f
}

// merge appends what f built for the grid columns from x0 on to b: its
// nodes and leaves after b's, its sets interned in b's, and every reference
// to them renumbered.
func (b *builder) merge(f *builder, x0 int) {
	ix := b.ix
	setOf := make([]SetID, len(f.ix.sets))
	for id, regs := range f.ix.sets {
		setOf[id] = b.intern(regs)
	}
	nodeOff, leafOff := uint32(len(ix.nodes)/16), uint32(len(ix.leaves))
	remap := func(ref uint32) uint32 {
		switch ref & tagMask {
		case tagSet:
			return uint32(setOf[ref])
		case tagNode:
			return (ref&valMask + nodeOff) | tagNode
		}
		return (ref&valMask + leafOff) | tagLeaf
	}
	for y := 0; y < ix.gridH; y++ {
		row := ix.grid[y*ix.gridW : (y+1)*ix.gridW]
		for x := x0; x < ix.gridW; x++ {
			row[x] = remap(row[x])
		}
	}
	for _, ref := range f.ix.nodes {
		ix.nodes = append(ix.nodes, remap(ref))
	}
	recs := f.ix.leaves
	for off := 0; off < len(recs); {
		n, g := int(recs[off]&0xffff), int(recs[off]>>16)
		table := off + leafHeader + 4*n
		if g > 1 {
			table += (n + 15) / 16
		}
		words := max(1, (1<<g)/2)
		for i := table; i < table+words; i++ {
			lo, hi := setOf[uint32(recs[i])], setOf[uint32(recs[i]>>32)]
			if g == 0 {
				hi = 0 // a one-entry table fills only the low half
			}
			recs[i] = uint64(lo) | uint64(hi)<<32
		}
		off = table + words
	}
	ix.leaves = append(ix.leaves, recs...)
}

// fillCoarse summarises the grid in blocks of coarseSide × coarseSide.
func (b *builder) fillCoarse() {
	ix := b.ix
	k := 1 << coarseShift
	w, h := ix.gridW/k, ix.gridH/k
	ix.coarse = make([]uint32, w*h)
	for cy := 0; cy < h; cy++ {
		for cx := 0; cx < w; cx++ {
			v := ix.grid[cy*k*ix.gridW+cx*k]
			for y := cy * k; y < (cy+1)*k; y++ {
				for x := cx * k; x < (cx+1)*k; x++ {
					if ix.grid[y*ix.gridW+x] != v {
						v = tagNode
					}
				}
			}
			if v&tagMask != tagSet {
				v = tagNode
			}
			ix.coarse[cy*w+cx] = v
		}
	}
}

type child struct {
	r     rect
	edges []int32
	ref   Point
	state SetID
}

// top fills the grid cells [gx, gx+n) × [gy, gy+n) from cell c.
func (b *builder) top(c child, gx, gy, n int) error {
	ix := b.ix
	if len(c.edges) == 0 || n == 1 {
		ref := uint32(c.state) | tagSet
		if len(c.edges) > 0 {
			var err error
			if ref, err = b.cell(c, 0); err != nil {
				return err
			}
		}
		for y := gy; y < gy+n; y++ {
			for x := gx; x < gx+n; x++ {
				ix.grid[y*ix.gridW+x] = ref
			}
		}
		return nil
	}
	kids, err := b.split(c.r, 4, 4, c.edges, c.ref, c.state)
	if err != nil {
		return err
	}
	q := n / 4
	for i, k := range kids {
		if err := b.top(k, gx+(i%4)*q, gy+(i/4)*q, q); err != nil {
			return err
		}
	}
	return nil
}

// cell returns the reference for a cell crossed by edges: a leaf, or a node
// of 16 children.
func (b *builder) cell(c child, depth int) (uint32, error) {
	groups := b.groups(c.edges)
	if (len(c.edges) <= b.opt.LeafEdges && len(groups) <= leafGroups) || depth == b.opt.MaxDepth {
		if len(groups) > maxGroups {
			return 0, fmt.Errorf("%d regions have boundaries within the cell lon [%v, %v] lat [%v, %v]; at most %d may meet so closely",
				len(groups), c.r.x0, c.r.x1, c.r.y0, c.r.y1, maxGroups)
		}
		return b.leaf(c, groups)
	}
	kids, err := b.split(c.r, 4, 4, c.edges, c.ref, c.state)
	if err != nil {
		return 0, err
	}
	ix := b.ix
	node := len(ix.nodes) / 16
	if node > valMask {
		return 0, fmt.Errorf("index too large: more than %d nodes", valMask)
	}
	ix.nodes = append(ix.nodes, make([]uint32, 16)...)
	for i, k := range kids {
		ref := uint32(k.state) | tagSet
		if len(k.edges) > 0 {
			if ref, err = b.cell(k, depth+1); err != nil {
				return 0, err
			}
		}
		ix.nodes[node*16+i] = ref
	}
	return uint32(node) | tagNode, nil
}

func (b *builder) leaf(c child, groups []int32) (uint32, error) {
	ix := b.ix
	off := len(ix.leaves)
	if off > valMask || len(c.edges) > leafMaxEdges {
		return 0, fmt.Errorf("index too large near lon %v lat %v", c.ref.Lon, c.ref.Lat)
	}
	ix.leaves = append(ix.leaves, uint64(len(c.edges))|uint64(len(groups))<<16,
		math.Float64bits(c.ref.Lon), math.Float64bits(c.ref.Lat))
	for _, ei := range c.edges {
		e := b.edges[ei]
		if orient(e.ax, e.ay, e.bx, e.by, c.ref.Lon, c.ref.Lat) < 0 {
			e.ax, e.ay, e.bx, e.by = e.bx, e.by, e.ax, e.ay
		}
		ix.leaves = append(ix.leaves, math.Float64bits(e.ax), math.Float64bits(e.ay), math.Float64bits(e.bx), math.Float64bits(e.by))
	}
	if len(groups) > 1 {
		meta := make([]uint64, (len(c.edges)+15)/16)
		for i, ei := range c.edges {
			bit, _ := slices.BinarySearch(groups, b.edges[ei].region)
			meta[i/16] |= uint64(bit) << (i % 16 * 4)
		}
		ix.leaves = append(ix.leaves, meta...)
	}
	base := ix.sets[c.state]
	var pair uint64
	for m := 0; m < 1<<len(groups); m++ {
		b.regs = b.regs[:0]
		for i, g := range groups {
			if m&(1<<i) != 0 {
				b.regs = append(b.regs, g)
			}
		}
		id := uint64(b.intern(symDiff(base, b.regs)))
		if m%2 == 0 {
			pair = id
		} else {
			ix.leaves = append(ix.leaves, pair|id<<32)
		}
	}
	if len(groups) == 0 {
		ix.leaves = append(ix.leaves, pair)
	}
	return uint32(off) | tagLeaf, nil
}

// groups returns the distinct regions of the edges, sorted.
func (b *builder) groups(edges []int32) []int32 {
	var g []int32
	for _, ei := range edges {
		r := b.edges[ei].region
		if !slices.Contains(g, r) {
			g = append(g, r)
		}
	}
	slices.Sort(g)
	return g
}

// split divides r into kx × ky children (row by row from the south-west),
// giving each the edges that touch it, a reference point and its set,
// derived from the parent's reference point ref whose set is state.
func (b *builder) split(r rect, kx, ky int, edges []int32, ref Point, state SetID) ([]child, error) {
	kids := make([]child, kx*ky)
	w, h := (r.x1-r.x0)/float64(kx), (r.y1-r.y0)/float64(ky)
	for j := 0; j < ky; j++ {
		for i := 0; i < kx; i++ {
			c := &kids[j*kx+i]
			c.r = rect{r.x0 + float64(i)*w, r.y0 + float64(j)*h, r.x0 + float64(i+1)*w, r.y0 + float64(j+1)*h}
			if i == kx-1 {
				c.r.x1 = r.x1
			}
			if j == ky-1 {
				c.r.y1 = r.y1
			}
		}
	}
	// Find each edge's children once, count, then fill one shared array.
	var count [16]int
	masks := b.masks[:0]
	for _, ei := range edges {
		m := b.childMask(&b.edges[ei], r, kx, ky, w, h)
		masks = append(masks, m)
		for k := range kids {
			count[k] += int(m >> k & 1)
		}
	}
	b.masks = masks
	total := 0
	for _, c := range count[:len(kids)] {
		total += c
	}
	all := make([]int32, 0, total)
	for k := range kids {
		kids[k].edges = all[len(all) : len(all) : len(all)+count[k]]
		all = all[:len(all)+count[k]]
	}
	for i, ei := range edges {
		for m := masks[i]; m != 0; m &= m - 1 {
			k := bits.TrailingZeros16(m)
			kids[k].edges = append(kids[k].edges, ei)
		}
	}
	for i := range kids {
		c := &kids[i]
		var err error
		if c.ref, err = b.chooseRef(c.r, c.edges); err != nil {
			return nil, err
		}
		// Walk from the parent's reference point to the first child, then
		// from child to neighbouring child: the segment between two
		// neighbours' points lies in the two cells, so only their edges can
		// cross it.
		switch {
		case i == 0:
			c.state = b.propagate(ref, state, c.ref, edges)
		case i%kx == 0:
			c.state = b.propagateFrom(&kids[i-kx], c, edges)
		default:
			c.state = b.propagateFrom(&kids[i-1], c, edges)
		}
	}
	return kids, nil
}

// childMask returns the children of r (kx × ky cells of w × h) that edge e
// may come within margin of, as a bit mask by child number. Column by
// column it takes the latitudes the edge spans within the column's margin;
// it errs only towards including a child.
func (b *builder) childMask(e *bedge, r rect, kx, ky int, w, h float64) uint16 {
	minX, maxX := min(e.ax, e.bx), max(e.ax, e.bx)
	i0 := clampInt(int((minX-margin-r.x0)/w)-1, 0, kx-1)
	i1 := clampInt(int((maxX+margin-r.x0)/w)+1, 0, kx-1)
	var m uint16
	for i := i0; i <= i1; i++ {
		xa := max(r.x0+float64(i)*w-margin, minX)
		xb := min(r.x0+float64(i+1)*w+margin, maxX)
		if xa > xb {
			continue
		}
		ylo, yhi := min(e.ay, e.by), max(e.ay, e.by)
		if e.ax != e.bx {
			ya := e.ay + (xa-e.ax)/(e.bx-e.ax)*(e.by-e.ay)
			yb := e.ay + (xb-e.ax)/(e.bx-e.ax)*(e.by-e.ay)
			ylo, yhi = max(min(ya, yb), ylo), min(max(ya, yb), yhi)
		}
		j0 := clampInt(int((ylo-margin-r.y0)/h), 0, ky-1)
		j1 := clampInt(int((yhi+margin-r.y0)/h), 0, ky-1)
		for j := j0; j <= j1; j++ {
			if y0 := r.y0 + float64(j)*h; ylo <= y0+h+margin && yhi >= y0-margin {
				m |= 1 << (j*kx + i)
			}
		}
	}
	return m
}

// propagateFrom derives the set at c's reference point from that of its
// neighbour n, falling back to the parent's edges if n's point lies on the
// line of one of c's edges.
func (b *builder) propagateFrom(n, c *child, parentEdges []int32) SetID {
	for _, ei := range c.edges {
		e := &b.edges[ei]
		if orient(e.ax, e.ay, e.bx, e.by, n.ref.Lon, n.ref.Lat) == 0 {
			return b.propagate(n.ref, n.state, c.ref, parentEdges)
		}
	}
	s := b.propagate(n.ref, n.state, c.ref, n.edges)
	return b.propagateMore(n.ref, s, c.ref, c.edges, n.edges)
}

// chooseRef picks a point inside r that lies on the line of none of the
// edges: the centre if it will do, else a point nearby.
func (b *builder) chooseRef(r rect, edges []int32) (Point, error) {
	w, h := r.x1-r.x0, r.y1-r.y0
	for k := 0; k < 64; k++ {
		// A fixed, irregular walk away from the centre.
		fx := 0.5 + 0.45*math.Sin(float64(k)*2.399963)*float64(k)/64
		fy := 0.5 + 0.45*math.Cos(float64(k)*2.399963)*float64(k)/64
		p := Point{r.x0 + fx*w, r.y0 + fy*h}
		ok := true
		for _, ei := range edges {
			e := &b.edges[ei]
			if orient(e.ax, e.ay, e.bx, e.by, p.Lon, p.Lat) == 0 {
				ok = false
				break
			}
		}
		if ok {
			return p, nil
		}
	}
	return Point{}, fmt.Errorf("no reference point off every edge line in the cell lon [%v, %v] lat [%v, %v]", r.x0, r.x1, r.y0, r.y1)
}

// propagate returns the set at q given the set at ref, which lies on the line
// of none of the edges; every edge that the segment q-ref may cross must be
// among edges.
func (b *builder) propagate(ref Point, state SetID, q Point, edges []int32) SetID {
	return b.propagateMore(ref, state, q, edges, nil)
}

// propagateMore is propagate over the edges not in skip, which is sorted.
func (b *builder) propagateMore(ref Point, state SetID, q Point, edges, skip []int32) SetID {
	b.regs = b.regs[:0]
	minX, maxX := min(ref.Lon, q.Lon), max(ref.Lon, q.Lon)
	minY, maxY := min(ref.Lat, q.Lat), max(ref.Lat, q.Lat)
	for _, ei := range edges {
		e := &b.edges[ei]
		if max(e.ax, e.bx) < minX || min(e.ax, e.bx) > maxX || max(e.ay, e.by) < minY || min(e.ay, e.by) > maxY {
			continue
		}
		if _, seen := slices.BinarySearch(skip, ei); seen {
			continue
		}
		if orientPerturbed(e.ax, e.ay, e.bx, e.by, q.Lon, q.Lat) == orient(e.ax, e.ay, e.bx, e.by, ref.Lon, ref.Lat) {
			continue
		}
		if segmentSide(q.Lon, q.Lat, ref.Lon, ref.Lat, e.ax, e.ay) != segmentSide(q.Lon, q.Lat, ref.Lon, ref.Lat, e.bx, e.by) {
			b.regs = append(b.regs, e.region)
		}
	}
	if len(b.regs) == 0 {
		return state
	}
	return b.intern(symDiff(b.ix.sets[state], oddOnes(b.regs)))
}

// crossingState returns the set at p by the crossing test over every edge.
func (b *builder) crossingState(p Point) SetID {
	b.regs = b.regs[:0]
	for i := range b.edges {
		e := &b.edges[i]
		if crossesEastRay(e.ax, e.ay, e.bx, e.by, p.Lon, p.Lat) {
			b.regs = append(b.regs, e.region)
		}
	}
	return b.intern(oddOnes(b.regs))
}

// crossesEastRay reports whether the edge a-b crosses the ray going east
// from p, counting a vertex as lying below the ray (the half-open rule).
func crossesEastRay(ax, ay, bx, by, px, py float64) bool {
	if (ay > py) == (by > py) {
		return false
	}
	s := orient(ax, ay, bx, by, px, py)
	if by > ay {
		return s > 0
	}
	return s < 0
}

// oddOnes sorts regs and keeps the regions that occur an odd number of
// times, in place.
func oddOnes(regs []int32) []int32 {
	slices.Sort(regs)
	out := regs[:0]
	for i := 0; i < len(regs); {
		j := i
		for j < len(regs) && regs[j] == regs[i] {
			j++
		}
		if (j-i)%2 == 1 {
			out = append(out, regs[i])
		}
		i = j
	}
	return out
}

// symDiff returns the symmetric difference of two sorted sets as a new slice.
func symDiff(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// intern returns the id of the sorted set s, adding it if new.
func (b *builder) intern(s []int32) SetID {
	b.key = b.key[:0]
	for _, r := range s {
		b.key = binary.LittleEndian.AppendUint32(b.key, uint32(r))
	}
	if id, ok := b.setKeys[string(b.key)]; ok {
		return id
	}
	id := SetID(len(b.ix.sets))
	b.ix.sets = append(b.ix.sets, slices.Clone(s))
	b.setKeys[string(b.key)] = id
	return id
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }
