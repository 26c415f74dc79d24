package world

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// small is a valid file with one region of one polygon with a hole, and an
// unknown section.
func small() *File {
	return &File{
		Source:    "test",
		Transform: Transform{ScaleX: 0.5, ScaleY: 0.25, TranslateX: -180, TranslateY: -90},
		Regions: []Region{
			{Code: "AA", Name: "A", Sovereign: "AA", Polygons: []QPolygon{{
				{{0, 0}, {10, 0}, {10, 10}, {0, 10}},
				{{2, 2}, {2, 8}, {8, 8}, {-3, 700000}},
			}}},
			{Code: "BB", Name: "Bé", Sovereign: "AA", Polygons: []QPolygon{{{{-5, -5}, {-1, -5}, {-1, -1}}}}},
		},
		Sections: []Section{{Tag: 7, Payload: []byte("raster")}},
	}
}

func TestRoundTrip(t *testing.T) {
	want := small()
	b, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeFile(Encode(f)) = %+v, want %+v", got, want)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Countries[0].Polygons[0][0][2]; p.Lon != -175 || p.Lat != -87.5 {
		t.Errorf("vertex (10, 10) in degrees = %v, want {-175 -87.5}", p)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *File)
		want   string
	}{
		{"unsorted", func(f *File) { f.Regions[0].Code = "CC" }, "not sorted"},
		{"bad code", func(f *File) { f.Regions[0].Code = "a1" }, "two uppercase"},
		{"bad sovereign", func(f *File) { f.Regions[1].Sovereign = "" }, "sovereign"},
		{"empty name", func(f *File) { f.Regions[0].Name = "" }, "empty name"},
		{"short ring", func(f *File) { f.Regions[1].Polygons[0][0] = f.Regions[1].Polygons[0][0][:2] }, "at least 3"},
		{"repeated vertex", func(f *File) { f.Regions[1].Polygons[0][0][1] = QPoint{-5, -5} }, "repeats"},
		{"no polygons", func(f *File) { f.Regions[1].Polygons = nil }, "no polygons"},
		{"zero scale", func(f *File) { f.Transform.ScaleX = 0 }, "positive"},
		{"section order", func(f *File) { f.Sections = append(f.Sections, Section{Tag: 7}) }, "increasing"},
		{"long source", func(f *File) { f.Source = strings.Repeat("x", 256) }, "at most 255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := small()
			tc.change(f)
			if _, err := Encode(f); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTruncated checks that every proper prefix of a file fails with a
// FormatError (the sections run to the end, so a prefix that stops between
// sections is a valid file: small has one section, which no prefix holds
// whole).
func TestTruncated(t *testing.T) {
	b, err := Encode(small())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		_, err := DecodeFile(b[:n])
		var fe *FormatError
		if n == len(b)-len("raster")-2 {
			if err != nil {
				t.Errorf("prefix of %d bytes, without the section: %v", n, err)
			}
			continue
		}
		if !errors.As(err, &fe) || fe.Offset > n {
			t.Errorf("prefix of %d bytes: error %v, want a FormatError at or before the end", n, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := Encode(small())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "offset 0: want magic"},
		{"wrong magic", []byte("SKYFWRLX\x01"), "not a world file"},
		{"future version", append([]byte(Magic), 2), "offset 8: want version: version 2"},
		{"huge count", append(append([]byte{}, good[:len(Magic)+1+5+32]...), 0xff, 0xff, 0x03), "want region count"},
		{"bad code", []byte(strings.Replace(string(good), "AA", "aA", 1)), "want region code"},
		{"bad section order", append(append([]byte{}, good...), 7, 0), "want section tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeFile(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeFile: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// realSeed returns a small file cut from the embedded 1:110m data: Fiji,
// whose rings cross the antimeridian, and Lesotho, a hole in South Africa,
// with the territorial sea of Fiji (Lesotho has none).
func realSeed(t testing.TB) []byte {
	full, err := DecodeFile(data110m)
	if err != nil {
		t.Fatal(err)
	}
	small := &File{Source: full.Source, Transform: full.Transform}
	fiji := -1
	for i, r := range full.Regions {
		if r.Code == "FJ" || r.Code == "LS" {
			small.Regions = append(small.Regions, r)
		}
		if r.Code == "FJ" {
			fiji = i
		}
	}
	var runs []run
	for _, r := range runsOf(full.Sea) {
		if r.owner != fiji {
			r.owner = -1
		} else {
			r.owner = 0
		}
		if n := len(runs); n > 0 && runs[n-1].owner == r.owner {
			runs[n-1].n += r.n
		} else {
			runs = append(runs, r)
		}
	}
	small.Sea = seaOf(t, len(small.Regions), runs...)
	b, err := Encode(small)
	if err != nil || len(small.Regions) != 2 {
		t.Fatalf("seed of %d regions: %v", len(small.Regions), err)
	}
	return b
}

func FuzzDecode(f *testing.F) {
	b, err := Encode(small())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	if b, err = Encode(withSea(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(realSeed(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := DecodeFile(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(b) {
				t.Fatalf("error %v is not a FormatError with an offset in the input", err)
			}
			return
		}
		// Whatever decodes encodes again and decodes to the same thing.
		again, err := Encode(file)
		if err != nil {
			t.Fatalf("Encode of a decoded file: %v", err)
		}
		file2, err := DecodeFile(again)
		if err != nil {
			t.Fatalf("DecodeFile of a re-encoded file: %v", err)
		}
		if !reflect.DeepEqual(file, file2) {
			t.Fatal("re-encoded file decodes differently")
		}
		if d := file.Data(); len(d.Countries) != len(file.Regions) {
			t.Fatalf("Data has %d countries for %d regions", len(d.Countries), len(file.Regions))
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	for _, res := range []Resolution{Res10m, Res110m} {
		b.Run(res.String(), func(b *testing.B) {
			var n int
			for b.Loop() {
				d, err := Load(res)
				if err != nil {
					b.Fatal(err)
				}
				n += len(d.Countries)
			}
			if n == 0 {
				b.Fatal("no countries")
			}
		})
	}
}
