// Package zone reads custom zones, such as an occupied territory or a
// restricted sea area, from GeoJSON (RFC 7946) and checks them: a polygon
// that is not valid (a ring that crosses or touches itself, rings that
// meet, a hole outside its shell, a repeated position: valid.go) is
// refused with its file, feature and position.
//
// A zone file is a FeatureCollection (or a single Feature) whose features
// each have an "id" (a string or a number, unique in the file), an optional
// "properties.name", and a Polygon or MultiPolygon geometry in lon/lat
// order. Edges are straight lines in lon/lat, as RFC 7946 says; on a long
// edge that differs much from the great circle, Parse warns. An edge
// spanning more than 180 degrees of longitude is taken to cross the
// antimeridian (the shorter way round), so zones need not be split there.
//
// zone owns the zone files' format and their validation. It imports only
// geoindex (the rings it builds): never policy, which compiles the zones it
// reads, nor a store, HTTP or the bus.
package zone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/skyfence/skyfence/geoindex"
)

// Zone is one custom region.
type Zone struct {
	ID       string
	Name     string
	Polygons []geoindex.Polygon
}

// Shape returns the zone as a shape for geoindex.
func (z Zone) Shape() geoindex.Shape {
	return geoindex.Shape{Name: z.ID, Polygons: z.Polygons}
}

// Problem is an error or a warning at a place in a file: Pointer is an RFC
// 6901 JSON pointer into the document ("/features/2/geometry/coordinates/0/5").
type Problem struct {
	File    string
	Pointer string
	Msg     string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s", p.File, orRoot(p.Pointer), p.Msg)
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "(document)"
	}
	return ptr
}

// Errors is every error found in a file.
type Errors []Problem

func (e Errors) Error() string {
	var b strings.Builder
	for i, p := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// MaxEdgeDeviationKm is how far, at its worst, a straight lon/lat edge may
// stray from the great circle through its ends before Parse warns.
const MaxEdgeDeviationKm = 1.0

// Parse reads the zones of a GeoJSON document. file names it in problems.
// It returns every error at once as Errors, and warnings (long edges) even
// when there is no error.
func Parse(data []byte, file string) ([]Zone, []Problem, error) {
	p := &parser{file: file}
	zones := p.document(data)
	if len(p.errs) > 0 {
		return nil, p.warns, p.errs
	}
	return zones, p.warns, nil
}

type parser struct {
	file   string
	errs   Errors
	warns  []Problem
	repair bool // the feature at hand asks for RepairRepeatedPositions
	// repaired maps the pointer of each ring that lost positions to a
	// repair to the positions it kept, by their index in the file.
	repaired map[string][]int
}

// RepairRepeatedPositions, as a feature's "properties.repair", asks Parse
// to drop each position of its rings that repeats the one before it,
// instead of refusing the feature; each dropped position is a warning at
// its pointer. The shape is unchanged. No other invalidity is repaired.
const RepairRepeatedPositions = "repeated_positions"

func (p *parser) errorf(ptr, format string, args ...any) {
	p.errs = append(p.errs, Problem{p.file, ptr, fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(ptr, format string, args ...any) {
	p.warns = append(p.warns, Problem{p.file, ptr, fmt.Sprintf(format, args...)})
}

type object map[string]json.RawMessage

func (p *parser) object(raw json.RawMessage, ptr string) (object, bool) {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		p.errorf(ptr, "want a JSON object")
		return nil, false
	}
	return o, true
}

func (p *parser) typeOf(o object, ptr string) string {
	var t string
	if err := json.Unmarshal(o["type"], &t); err != nil {
		p.errorf(ptr+"/type", "want a string \"type\"")
	}
	return t
}

func (p *parser) document(data []byte) []Zone {
	var root json.RawMessage
	if err := json.Unmarshal(data, &root); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			p.errorf("", "invalid JSON at line %d column %d: %v", line, col, err)
		} else {
			p.errorf("", "invalid JSON: %v", err)
		}
		return nil
	}
	o, ok := p.object(root, "")
	if !ok {
		return nil
	}
	var feats []json.RawMessage
	base := ""
	switch t := p.typeOf(o, ""); t {
	case "FeatureCollection":
		if err := json.Unmarshal(o["features"], &feats); err != nil {
			p.errorf("/features", "want an array of features")
			return nil
		}
		base = "/features/"
	case "Feature":
		feats = []json.RawMessage{root}
	default:
		p.errorf("/type", "want \"FeatureCollection\" or \"Feature\", got %q", t)
		return nil
	}
	var zones []Zone
	seen := map[string]string{}
	for i, raw := range feats {
		ptr := ""
		if base != "" {
			ptr = base + strconv.Itoa(i)
		}
		z, ok := p.feature(raw, ptr)
		if !ok {
			continue
		}
		if prev, dup := seen[z.ID]; dup {
			p.errorf(ptr+"/id", "duplicate id %q (also at %s)", z.ID, orRoot(prev))
			continue
		}
		seen[z.ID] = ptr
		zones = append(zones, z)
	}
	return zones
}

func (p *parser) feature(raw json.RawMessage, ptr string) (Zone, bool) {
	o, ok := p.object(raw, ptr)
	if !ok {
		return Zone{}, false
	}
	if t := p.typeOf(o, ptr); t != "Feature" {
		p.errorf(ptr+"/type", "want \"Feature\", got %q", t)
		return Zone{}, false
	}
	var z Zone
	n := len(p.errs)
	z.ID = p.id(o["id"], ptr+"/id")
	p.repair = false
	if props, ok := o["properties"]; ok && string(props) != "null" {
		if po, ok := p.object(props, ptr+"/properties"); ok {
			if name, ok := po["name"]; ok {
				if err := json.Unmarshal(name, &z.Name); err != nil {
					p.errorf(ptr+"/properties/name", "want a string")
				}
			}
			if repair, ok := po["repair"]; ok {
				var what string
				if err := json.Unmarshal(repair, &what); err != nil || what != RepairRepeatedPositions {
					p.errorf(ptr+"/properties/repair", "want %q, the one repair there is", RepairRepeatedPositions)
				}
				p.repair = what == RepairRepeatedPositions
			}
		}
	}
	var multi bool
	z.Polygons, multi = p.geometry(o["geometry"], ptr+"/geometry")
	if len(p.errs) > n {
		return Zone{}, false
	}
	if _, err := geoindex.Normalize(z.Shape()); err != nil {
		var ge *geoindex.GeometryError
		if errors.As(err, &ge) {
			p.errorf(p.ringPointer(ptr, multi, ge), "%s", ge.Msg)
		} else {
			p.errorf(ptr+"/geometry", "%v", err)
		}
		return Zone{}, false
	}
	for pi, poly := range z.Polygons {
		for _, rp := range validatePolygon(poly) {
			p.errorf(p.vertexPointer(coordPointer(ptr, multi, pi, rp.ring), rp.vertex), "%s", rp.msg)
		}
	}
	if len(p.errs) > n {
		return Zone{}, false
	}
	p.checkEdges(z, ptr, multi)
	return z, true
}

func (p *parser) id(raw json.RawMessage, ptr string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		p.errorf(ptr, "missing: every zone needs an id")
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			p.errorf(ptr, "empty id")
		}
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	p.errorf(ptr, "want a string or a number")
	return ""
}

// geometry returns the polygons of a Polygon or MultiPolygon, and whether
// it was a MultiPolygon.
func (p *parser) geometry(raw json.RawMessage, ptr string) ([]geoindex.Polygon, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		p.errorf(ptr, "missing: a zone needs a Polygon or MultiPolygon geometry")
		return nil, false
	}
	o, ok := p.object(raw, ptr)
	if !ok {
		return nil, false
	}
	switch t := p.typeOf(o, ptr); t {
	case "Polygon":
		var c [][]json.RawMessage
		if err := json.Unmarshal(o["coordinates"], &c); err != nil {
			p.errorf(ptr+"/coordinates", "want an array of rings (arrays of positions)")
			return nil, false
		}
		return []geoindex.Polygon{p.polygon(c, ptr+"/coordinates")}, false
	case "MultiPolygon":
		var c [][][]json.RawMessage
		if err := json.Unmarshal(o["coordinates"], &c); err != nil {
			p.errorf(ptr+"/coordinates", "want an array of polygons (arrays of rings)")
			return nil, true
		}
		polys := make([]geoindex.Polygon, len(c))
		for i, pc := range c {
			polys[i] = p.polygon(pc, fmt.Sprintf("%s/coordinates/%d", ptr, i))
		}
		return polys, true
	default:
		p.errorf(ptr+"/type", "want \"Polygon\" or \"MultiPolygon\", got %q", t)
		return nil, false
	}
}

func (p *parser) polygon(rings [][]json.RawMessage, ptr string) geoindex.Polygon {
	if len(rings) == 0 {
		p.errorf(ptr, "a polygon needs at least one ring")
	}
	poly := make(geoindex.Polygon, len(rings))
	for i, ring := range rings {
		rptr := fmt.Sprintf("%s/%d", ptr, i)
		if len(ring) < 4 {
			p.errorf(rptr, "a ring needs at least 4 positions (RFC 7946), got %d", len(ring))
			continue
		}
		r := make(geoindex.Ring, 0, len(ring))
		var kept []int // by index in the file, once a position is dropped
		ok := true
		for j, pos := range ring {
			pt, good := p.position(pos, fmt.Sprintf("%s/%d", rptr, j))
			ok = ok && good
			if good && p.repair && len(r) > 0 && r[len(r)-1] == pt {
				p.warnf(fmt.Sprintf("%s/%d", rptr, j), "repaired: position dropped, it repeats the one before it")
				if kept == nil {
					kept = make([]int, len(r), len(ring))
					for k := range kept {
						kept[k] = k
					}
				}
				continue
			}
			r = append(r, pt)
			if kept != nil {
				kept = append(kept, j)
			}
		}
		if kept != nil {
			if p.repaired == nil {
				p.repaired = map[string][]int{}
			}
			p.repaired[rptr] = kept
		}
		if ok && len(r) < 4 {
			p.errorf(rptr, "a ring needs at least 4 positions (RFC 7946), got %d once repeated positions are dropped", len(r))
			continue
		}
		if ok && r[0] != r[len(r)-1] {
			p.errorf(fmt.Sprintf("%s/%d", rptr, len(ring)-1), "ring is not closed: the last position must equal the first")
		}
		poly[i] = r
	}
	return poly
}

func (p *parser) position(raw json.RawMessage, ptr string) (geoindex.Point, bool) {
	var c []float64
	if err := json.Unmarshal(raw, &c); err != nil || len(c) < 2 || len(c) > 3 {
		p.errorf(ptr, "want a position [lon, lat] or [lon, lat, altitude]")
		return geoindex.Point{}, false
	}
	lon, lat := c[0], c[1]
	switch {
	case !(lon >= -180 && lon <= 180):
		p.errorf(ptr+"/0", "longitude %v out of range [-180, 180]", lon)
		return geoindex.Point{}, false
	case !(lat >= -90 && lat <= 90):
		p.errorf(ptr+"/1", "latitude %v out of range [-90, 90]", lat)
		return geoindex.Point{}, false
	}
	return geoindex.Point{Lon: lon, Lat: lat}, true
}

// checkEdges warns about edges that stray from the great circle.
func (p *parser) checkEdges(z Zone, ptr string, multi bool) {
	for pi, poly := range z.Polygons {
		for ri, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				if d := EdgeDeviationKm(r[i], r[i+1]); d > MaxEdgeDeviationKm {
					p.warnf(p.vertexPointer(coordPointer(ptr, multi, pi, ri), i),
						"edge to the next position strays %.1f km from the great circle (straight lon/lat edges are used); add vertices along it if the great circle is meant", d)
				}
			}
		}
	}
}

func coordPointer(feature string, multi bool, poly, ring int) string {
	if !multi {
		return fmt.Sprintf("%s/geometry/coordinates/%d", feature, ring)
	}
	return fmt.Sprintf("%s/geometry/coordinates/%d/%d", feature, poly, ring)
}

func (p *parser) ringPointer(feature string, multi bool, ge *geoindex.GeometryError) string {
	ptr := coordPointer(feature, multi, ge.Polygon, ge.Ring)
	if ge.Vertex >= 0 {
		return p.vertexPointer(ptr, ge.Vertex)
	}
	return ptr
}

// vertexPointer points at position i of the ring at ring, as parsed: in the
// file, if positions of the ring were dropped by a repair.
func (p *parser) vertexPointer(ring string, i int) string {
	if orig, ok := p.repaired[ring]; ok && i < len(orig) {
		i = orig[i]
	}
	return ring + "/" + strconv.Itoa(i)
}

// EdgeDeviationKm estimates how far the straight lon/lat segment from a to b
// strays from the great circle through a and b: the distance between the
// two paths' midpoints, which is where they part most for edges that do not
// cross a pole.
func EdgeDeviationKm(a, b geoindex.Point) float64 {
	dlon := b.Lon - a.Lon
	if dlon > 180 {
		dlon -= 360
	} else if dlon < -180 {
		dlon += 360
	}
	flat := geoindex.Point{Lon: a.Lon + dlon/2, Lat: (a.Lat + b.Lat) / 2}
	ax, ay, az := unit(a)
	bx, by, bz := unit(b)
	mx, my, mz := ax+bx, ay+by, az+bz
	n := math.Sqrt(mx*mx + my*my + mz*mz)
	if n == 0 {
		return 0 // antipodal: no unique great circle
	}
	fx, fy, fz := unit(flat)
	dot := (mx*fx + my*fy + mz*fz) / n
	return math.Acos(math.Min(1, math.Max(-1, dot))) * earthRadiusKm
}

const earthRadiusKm = 6371.0088

func unit(p geoindex.Point) (x, y, z float64) {
	lon, lat := p.Lon*math.Pi/180, p.Lat*math.Pi/180
	return math.Cos(lat) * math.Cos(lon), math.Cos(lat) * math.Sin(lon), math.Sin(lat)
}

// position returns the 1-based line and column of a byte offset.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
