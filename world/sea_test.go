package world

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
)

// TestEmbeddedRoundTrip checks that the embedded files decode, with a
// territorial sea, and encode to the same bytes.
func TestEmbeddedRoundTrip(t *testing.T) {
	for res, data := range map[Resolution][]byte{Res10m: data10m, Res110m: data110m} {
		f, err := DecodeFile(data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Sea == nil {
			t.Fatalf("%v: no territorial sea", res)
		}
		again, err := Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Errorf("%v: Encode(DecodeFile(data)) differs from data", res)
		}
	}
}

// seaCase is a position and the code Sea.Owner should give (or "" for
// none); land says whether a country's polygon holds the position.
type seaCase struct {
	name     string
	lon, lat float64
	want     string
	land     bool
}

var seaCases10m = []seaCase{
	{"Marseille, Vieux-Port", 5.365, 43.294, "FR", true},
	{"off Marseille", 5.30, 43.25, "FR", false},
	// The strait is about 18 nm wide: no high seas in it. The point in the
	// middle is nearer the English coast.
	{"Dover Strait, mid-channel", 1.45, 51.0, "GB", false},
	{"Dover Strait, English side", 1.35, 51.05, "GB", false},
	{"Dover Strait, French side", 1.55, 50.95, "FR", false},
	{"Atlantic, 120 km off Lisbon", -11.0, 38.7, "", false},
	{"Atlantic, 80 km off Lisbon", -10.5, 38.7, "", false},
	// Natural Earth draws the Bosporus as land at 1:10m.
	{"Bosporus", 29.02, 41.03, "TR", true},
	{"Sea of Marmara off Istanbul", 29.0, 41.02, "TR", false},
	{"Dardanelles", 26.4, 40.2, "TR", false},
	// Internal waters are not modelled: the middle of Marmara is more
	// than 12 nm from every shore.
	{"Sea of Marmara, middle", 28.0, 40.75, "", false},
	{"Fiji, west of 180", 179.9, -16.9, "FJ", false},
	{"Fiji, east of 180", -179.9, -16.9, "FJ", false},
	{"Fiji, Somosomo Strait west", 179.99, -16.6, "FJ", false},
	{"Fiji, Somosomo Strait east", -179.99, -16.6, "FJ", false},
	{"north of Wrangel Island, 180", 180, 71.7, "RU", false},
	{"north of Wrangel Island, -180", -180, 71.7, "RU", false},
	{"south of Wrangel Island, west", 179.5, 70.85, "RU", false},
	{"south of Wrangel Island, east", -179.5, 70.85, "RU", false},
	{"Long Strait, middle", 180, 70.5, "", false},
	{"Bothnian Sea, Swedish coast", 17.6, 61.0, "SE", false},
	{"Bothnian Sea, Finnish coast", 21.2, 61.5, "FI", false},
	{"Bothnian Sea, middle", 19.5, 61.5, "", false},
	{"Sea of Åland, Swedish side", 18.9, 60.2, "SE", false},
	{"Sea of Åland, Åland side", 19.3, 60.2, "AX", false},
	{"Caspian, middle", 50.5, 42.0, "", false},
	{"Caspian off Baku", 50.6, 40.2, "AZ", false},
	{"Scarborough Reef, smaller than a cell", 117.8, 15.2, "XR", false},
	{"Rockall", -13.6, 57.55, "GB", false},
	{"Pacific, equator", -150, 0, "", false},
	{"South Pole", 0, -90, "AQ", true},
	{"North Pole", 0, 90, "", false},
}

func TestSeaOwner(t *testing.T) {
	d := load(t, Res10m)
	for _, tc := range seaCases10m {
		code := ""
		if i := d.Sea.Owner(tc.lon, tc.lat); i >= 0 {
			code = d.Countries[i].Code
		}
		if code != tc.want {
			t.Errorf("%s (%v, %v): Owner gives %q, want %q", tc.name, tc.lon, tc.lat, code, tc.want)
		}
		if tc.lat > -89 {
			if on := locate(d, geoindex.Point{Lon: tc.lon, Lat: tc.lat}) != nil; on != tc.land {
				t.Errorf("%s (%v, %v): on land %v, want %v", tc.name, tc.lon, tc.lat, on, tc.land)
			}
		}
	}
}

func TestSeaOwner110m(t *testing.T) {
	d := load(t, Res110m)
	for _, tc := range []seaCase{
		{"off Marseille", 5.30, 43.25, "FR", false},
		{"Atlantic, 120 km off Lisbon", -11.0, 38.7, "", false},
		{"Pacific, equator", -150, 0, "", false},
	} {
		code := ""
		if i := d.Sea.Owner(tc.lon, tc.lat); i >= 0 {
			code = d.Countries[i].Code
		}
		if code != tc.want {
			t.Errorf("%s: Owner gives %q, want %q", tc.name, code, tc.want)
		}
	}
}

func TestSeaOwnerEdges(t *testing.T) {
	s := load(t, Res10m).Sea
	for _, lat := range []float64{-16.6, 0, 65.5, 71.7} {
		if a, b := s.Owner(180, lat), s.Owner(-180, lat); a != b {
			t.Errorf("lat %v: Owner at 180 = %d, at -180 = %d", lat, a, b)
		}
	}
	nan, inf := math.NaN(), math.Inf(1)
	for _, p := range [][2]float64{{nan, 0}, {0, nan}, {inf, 0}, {0, -inf}, {180.0001, 0}, {-180.0001, 0}, {0, 90.0001}, {0, -90.0001}} {
		if got := s.Owner(p[0], p[1]); got != -1 {
			t.Errorf("Owner(%v, %v) = %d, want -1", p[0], p[1], got)
		}
	}
	var none *Sea
	if none.Owner(1.45, 51) != -1 || (&Sea{}).Owner(1.45, 51) != -1 {
		t.Error("a nil or zero Sea has an owner")
	}
	if n := testing.AllocsPerRun(100, func() { s.Owner(1.45, 51) }); n != 0 {
		t.Errorf("Owner allocates %v times", n)
	}
}

func FuzzSeaOwner(f *testing.F) {
	d := load(f, Res10m)
	for _, p := range [][2]float64{{1.45, 51}, {180, 90}, {-180, -90}, {math.NaN(), 0}, {179.99999999999997, 89.99999999999999}} {
		f.Add(math.Float64bits(p[0]), math.Float64bits(p[1]))
	}
	f.Fuzz(func(t *testing.T, lon, lat uint64) {
		if got := d.Sea.Owner(math.Float64frombits(lon), math.Float64frombits(lat)); got < -1 || got >= len(d.Countries) {
			t.Fatalf("Owner = %d, not an index into %d countries", got, len(d.Countries))
		}
	})
}

func BenchmarkSeaOwner(b *testing.B) {
	s := load(b, Res10m).Sea
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([][2]float64, 1<<16)
	for i := range pts {
		pts[i] = [2]float64{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
	}
	b.Logf("Sea at 10m: %.1f MB, %d mixed blocks", float64(s.Size())/(1<<20), s.MixedBlocks())
	n := 0
	for i := 0; b.Loop(); i++ {
		p := pts[i&(len(pts)-1)]
		n += s.Owner(p[0], p[1])
	}
	if n == math.MinInt {
		b.Fatal(n)
	}
}
