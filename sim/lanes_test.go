package sim

import "testing"

// TestLanesAreAtSea walks every sea lane kilometre by kilometre: no ship
// may sail on land.
func TestLanesAreAtSea(t *testing.T) {
	a := scenarioPolicy(t).Atlas()
	for _, l := range newLanes() {
		if l.km() < 100 {
			t.Errorf("lane %s is %.0f km long", l.name, l.km())
		}
		for km := 0.0; km <= l.km(); km++ {
			lat, lon := l.at(km)
			p, err := a.Locate(lon, lat)
			if err != nil {
				t.Fatalf("lane %s at %.0f km: %v", l.name, km, err)
			}
			if p.Land {
				t.Errorf("lane %s at %.0f km (%.4f, %.4f) is on the land of %s", l.name, km, lat, lon, a.Code(p.Country))
				break
			}
		}
	}
}

func TestCities(t *testing.T) {
	cs, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 44058 {
		t.Errorf("%d cities, want 44,058", len(cs))
	}
	if c := cs[0]; c.Name != "Tokyo" || c.Country != "JP" || c.Population != 37732000 {
		t.Errorf("largest city %+v, want Tokyo", c)
	}
	for i, c := range cs {
		if c.Population < 1000 || c.Lat < -90 || c.Lat > 90 || c.Lon < -180 || c.Lon > 180 || len(c.Country) != 2 {
			t.Fatalf("city %d: %+v", i, c)
		}
		if i > 0 && c.Population > cs[i-1].Population {
			t.Fatalf("city %d (%s) larger than the one before", i, c.Name)
		}
	}
}
