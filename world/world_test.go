package world

import (
	"math"
	"regexp"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
)

func load(t testing.TB, res Resolution) *Data {
	t.Helper()
	d, err := Load(res)
	if err != nil {
		t.Fatalf("Load(%v): %v", res, err)
	}
	return d
}

func country(t testing.TB, d *Data, code string) Country {
	t.Helper()
	c, ok := d.Country(code)
	if !ok {
		t.Fatalf("no country %s", code)
	}
	return c
}

func TestResolution(t *testing.T) {
	for _, r := range []Resolution{Res10m, Res110m} {
		got, err := ParseResolution(r.String())
		if err != nil || got != r {
			t.Errorf("ParseResolution(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
	if _, err := ParseResolution("50m"); err == nil {
		t.Error("ParseResolution(50m): want an error")
	}
	if got := Resolution(7).String(); got != "Resolution(7)" {
		t.Errorf("Resolution(7).String() = %q", got)
	}
	if _, err := Load(Resolution(7)); err == nil {
		t.Error("Load(Resolution(7)): want an error")
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		res        Resolution
		minRegions int
		source     string
	}{
		{Res10m, 250, "world-atlas 2.0.2 countries-10m.json (Natural Earth 1:10m admin-0, public domain)"},
		{Res110m, 170, "world-atlas 2.0.2 countries-110m.json (Natural Earth 1:110m admin-0, public domain)"},
	} {
		t.Run(tc.res.String(), func(t *testing.T) {
			d := load(t, tc.res)
			if d.Source != tc.source {
				t.Errorf("Source = %q, want %q", d.Source, tc.source)
			}
			if len(d.Countries) < tc.minRegions {
				t.Errorf("%d countries, want at least %d", len(d.Countries), tc.minRegions)
			}
			code := regexp.MustCompile(`^[A-Z]{2}$`)
			seen := map[string]bool{}
			for _, c := range d.Countries {
				if !code.MatchString(c.Code) || seen[c.Code] {
					t.Errorf("code %q is malformed or repeated", c.Code)
				}
				seen[c.Code] = true
				if c.Name == "" || len(c.Polygons) == 0 {
					t.Errorf("%s: name %q, %d polygons", c.Code, c.Name, len(c.Polygons))
				}
			}
			for _, c := range d.Countries {
				if !seen[c.Sovereign] {
					t.Errorf("%s: sovereign %s is not a region", c.Code, c.Sovereign)
				}
			}
			for _, code := range []string{"US", "RU", "AQ", "FR", "GF", "SJ", "XK", "XC", "XS"} {
				country(t, d, code)
			}
		})
	}
}

// bbox returns min lon, min lat, max lon, max lat of every vertex of c.
func bbox(c Country) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range c.Polygons {
		for _, r := range p {
			for _, q := range r {
				b[0], b[1] = min(b[0], q.Lon), min(b[1], q.Lat)
				b[2], b[3] = max(b[2], q.Lon), max(b[3], q.Lat)
			}
		}
	}
	return b
}

func TestTerritories(t *testing.T) {
	d := load(t, Res10m)
	for _, tc := range []struct {
		code, sovereign string
		within          [4]float64 // the territory's box lies inside this one
	}{
		{"GF", "FR", [4]float64{-55, 2, -51, 6}},
		{"GP", "FR", [4]float64{-62, 15.8, -60.8, 16.6}},
		{"MQ", "FR", [4]float64{-61.3, 14.3, -60.8, 14.9}},
		{"RE", "FR", [4]float64{55.2, -21.4, 55.9, -20.8}},
		{"YT", "FR", [4]float64{45, -13.1, 45.35, -12.6}},
		{"SJ", "NO", [4]float64{-9.3, 70.7, 40, 81.5}},
		{"BV", "NO", [4]float64{3.3, -54.5, 3.5, -54.35}},
		{"BQ", "NL", [4]float64{-68.45, 12, -62.9, 17.7}},
		{"TK", "NZ", [4]float64{-172.6, -9.6, -171, -8.4}},
		{"CC", "AU", [4]float64{96.7, -12.3, 97, -11.8}},
		{"CX", "AU", [4]float64{105.5, -10.6, 105.75, -10.4}},
		{"PR", "US", [4]float64{-68, 17.8, -65.2, 18.6}},
		{"GL", "DK", [4]float64{-74, 59, -10, 84}},
		{"XG", "US", [4]float64{-75.3, 19.8, -75, 20.1}},
		{"FR", "FR", [4]float64{-109.3, 10.2, 10, 51.5}}, // metropolitan France, Corsica, Clipperton
		{"NO", "NO", [4]float64{4, 57.5, 32, 72}},        // mainland Norway only
		{"NL", "NL", [4]float64{3, 50.7, 7.3, 53.7}},     // European Netherlands only
	} {
		c := country(t, d, tc.code)
		if c.Sovereign != tc.sovereign {
			t.Errorf("%s: sovereign %s, want %s", tc.code, c.Sovereign, tc.sovereign)
		}
		b, w := bbox(c), tc.within
		if b[0] < w[0] || b[1] < w[1] || b[2] > w[2] || b[3] > w[3] {
			t.Errorf("%s: bbox %v, want within %v", tc.code, b, w)
		}
	}
	// Once split, France keeps metropolitan France, Corsica and Clipperton.
	for i, p := range country(t, d, "FR").Polygons {
		b := bbox(Country{Polygons: []geoindex.Polygon{p}})
		if b[0] < -10 && b[2] > -109 {
			t.Errorf("FR polygon %d: bbox %v lies neither in Europe nor at Clipperton", i, b)
		}
	}
	if _, ok := d.Country("ZZ"); ok {
		t.Error("Country(ZZ) found")
	}
}

// netLon returns the net change of longitude round the open ring r, taking
// the closing edge (last to first) the short way round.
func netLon(r geoindex.Ring) float64 {
	var s float64
	for i := 1; i < len(r); i++ {
		s += r[i].Lon - r[i-1].Lon
	}
	closing := r[0].Lon - r[len(r)-1].Lon
	return s + closing - 360*math.Round(closing/360)
}

func TestAntarcticaRunsWest(t *testing.T) {
	for _, res := range []Resolution{Res10m, Res110m} {
		aq := country(t, load(t, res), "AQ")
		polar := 0
		for _, p := range aq.Polygons {
			for _, r := range p {
				switch n := netLon(r); {
				case math.Abs(n+360) < 1e-6:
					polar++
				case math.Abs(n) > 1e-6:
					t.Errorf("%v: AQ ring with net lon change %v", res, n)
				}
			}
		}
		if polar != 1 {
			t.Errorf("%v: %d AQ rings run west round the pole, want 1", res, polar)
		}
	}
}

func TestAntimeridianUnwrapped(t *testing.T) {
	for _, res := range []Resolution{Res10m, Res110m} {
		d := load(t, res)
		for _, c := range d.Countries {
			for j, p := range c.Polygons {
				for _, r := range p {
					for i := 1; i < len(r); i++ {
						if math.Abs(r[i].Lon-r[i-1].Lon) > 180 {
							t.Errorf("%v %s: jump of %v degrees at %v", res, c.Code, r[i].Lon-r[i-1].Lon, r[i])
						}
					}
				}
				b := bbox(Country{Polygons: []geoindex.Polygon{p[:1]}})
				if mid := (b[0] + b[2]) / 2; c.Code != "AQ" && (mid < -180 || mid >= 180) {
					t.Errorf("%v %s polygon %d: exterior spans %v..%v, middle not in [-180, 180)", res, c.Code, j, b[0], b[2])
				}
			}
		}
	}
	// At 1:10m Natural Earth cuts Russia and Fiji at the antimeridian (the
	// rings only run along it), so they reach exactly -180 and 180 and no
	// further. At 1:110m their rings cross it and reach beyond 180.
	for _, tc := range []struct {
		res        Resolution
		code       string
		west, east float64
	}{
		{Res10m, "RU", -180, 180},
		{Res10m, "FJ", -180, 180},
		{Res110m, "RU", -181.2744, 190.1017},
		{Res110m, "FJ", 177.2856, 180.2052},
	} {
		b := bbox(country(t, load(t, tc.res), tc.code))
		if math.Abs(b[0]-tc.west) > 1e-3 || math.Abs(b[2]-tc.east) > 1e-3 {
			t.Errorf("%v %s: lon %v..%v, want %v..%v", tc.res, tc.code, b[0], b[2], tc.west, tc.east)
		}
	}
}

func TestSmallCountries(t *testing.T) {
	d := load(t, Res10m)
	for _, tc := range []struct {
		code string
		at   geoindex.Point // a point inside it
	}{
		{"VA", geoindex.Point{Lon: 12.455, Lat: 41.903}},
		{"SM", geoindex.Point{Lon: 12.45, Lat: 43.94}},
		{"LS", geoindex.Point{Lon: 28.2, Lat: -29.6}},
		{"MC", geoindex.Point{Lon: 7.42, Lat: 43.74}},
	} {
		if got := locate(d, tc.at); len(got) != 1 || got[0] != tc.code {
			t.Errorf("%s: point %v lies in %v, want [%s]", tc.code, tc.at, got, tc.code)
		}
	}
}
