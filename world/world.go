package world

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/skyfence/skyfence/geoindex"
)

// Resolution selects one of the embedded data sets. The zero value is
// Res10m.
type Resolution int

const (
	// Res10m is Natural Earth 1:10m, the data the service decides with.
	Res10m Resolution = iota
	// Res110m is Natural Earth 1:110m: small and coarse, for tests and for
	// measuring how much the resolution matters.
	Res110m
)

// String returns "10m" or "110m" (the form ParseResolution accepts).
func (r Resolution) String() string {
	switch r {
	case Res10m:
		return "10m"
	case Res110m:
		return "110m"
	}
	return fmt.Sprintf("Resolution(%d)", int(r))
}

// ParseResolution parses "10m" or "110m".
func ParseResolution(s string) (Resolution, error) {
	switch s {
	case "10m":
		return Res10m, nil
	case "110m":
		return Res110m, nil
	}
	return 0, fmt.Errorf("world: unknown resolution %q (want 10m or 110m)", s)
}

var (
	//go:embed data/countries-10m.bin
	data10m []byte
	//go:embed data/countries-110m.bin
	data110m []byte
)

// Country is one country or territory with its boundary in degrees.
type Country struct {
	Code      string // ISO 3166-1 alpha-2, or a user-assigned X? code
	Name      string // display name from the source data
	Sovereign string // code of the sovereign state; equal to Code if independent
	// Polygons in RFC 7946 orientation, rings open and unwrapped across the
	// antimeridian (see the package documentation).
	Polygons []geoindex.Polygon
}

// Data is a decoded data set.
type Data struct {
	Source    string    // where the data came from, for people
	Countries []Country // sorted by Code, codes unique
	// Sea is the territorial sea, or nil if the file has none. Its owners
	// are indices into Countries.
	Sea *Sea
}

// Load decodes the embedded data set of resolution res. Each call decodes
// afresh (about 30 ms at 10m, most of it the territorial sea); callers keep
// the result.
func Load(res Resolution) (*Data, error) {
	switch res {
	case Res10m:
		return Decode(data10m)
	case Res110m:
		return Decode(data110m)
	}
	return nil, fmt.Errorf("world: no data for %v", res)
}

// Decode decodes a world file (see DecodeFile) into degrees.
func Decode(b []byte) (*Data, error) {
	f, err := DecodeFile(b)
	if err != nil {
		return nil, err
	}
	return f.Data(), nil
}

// Data converts f to degrees with its transform.
func (f *File) Data() *Data {
	n := 0
	for _, r := range f.Regions {
		for _, p := range r.Polygons {
			for _, ring := range p {
				n += len(ring)
			}
		}
	}
	// One backing array for every vertex; rings are full slice expressions.
	pts := make([]geoindex.Point, 0, n)
	d := &Data{Source: f.Source, Countries: make([]Country, len(f.Regions)), Sea: f.Sea}
	t := f.Transform
	for i, r := range f.Regions {
		c := Country{Code: r.Code, Name: r.Name, Sovereign: r.Sovereign, Polygons: make([]geoindex.Polygon, len(r.Polygons))}
		for j, p := range r.Polygons {
			c.Polygons[j] = make(geoindex.Polygon, len(p))
			for k, ring := range p {
				first := len(pts)
				for _, q := range ring {
					pts = append(pts, geoindex.Point{Lon: t.Lon(q.X), Lat: t.Lat(q.Y)})
				}
				c.Polygons[j][k] = pts[first:len(pts):len(pts)]
			}
		}
		d.Countries[i] = c
	}
	return d
}

// Shapes returns the countries as shapes for geoindex.Build, in the same
// order: region i of an index built from them is Countries[i].
func (d *Data) Shapes() []geoindex.Shape {
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	return shapes
}

// Country returns the country or territory with the given code.
func (d *Data) Country(code string) (Country, bool) {
	i, ok := slices.BinarySearchFunc(d.Countries, code, func(c Country, code string) int {
		return strings.Compare(c.Code, code)
	})
	if !ok {
		return Country{}, false
	}
	return d.Countries[i], true
}
