package zone

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
)

const twoZones = `{"type": "FeatureCollection", "features": [
  {"type": "Feature", "id": "occupied-1", "properties": {"name": "Occupied area"},
   "geometry": {"type": "Polygon", "coordinates": [[[33, 44.5], [34, 44.5], [34, 45.5], [33, 45.5], [33, 44.5]]]}},
  {"type": "Feature", "id": 7, "properties": null,
   "geometry": {"type": "MultiPolygon", "coordinates": [
     [[[179, -17], [-179, -17], [-179, -16], [179, -16], [179, -17]]],
     [[[10, 10], [11, 10], [11, 11], [10, 10]]]]}}
]}`

func TestParseValid(t *testing.T) {
	zones, warns, err := Parse([]byte(twoZones), "zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if len(zones) != 2 || zones[0].ID != "occupied-1" || zones[0].Name != "Occupied area" || zones[1].ID != "7" || len(zones[1].Polygons) != 2 {
		t.Fatalf("got %+v", zones)
	}
}

func TestParseSingleFeature(t *testing.T) {
	doc := `{"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`
	zones, _, err := Parse([]byte(doc), "f")
	if err != nil || len(zones) != 1 || zones[0].ID != "a" {
		t.Fatalf("got %v, %v", zones, err)
	}
}

func TestParseErrorsSayWhere(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // "pointer: message fragment"
	}{
		{"not JSON", `{"type": "FeatureCollection",`, []string{"(document): invalid JSON at line 1"}},
		{"syntax error on line 3", "{\n\"type\": \"Feature\",\n\"id\": x}", []string{"(document): invalid JSON at line 3 column"}},
		{"wrong type", `{"type": "Point", "coordinates": [0, 0]}`, []string{"/type: want \"FeatureCollection\" or \"Feature\""}},
		{"missing id", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`, []string{"/id: missing"}},
		{"latitude out of range",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,95],[0,0]]]}}]}`,
			[]string{"/features/0/geometry/coordinates/0/2/1: latitude 95 out of range"}},
		{"unclosed ring",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}`,
			[]string{"/features/0/geometry/coordinates/0/3: ring is not closed"}},
		{"too few positions",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}`,
			[]string{"/features/0/geometry/coordinates/0: a ring needs at least 4 positions"}},
		{"degenerate ring in a multipolygon",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,6],[5,5],[5,5]]]]}}]}`,
			[]string{"/features/0/geometry/coordinates/1/0: ring has fewer than 3 distinct vertices"}},
		{"point geometry",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[0,0]}}]}`,
			[]string{"/features/0/geometry/type: want \"Polygon\" or \"MultiPolygon\""}},
		{"every error at once, and duplicate ids",
			`{"type":"FeatureCollection","features":[
			 {"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
			 {"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
			 {"type":"Feature","id":"b","geometry":{"type":"Polygon","coordinates":[[[0,0],["x",0],[1,1],[0,0]]]}},
			 {"type":"Feature","id":"c","geometry":null}]}`,
			[]string{"/features/1/id: duplicate id \"a\" (also at /features/0)", "/features/2/geometry/coordinates/0/1: want a position", "/features/3/geometry: missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.doc), "z.geojson")
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want Errors", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				if got := errs[i].String(); !strings.HasPrefix(got, "z.geojson: "+w) {
					t.Errorf("error %d = %q, want prefix %q", i, got, "z.geojson: "+w)
				}
			}
		})
	}
}

func TestParseWarnsOnLongEdges(t *testing.T) {
	// The edge along 49N from -123 to -95 bows about 95 km away from the
	// great circle (DESIGN.md).
	doc := `{"type":"Feature","id":"border","geometry":{"type":"Polygon","coordinates":[[[-123,49],[-95,49],[-95,40],[-123,40],[-123,49]]]}}`
	_, warns, err := Parse([]byte(doc), "z")
	if err != nil {
		t.Fatal(err)
	}
	var ptrs []string
	for _, w := range warns {
		ptrs = append(ptrs, w.Pointer)
	}
	if !slices.Contains(ptrs, "/geometry/coordinates/0/0") {
		t.Errorf("warnings %v, want one for /geometry/coordinates/0/0", warns)
	}
	if d := EdgeDeviationKm(pt(-123, 49), pt(-95, 49)); d < 80 || d > 110 {
		t.Errorf("deviation along 49N = %.1f km, want about 95", d)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(twoZones))
	f.Add([]byte(`{"type":"Feature","id":"a","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1e400}]}`))
	f.Add([]byte(polygonDoc(`[[0,0],[10,10],[10,0],[0,10],[0,0]]`)))
	f.Add([]byte(polygonDoc(`[[0,0],[10,0],[10,10],[0,10],[0,0]]`, `[[5,5],[15,5],[15,6],[5,6],[5,5]]`)))
	f.Add([]byte(polygonDoc(`[[179,0],[-179,2],[-179,0],[179,2],[179,0]]`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		zones, _, err := Parse(data, "fuzz")
		if err == nil {
			for _, z := range zones {
				if z.ID == "" || len(z.Polygons) == 0 {
					t.Fatalf("accepted zone without id or geometry: %+v", z)
				}
				for _, poly := range z.Polygons {
					for _, r := range poly {
						if len(r) <= 200 && !wrapsPole(r) && !simpleByReference(unwrap(r)) {
							t.Fatalf("accepted zone %q with a ring that is not simple: %v", z.ID, r)
						}
					}
				}
			}
		}
	})
}

func pt(lon, lat float64) geoindex.Point { return geoindex.Point{Lon: lon, Lat: lat} }
