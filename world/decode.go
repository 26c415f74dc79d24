package world

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// FormatError reports where and why a world file could not be decoded.
type FormatError struct {
	Offset int    // byte offset in the input where decoding stopped
	Want   string // what was expected there
	Err    error  // why it was not found: io.ErrUnexpectedEOF or a description
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("world: offset %d: want %s: %v", e.Offset, e.Want, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// DecodeFile decodes a world file. It never panics; on bad input it returns
// a *FormatError naming the offset and what was expected there, and it
// allocates no more than a small multiple of len(b), plus about 4 MB for a
// territorial-sea section (the table of its blocks).
//
// The format, all integers little-endian or LEB128 varints ("uvarint", and
// "varint" for zigzag-encoded signed values as in encoding/binary):
//
//	file     = magic version source transform regions sections
//	magic    = "SKYFWRLD" (8 bytes)
//	version  = uvarint, currently 1 (see Version)
//	source   = string: where the data came from
//	string   = uvarint byte length (at most 255), UTF-8 bytes
//	transform= 4 x float64 bits, uint64 LE: scaleX scaleY translateX translateY
//	regions  = uvarint count, then count x region, sorted by code, unique
//	region   = code name sovereign polygons
//	code     = string of two ASCII uppercase letters (sovereign likewise)
//	polygons = uvarint count (at least 1), then count x polygon
//	polygon  = uvarint ring count (at least 1), then rings, exterior first
//	ring     = uvarint vertex count (at least 3), then vertices
//	vertex   = varint dx, varint dy: the first vertex of each ring is
//	           relative to (0, 0), the others to the previous vertex; the
//	           running values are the quantized x, y and must fit in int32;
//	           no vertex may equal the next (cyclically)
//	sections = zero or more of: uvarint tag, uvarint length, payload bytes,
//	           tags at least 1 and strictly increasing, up to end of input
//	sea      = payload of tag 1 (SeaTag): runs up to the end of the payload
//	run      = uvarint length (at least 1), uvarint owner+1 (0 for none,
//	           else at most the region count), no two consecutive runs
//	           with the same owner, lengths summing to SeaCols × SeaRows:
//	           the cells of the territorial-sea grid (see Sea) row by row
//	           from the South Pole, each row from the antimeridian east; a
//	           run may go on from one row into the next
//
// Rings are open, in RFC 7946 orientation, unwrapped across the antimeridian
// (see the package documentation). DecodeFile decodes the territorial sea
// into File.Sea. A reader skips sections whose tag it does not know;
// DecodeFile returns them in File.Sections. A tag, once assigned to a
// section, keeps its meaning for good.
func DecodeFile(b []byte) (*File, error) {
	r := reader{b: b}
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return nil, r.fail(at(fmt.Sprintf("magic %q", Magic)), errors.New("not a world file"))
	}
	r.off = len(Magic)
	v, err := r.uvarint(at("version"))
	if err != nil {
		return nil, err
	}
	if v != Version {
		r.off = len(Magic)
		return nil, r.fail(at("version"), fmt.Errorf("version %d, this reader knows only %d", v, Version))
	}
	f := &File{}
	if f.Source, err = r.str(at("source")); err != nil {
		return nil, err
	}
	if f.Transform, err = r.transform(); err != nil {
		return nil, err
	}
	if f.Regions, err = r.regions(); err != nil {
		return nil, err
	}
	if err := r.sections(f); err != nil {
		return nil, err
	}
	return f, nil
}

// place names what is being read, for error messages. It is formatted only
// when an error is reported, so reading allocates nothing for it.
type place struct {
	what       string // the item expected, such as "vertex count"
	code       string // the region being read, if any
	poly, ring int    // the polygon and ring being read, or -1
}

func at(what string) place { return place{what: what, poly: -1, ring: -1} }

func (p place) String() string {
	s := p.what
	if p.code != "" {
		s += " of " + p.code
	}
	if p.poly >= 0 {
		s += fmt.Sprintf(" polygon %d", p.poly)
	}
	if p.ring >= 0 {
		s += fmt.Sprintf(" ring %d", p.ring)
	}
	return s
}

// reader walks b, keeping the offset for error messages.
type reader struct {
	b   []byte
	off int
}

func (r *reader) fail(want place, err error) error {
	return &FormatError{Offset: r.off, Want: want.String(), Err: err}
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) uvarint(want place) (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n == 0 {
		return 0, r.fail(want, io.ErrUnexpectedEOF)
	}
	if n < 0 {
		return 0, r.fail(want, errors.New("uvarint overflows 64 bits"))
	}
	r.off += n
	return v, nil
}

func (r *reader) varint(want place) (int64, error) {
	v, n := binary.Varint(r.b[r.off:])
	if n == 0 {
		return 0, r.fail(want, io.ErrUnexpectedEOF)
	}
	if n < 0 {
		return 0, r.fail(want, errors.New("varint overflows 64 bits"))
	}
	r.off += n
	return v, nil
}

// count reads a uvarint count of items that take at least minSize bytes
// each, and checks that the rest of the input can hold them.
func (r *reader) count(want place, minSize, minCount int) (int, error) {
	start := r.off
	v, err := r.uvarint(want)
	if err != nil {
		return 0, err
	}
	if v < uint64(minCount) {
		r.off = start
		return 0, r.fail(want, fmt.Errorf("count %d, want at least %d", v, minCount))
	}
	if v > uint64(r.left()/minSize) {
		r.off = start
		return 0, r.fail(want, fmt.Errorf("count %d does not fit in the %d bytes left", v, r.left()))
	}
	return int(v), nil
}

func (r *reader) str(want place) (string, error) {
	start := r.off
	lw := want
	lw.what += " length"
	n, err := r.uvarint(lw)
	if err != nil {
		return "", err
	}
	if n > maxStringLen {
		r.off = start
		return "", r.fail(want, fmt.Errorf("length %d exceeds %d", n, maxStringLen))
	}
	if n > uint64(r.left()) {
		return "", r.fail(want, io.ErrUnexpectedEOF)
	}
	s := r.b[r.off : r.off+int(n)]
	if !utf8.Valid(s) {
		return "", r.fail(want, errors.New("not valid UTF-8"))
	}
	r.off += int(n)
	return string(s), nil
}

func (r *reader) code(want place) (string, error) {
	start := r.off
	s, err := r.str(want)
	if err != nil {
		return "", err
	}
	if !validCode(s) {
		r.off = start
		return "", r.fail(want, fmt.Errorf("%q is not two uppercase letters", s))
	}
	return s, nil
}

func (r *reader) transform() (Transform, error) {
	if r.left() < 32 {
		return Transform{}, r.fail(at("transform (32 bytes)"), io.ErrUnexpectedEOF)
	}
	var v [4]float64
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off+8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return Transform{}, r.fail(at("transform"), fmt.Errorf("value %d is not finite", i))
		}
	}
	if v[0] <= 0 || v[1] <= 0 {
		return Transform{}, r.fail(at("transform"), fmt.Errorf("scales %v, %v must be positive", v[0], v[1]))
	}
	r.off += 32
	return Transform{ScaleX: v[0], ScaleY: v[1], TranslateX: v[2], TranslateY: v[3]}, nil
}

// Smallest encodings, used to bound counts by the bytes left.
const (
	minRingBytes    = 1 + 2*minRingLen // count and three 2-byte vertices
	minPolygonBytes = 1 + minRingBytes
	minRegionBytes  = 3*3 + 1 + minPolygonBytes // code, name, sovereign, polygons
)

func (r *reader) regions() ([]Region, error) {
	n, err := r.count(at("region count"), minRegionBytes, 0)
	if err != nil {
		return nil, err
	}
	regions := make([]Region, n)
	// All vertices share one backing array; rings are full slice
	// expressions into it, so appending to one never touches another.
	pts := make([]QPoint, 0, r.left()/2)
	for i := range regions {
		g := &regions[i]
		start := r.off
		if g.Code, err = r.code(at("region code")); err != nil {
			return nil, err
		}
		if i > 0 && regions[i-1].Code >= g.Code {
			r.off = start
			return nil, r.fail(at("region code"), fmt.Errorf("%s after %s: codes must be sorted and unique", g.Code, regions[i-1].Code))
		}
		if g.Name, err = r.str(place{what: "name", code: g.Code, poly: -1, ring: -1}); err != nil {
			return nil, err
		}
		if g.Name == "" {
			return nil, r.fail(place{what: "name", code: g.Code, poly: -1, ring: -1}, errors.New("empty name"))
		}
		if g.Sovereign, err = r.code(place{what: "sovereign", code: g.Code, poly: -1, ring: -1}); err != nil {
			return nil, err
		}
		if g.Polygons, pts, err = r.polygons(g.Code, pts); err != nil {
			return nil, err
		}
	}
	return regions, nil
}

func (r *reader) polygons(code string, pts []QPoint) ([]QPolygon, []QPoint, error) {
	n, err := r.count(place{what: "polygon count", code: code, poly: -1, ring: -1}, minPolygonBytes, 1)
	if err != nil {
		return nil, pts, err
	}
	polys := make([]QPolygon, n)
	for j := range polys {
		nr, err := r.count(place{what: "ring count", code: code, poly: j, ring: -1}, minRingBytes, 1)
		if err != nil {
			return nil, pts, err
		}
		polys[j] = make(QPolygon, nr)
		for k := range polys[j] {
			want := place{what: "vertex count", code: code, poly: j, ring: k}
			nv, err := r.count(want, 2, minRingLen)
			if err != nil {
				return nil, pts, err
			}
			first := len(pts)
			var x, y int64
			for range nv {
				want.what = "vertex"
				dx, err := r.varint(want)
				if err != nil {
					return nil, pts, err
				}
				dy, err := r.varint(want)
				if err != nil {
					return nil, pts, err
				}
				// |x| and |y| are at most 2^31, so a delta beyond 2^33 can
				// only overflow int32 and must not overflow int64.
				if dx > 1<<33 || dx < -1<<33 || dy > 1<<33 || dy < -1<<33 {
					return nil, pts, r.fail(want, errors.New("delta out of range"))
				}
				x, y = x+dx, y+dy
				if x > maxCoord || x < minCoord || y > maxCoord || y < minCoord {
					return nil, pts, r.fail(want, fmt.Errorf("(%d, %d) does not fit in int32", x, y))
				}
				pts = append(pts, QPoint{int32(x), int32(y)})
			}
			ring := QRing(pts[first:len(pts):len(pts)])
			if err := checkRing(ring); err != nil {
				want.what = "ring"
				return nil, pts, r.fail(want, err)
			}
			polys[j][k] = ring
		}
	}
	return polys, pts, nil
}

// sections reads the sections into f: the territorial sea into f.Sea, the
// others into f.Sections.
func (r *reader) sections(f *File) error {
	var last uint64
	for r.left() > 0 {
		start := r.off
		tag, err := r.uvarint(at("section tag"))
		if err != nil {
			return err
		}
		if tag <= last {
			r.off = start
			return r.fail(at("section tag"), fmt.Errorf("tag %d after %d: tags must be 1 or more and increasing", tag, last))
		}
		last = tag
		n, err := r.uvarint(at(fmt.Sprintf("length of section %d", tag)))
		if err != nil {
			return err
		}
		if n > uint64(r.left()) {
			return r.fail(at(fmt.Sprintf("%d bytes of section %d", n, tag)), io.ErrUnexpectedEOF)
		}
		end := r.off + int(n)
		if tag == SeaTag {
			sub := reader{b: r.b[:end], off: r.off}
			if f.Sea, err = sub.sea(len(f.Regions)); err != nil {
				return err
			}
		} else {
			f.Sections = append(f.Sections, Section{Tag: tag, Payload: r.b[r.off:end:end]})
		}
		r.off = end
	}
	return nil
}

// sea reads the territorial-sea section, which runs to the end of r.b.
func (r *reader) sea(regions int) (*Sea, error) {
	b := NewSeaBuilder(regions)
	for r.left() > 0 {
		start := r.off
		n, err := r.uvarint(at("length of a territorial-sea run"))
		if err != nil {
			return nil, err
		}
		owner, err := r.uvarint(at("owner of a territorial-sea run"))
		if err != nil {
			return nil, err
		}
		// Both bounds keep the conversions to int exact; Add checks the
		// rest.
		if n > SeaCols*SeaRows || owner > seaMaxRegions {
			r.off = start
			return nil, r.fail(at("territorial-sea run"), fmt.Errorf("run of %d cells with owner+1 %d: out of range", n, owner))
		}
		if err := b.Add(int(n), int(owner)-1); err != nil {
			r.off = start
			return nil, r.fail(at("territorial-sea run"), err)
		}
	}
	s, err := b.Sea()
	if err != nil {
		return nil, r.fail(at("territorial-sea run"), fmt.Errorf("section ends: %v", err))
	}
	return s, nil
}
