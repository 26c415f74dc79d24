package atlas

import (
	"sync"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/world/worldtest"
)

var (
	once   sync.Once
	shared *Atlas
)

func world10m(t testing.TB) *Atlas {
	t.Helper()
	once.Do(func() {
		d, err := world.Load(world.Res10m)
		if err != nil {
			t.Fatal(err)
		}
		if shared, err = New(d, geoindex.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if shared == nil {
		t.Fatal("no atlas")
	}
	return shared
}

func TestLocateKnownPlaces(t *testing.T) {
	a := world10m(t)
	tests := []struct {
		name     string
		lat, lon float64
		want     string
		land     bool
	}{
		{"Paris", 48.8566, 2.3522, "FR", true},
		{"Maseru, Lesotho inside South Africa", -29.31, 27.48, "LS", true},
		{"Johannesburg", -26.2, 28.05, "ZA", true},
		{"Vatican City", 41.9029, 12.4534, "VA", true},
		{"Rome", 41.89, 12.5, "IT", true},
		{"San Marino", 43.9424, 12.4578, "SM", true},
		{"Wrangel Island, west of 180", 71.25, 179.5, "RU", true},
		{"Wrangel Island, east of 180", 71.2, -179.6, "RU", true},
		{"Chukotka", 66.5, -175, "RU", true},
		{"Viti Levu, Fiji", -17.8, 178.0, "FJ", true},
		{"Taveuni, Fiji, east of 180", -16.85, -179.95, "FJ", true},
		{"South Pole", -90, 0, "AQ", true},
		{"South Pole at another meridian", -90, 137, "AQ", true},
		{"Antarctica at 180, beyond the Ross Ice Shelf (not land in this data)", -85.5, 180, "AQ", true},
		{"Ross Ice Shelf (an ice shelf, not land in Natural Earth admin-0)", -80, 180, "", false},
		{"Cayenne, French Guiana", 4.93, -52.33, "GF", true},
		{"Saint-Denis, Reunion", -20.88, 55.45, "RE", true},
		{"Spitsbergen, Svalbard", 78.6, 17, "SJ", true},
		{"Kralendijk, Bonaire", 12.15, -68.27, "BQ", true},
		{"Crimea, in Russia's feature in this data", 45.0, 34.1, "RU", true},
		{"Taipei", 25.03, 121.56, "TW", true},
		{"Pristina", 42.67, 21.17, "XK", true},
		{"mid Pacific", 0, -150, "", false},
		{"mid Atlantic", 30, -40, "", false},
		{"North Pole (sea ice, no land)", 90, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Locate(tc.lon, tc.lat)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Code(p.Country); got != tc.want || p.Land != tc.land {
				t.Errorf("Locate(lat %v, lon %v) = %q land=%v, want %q land=%v", tc.lat, tc.lon, got, p.Land, tc.want, tc.land)
			}
		})
	}
}

func TestLocateRejectsInvalid(t *testing.T) {
	a := world10m(t)
	for _, p := range [][2]float64{{181, 0}, {0, -90.01}} {
		if _, err := a.Locate(p[0], p[1]); err == nil {
			t.Errorf("Locate(%v, %v) gave no error", p[0], p[1])
		}
	}
}

// TestNoCountriesOverlap checks, on the same million points as the index's
// own test, that no point lies in the land of two countries.
func TestNoCountriesOverlap(t *testing.T) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		t.Fatal(err)
	}
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	ix, err := geoindex.Build(shapes, geoindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := worldtest.Points(shapes, 1_000_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]geoindex.SetID, len(pts))
	if err := ix.LookupBatch(pts, ids); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if regs := ix.Regions(id); len(regs) > 1 {
			t.Fatalf("lon=%v lat=%v is in %s and %s", pts[i].Lon, pts[i].Lat, d.Countries[regs[0]].Code, d.Countries[regs[1]].Code)
		}
	}
}

func TestLocateBatchMatchesLocate(t *testing.T) {
	a := world10m(t)
	pts := []geoindex.Point{{Lon: 2.35, Lat: 48.85}, {Lon: 500, Lat: 0}, {Lon: -179.6, Lat: 71.2}, {Lon: 0, Lat: 0}}
	out := make([]Place, len(pts))
	err := a.LocateBatch(pts, out, nil)
	if err == nil {
		t.Error("LocateBatch did not report the invalid point")
	}
	for i, p := range pts {
		want, _ := a.Locate(p.Lon, p.Lat)
		if out[i] != want {
			t.Errorf("point %d: batch %+v, single %+v", i, out[i], want)
		}
	}
}
