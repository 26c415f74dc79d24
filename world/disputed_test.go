package world

import (
	"math"
	"slices"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
)

// inRing reports whether p lies inside the open ring r by the even-odd rule
// (a ray cast east). Points on an edge may go either way; the test points
// are far from edges.
func inRing(p geoindex.Point, r geoindex.Ring) bool {
	in := false
	for i, a := range r {
		b := r[(i+1)%len(r)]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lon < a.Lon+(p.Lat-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat) {
			in = !in
		}
	}
	return in
}

// locate returns the codes of every country that contains p, trying p and
// its copies 360 degrees east and west because rings are unwrapped. It
// skips rings that wind round a pole, which even-odd cannot judge.
func locate(d *Data, p geoindex.Point) []string {
	var out []string
	for _, c := range d.Countries {
	polygons:
		for _, poly := range c.Polygons {
			for _, shift := range []float64{0, 360, -360} {
				q := geoindex.Point{Lon: p.Lon + shift, Lat: p.Lat}
				in := false
				for _, r := range poly {
					if math.Abs(netLon(r)) < 1 && inRing(q, r) {
						in = !in
					}
				}
				if in {
					out = append(out, c.Code)
					break polygons
				}
			}
		}
	}
	return out
}

// disputed lists what the 1:10m data says about disputed and contested
// places. docs/DATA.md copies this table: change both together.
var disputed = []struct {
	place    string
	lon, lat float64
	want     string
}{
	{"Crimea", 34.1, 45.0, "RU"},
	{"Taiwan", 121, 23.7, "TW"},
	{"Western Sahara, west of the berm", -13, 24.5, "MA"},
	{"Western Sahara, east of the berm", -10, 26.5, "EH"},
	{"Kashmir: Srinagar", 74.8, 34.08, "IN"},
	{"Kashmir: Gilgit", 74.3, 35.9, "PK"},
	{"Kashmir: Aksai Chin", 79.5, 35.2, "CN"},
	{"Kashmir: Siachen Glacier", 77.1, 35.4, "XJ"},
	{"Kosovo", 21.17, 42.67, "XK"},
	{"Northern Cyprus", 33.6, 35.25, "XC"},
	{"Somaliland", 44.06, 9.56, "XS"},
	{"Golan Heights", 35.75, 33.0, "IL"},
	{"Abkhazia", 41.0, 43.0, "GE"},
	{"South Ossetia", 43.97, 42.23, "GE"},
	{"Transnistria", 29.6, 46.85, "MD"},
	{"Donetsk", 37.8, 48.0, "UA"},
	{"Falklands", -59, -51.7, "FK"},
	{"Gaza", 34.45, 31.5, "PS"},
	{"West Bank", 35.25, 31.95, "PS"},
	{"Southern Kurils: Kunashir", 146.0, 44.2, "RU"},
	{"Paracel Islands: Woody Island", 112.331, 16.832, "CN"},
	{"Spratly Islands: Itu Aba", 114.363, 10.374, "XP"},
	{"Guantanamo Bay naval base", -75.13, 19.93, "XG"},
}

func TestDisputed(t *testing.T) {
	d := load(t, Res10m)
	for _, tc := range disputed {
		got := locate(d, geoindex.Point{Lon: tc.lon, Lat: tc.lat})
		if !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s (%v, %v): in %v, want [%s]", tc.place, tc.lon, tc.lat, got, tc.want)
		}
	}
}
