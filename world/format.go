package world

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Magic opens every world file.
const Magic = "SKYFWRLD"

// Version is the format version written by Encode and the only one
// DecodeFile accepts. It changes only when the fixed part of the file (header
// and regions) changes incompatibly, or when a new section must not be
// ignored by older readers. Adding an optional section does not change it.
const Version = 1

// Limits that Encode and DecodeFile enforce.
const (
	maxStringLen = 255       // bytes in a source, name or code
	minRingLen   = 3         // distinct vertices in a ring
	maxCoord     = 1<<31 - 1 // quantized coordinates are int32
	minCoord     = -1 << 31
)

// Transform maps quantized coordinates to degrees, as in TopoJSON:
//
//	lon = X*ScaleX + TranslateX
//	lat = Y*ScaleY + TranslateY
type Transform struct {
	ScaleX, ScaleY, TranslateX, TranslateY float64
}

// Lon returns the longitude in degrees of quantized x.
func (t Transform) Lon(x int32) float64 { return float64(x)*t.ScaleX + t.TranslateX }

// Lat returns the latitude in degrees of quantized y.
func (t Transform) Lat(y int32) float64 { return float64(y)*t.ScaleY + t.TranslateY }

// QPoint is a vertex in quantized units (see Transform).
type QPoint struct {
	X, Y int32
}

// QRing is an open ring of quantized vertices: the last vertex joins the
// first implicitly. Consecutive vertices differ, and the first differs from
// the last.
type QRing []QPoint

// QPolygon is an exterior ring followed by its holes.
type QPolygon []QRing

// Region is one country or territory in quantized form.
type Region struct {
	Code      string // ISO 3166-1 alpha-2 or user-assigned X?, two uppercase letters
	Name      string // display name from the source data
	Sovereign string // code of the sovereign state; equal to Code if independent
	Polygons  []QPolygon
}

// Section is an optional tagged section after the regions that this package
// does not know. Readers keep such sections, unread, so that they can be
// written back.
// DecodeFile returns payloads that share memory with its input.
type Section struct {
	Tag     uint64 // 1 or more; tags appear in increasing order, each once
	Payload []byte
}

// File is the whole content of a world file, in quantized form.
type File struct {
	Source    string // where the data came from, for people
	Transform Transform
	Regions   []Region // sorted by Code, codes unique
	Sea       *Sea     // the territorial sea (section SeaTag), or nil
	Sections  []Section
}

// Encode writes f in the format described on DecodeFile. It returns an error
// naming the region, polygon and ring if f breaks a rule that DecodeFile
// checks, so that whatever Encode writes decodes again.
func Encode(f *File) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	var w writer
	w.b = append(w.b, Magic...)
	w.uvarint(Version)
	w.str(f.Source)
	for _, v := range []float64{f.Transform.ScaleX, f.Transform.ScaleY, f.Transform.TranslateX, f.Transform.TranslateY} {
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v))
	}
	w.uvarint(uint64(len(f.Regions)))
	for _, r := range f.Regions {
		w.str(r.Code)
		w.str(r.Name)
		w.str(r.Sovereign)
		w.uvarint(uint64(len(r.Polygons)))
		for _, p := range r.Polygons {
			w.uvarint(uint64(len(p)))
			for _, ring := range p {
				w.uvarint(uint64(len(ring)))
				var prev QPoint
				for _, q := range ring {
					w.varint(int64(q.X) - int64(prev.X))
					w.varint(int64(q.Y) - int64(prev.Y))
					prev = q
				}
			}
		}
	}
	if f.Sea != nil {
		var sea writer
		f.Sea.appendRuns(&sea)
		w.uvarint(SeaTag)
		w.uvarint(uint64(len(sea.b)))
		w.b = append(w.b, sea.b...)
	}
	for _, s := range f.Sections {
		w.uvarint(s.Tag)
		w.uvarint(uint64(len(s.Payload)))
		w.b = append(w.b, s.Payload...)
	}
	return w.b, nil
}

// validate checks the rules that DecodeFile enforces.
func (f *File) validate() error {
	if err := checkString("source", f.Source); err != nil {
		return err
	}
	t := f.Transform
	for _, v := range []float64{t.ScaleX, t.ScaleY, t.TranslateX, t.TranslateY} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("world: transform %+v is not finite", t)
		}
	}
	if t.ScaleX <= 0 || t.ScaleY <= 0 {
		return fmt.Errorf("world: transform %+v: scales must be positive", t)
	}
	for i, r := range f.Regions {
		if !validCode(r.Code) {
			return fmt.Errorf("world: region %d: code %q is not two uppercase letters", i, r.Code)
		}
		if i > 0 && f.Regions[i-1].Code >= r.Code {
			return fmt.Errorf("world: region %s: codes not sorted or not unique (after %s)", r.Code, f.Regions[i-1].Code)
		}
		if err := checkString("name of "+r.Code, r.Name); err != nil {
			return err
		}
		if r.Name == "" {
			return fmt.Errorf("world: region %s: empty name", r.Code)
		}
		if !validCode(r.Sovereign) {
			return fmt.Errorf("world: region %s: sovereign %q is not two uppercase letters", r.Code, r.Sovereign)
		}
		if len(r.Polygons) == 0 {
			return fmt.Errorf("world: region %s: no polygons", r.Code)
		}
		for j, p := range r.Polygons {
			if len(p) == 0 {
				return fmt.Errorf("world: region %s polygon %d: no rings", r.Code, j)
			}
			for k, ring := range p {
				if err := checkRing(ring); err != nil {
					return fmt.Errorf("world: region %s polygon %d ring %d: %v", r.Code, j, k, err)
				}
			}
		}
	}
	var last uint64
	if f.Sea != nil {
		if len(f.Sea.blocks) == 0 {
			return errors.New("world: territorial sea: a zero Sea (make one with a SeaBuilder)")
		}
		if m := f.Sea.maxOwner(); m > len(f.Regions) {
			return fmt.Errorf("world: territorial sea: owner %d, but only %d regions", m-1, len(f.Regions))
		}
		last = SeaTag
	}
	for _, s := range f.Sections {
		if s.Tag == SeaTag {
			return fmt.Errorf("world: section tag %d is the territorial sea: set File.Sea", SeaTag)
		}
		if s.Tag <= last {
			return fmt.Errorf("world: section tag %d: tags must be 1 or more and increasing", s.Tag)
		}
		last = s.Tag
	}
	return nil
}

// checkRing reports why ring breaks the rules of QRing, or nil.
func checkRing(ring QRing) error {
	if len(ring) < minRingLen {
		return fmt.Errorf("%d vertices, want at least %d", len(ring), minRingLen)
	}
	for i, q := range ring {
		if q == ring[(i+1)%len(ring)] {
			return fmt.Errorf("vertex %d repeats the next one", i)
		}
	}
	return nil
}

// checkString reports an error if s is too long or not UTF-8.
func checkString(what, s string) error {
	if len(s) > maxStringLen {
		return fmt.Errorf("world: %s is %d bytes, at most %d allowed", what, len(s), maxStringLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("world: %s is not valid UTF-8", what)
	}
	return nil
}

// validCode reports whether s is two ASCII uppercase letters.
func validCode(s string) bool {
	return len(s) == 2 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// writer appends the format's primitives to b.
type writer struct{ b []byte }

func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}
