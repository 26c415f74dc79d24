package geoindex

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func box(x0, y0, x1, y1 float64) Ring {
	return Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func mustBuild(t testing.TB, shapes []Shape) (*Index, *Reference) {
	t.Helper()
	ix, err := Build(shapes, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ref, err := NewReference(shapes)
	if err != nil {
		t.Fatalf("NewReference: %v", err)
	}
	return ix, ref
}

// names turns an index answer into shape names for readable failures.
func names(shapes []Shape, regs []int32) []string {
	out := []string{}
	for _, r := range regs {
		out = append(out, shapes[r].Name)
	}
	return out
}

func lookupNames(t testing.TB, ix *Index, shapes []Shape, lon, lat float64) []string {
	t.Helper()
	id, err := ix.Lookup(lon, lat)
	if err != nil {
		t.Fatalf("Lookup(%v, %v): %v", lon, lat, err)
	}
	return names(shapes, ix.Regions(id))
}

func checkAgainstReference(t testing.TB, ix *Index, ref *Reference, lon, lat float64) {
	t.Helper()
	id, err := ix.Lookup(lon, lat)
	want, rerr := ref.Lookup(lon, lat)
	if (err == nil) != (rerr == nil) {
		t.Fatalf("lon=%v lat=%v: index error %v, reference error %v", lon, lat, err, rerr)
	}
	if err != nil {
		return
	}
	if got := ix.Regions(id); !slices.Equal(got, want) {
		t.Fatalf("lon=%v lat=%v: index %v, reference %v", lon, lat, got, want)
	}
}

func TestLookupCases(t *testing.T) {
	// A small world: a country with a hole (Lesotho in South Africa), an
	// enclave (Vatican in Italy), an island state across the antimeridian
	// given stitched as world-atlas does (Fiji), a polar ring (Antarctica),
	// and a zone overlapping two countries.
	shapes := []Shape{
		{Name: "ZA", Polygons: []Polygon{{box(16, -35, 33, -22), box(27, -30.7, 29.5, -28.5)}}},
		{Name: "LS", Polygons: []Polygon{{box(27, -30.7, 29.5, -28.5)}}},
		{Name: "IT", Polygons: []Polygon{{box(7, 37, 18, 47)}}},
		{Name: "VA", Polygons: []Polygon{{box(12.445, 41.900, 12.458, 41.907)}}},
		{Name: "FJ", Polygons: []Polygon{{{{177, -19}, {-178, -19}, {-178, -15}, {177, -15}, {177, -19}}}}},
		{Name: "AQ", Polygons: []Polygon{{{{-180, -70}, {90, -65}, {0, -70}, {-90, -65}, {-180, -70}}}}},
		{Name: "zone", Polygons: []Polygon{{box(10, 40, 20, 45)}}},
		{Name: "NP", Polygons: []Polygon{{{{-180, 80}, {-90, 80}, {0, 80}, {90, 80}, {180, 80}}}}},
	}
	ix, ref := mustBuild(t, shapes)
	tests := []struct {
		name     string
		lon, lat float64
		want     []string
	}{
		{"inside South Africa", 20, -30, []string{"ZA"}},
		{"Lesotho is a hole in South Africa", 28, -29.5, []string{"LS"}},
		{"Vatican enclave", 12.45, 41.903, []string{"IT", "VA", "zone"}},
		{"Rome, in Italy and the zone", 12.5, 41.9, []string{"IT", "zone"}},
		{"zone beyond Italy", 19, 44, []string{"zone"}},
		{"Fiji west of the antimeridian", 178, -17, []string{"FJ"}},
		{"Fiji east of the antimeridian", -179, -17, []string{"FJ"}},
		{"Fiji on the antimeridian as 180", 180, -17, []string{"FJ"}},
		{"Fiji on the antimeridian as -180", -180, -17, []string{"FJ"}},
		{"ocean west of Fiji", 176, -17, []string{}},
		{"South Pole", 0, -90, []string{"AQ"}},
		{"South Pole at another longitude", 123, -90, []string{"AQ"}},
		{"South Pole at the antimeridian", -180, -90, []string{"AQ"}},
		{"Antarctic coast, inside", 45, -80, []string{"AQ"}},
		{"Southern Ocean", 45, -60, []string{}},
		{"North Pole cap", 10, 85, []string{"NP"}},
		{"North Pole", -180, 90, []string{"NP"}},
		{"open ocean", -30, 0, []string{}},
		// Points on boundaries: the west and south edges belong to a box,
		// the east and north edges do not.
		{"west edge of Italy", 7, 40, []string{"IT"}},
		{"east edge of Italy, inside the zone", 18, 40, []string{"zone"}},
		{"east edge of the zone", 20, 44, []string{}},
		{"south edge of Italy", 10, 37, []string{"IT"}},
		{"north edge of Italy", 10, 47, []string{}},
		{"south-west corner of Italy", 7, 37, []string{"IT"}},
		{"north-east corner of Italy", 18, 47, []string{}},
		{"shared edge goes to one side only", 27, -29, []string{"LS"}},
		{"shared east edge of Lesotho", 29.5, -29, []string{"ZA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lookupNames(t, ix, shapes, tc.lon, tc.lat); !slices.Equal(got, tc.want) {
				t.Errorf("Lookup(%v, %v) = %v, want %v", tc.lon, tc.lat, got, tc.want)
			}
			checkAgainstReference(t, ix, ref, tc.lon, tc.lat)
		})
	}
}

func TestLookupRejectsInvalidPoints(t *testing.T) {
	ix, _ := mustBuild(t, []Shape{{Name: "a", Polygons: []Polygon{{box(0, 0, 1, 1)}}}})
	for _, p := range [][2]float64{
		{math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(-1)},
		{180.0000001, 0}, {-181, 0}, {0, 90.5}, {0, -91},
	} {
		_, err := ix.Lookup(p[0], p[1])
		var ipe *InvalidPointError
		if !errors.As(err, &ipe) {
			t.Errorf("Lookup(%v, %v) error = %v, want *InvalidPointError", p[0], p[1], err)
		}
	}
}

func TestBuildRejectsBadGeometry(t *testing.T) {
	tests := []struct {
		name   string
		ring   Ring
		vertex int
	}{
		{"empty ring", Ring{}, -1},
		{"two vertices", Ring{{0, 0}, {1, 1}, {0, 0}}, -1},
		{"repeated points only", Ring{{1, 1}, {1, 1}, {1, 1}, {1, 1}}, -1},
		{"NaN", Ring{{0, 0}, {1, math.NaN()}, {1, 1}}, 1},
		{"infinity", Ring{{0, 0}, {1, 0}, {math.Inf(1), 1}}, 2},
		{"latitude out of range", Ring{{0, 0}, {1, 0}, {1, 91}}, 2},
		{"longitude out of range", Ring{{0, 0}, {600, 0}, {1, 1}}, 1},
		{"three turns round the pole", Ring{{0, 0}, {170, 0}, {-20, 0}, {150, 0}, {-40, 0}, {130, 0}, {-60, 10}}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shapes := []Shape{
				{Name: "good", Polygons: []Polygon{{box(0, 0, 1, 1)}}},
				{Name: "bad", Polygons: []Polygon{{box(0, 0, 1, 1)}, {box(2, 2, 3, 3), tc.ring}}},
			}
			_, err := Build(shapes, Options{})
			var ge *GeometryError
			if !errors.As(err, &ge) {
				t.Fatalf("Build error = %v, want *GeometryError", err)
			}
			if ge.Shape != "bad" || ge.Polygon != 1 || ge.Ring != 1 || ge.Vertex != tc.vertex {
				t.Errorf("error at shape %q polygon %d ring %d vertex %d, want \"bad\" 1 1 %d (%v)", ge.Shape, ge.Polygon, ge.Ring, ge.Vertex, tc.vertex, err)
			}
		})
	}
}

func TestDegenerateRingsAreHandled(t *testing.T) {
	// Unclosed rings, repeated points and a self-touching ring (a bow tie
	// whose lobes meet at one vertex) are accepted.
	shapes := []Shape{
		{Name: "unclosed", Polygons: []Polygon{{{{0, 0}, {4, 0}, {4, 4}, {0, 4}}}}},
		{Name: "repeats", Polygons: []Polygon{{{{10, 0}, {10, 0}, {14, 0}, {14, 4}, {14, 4}, {10, 4}, {10, 0}}}}},
		{Name: "bowtie", Polygons: []Polygon{{{{20, 0}, {24, 4}, {24, 0}, {20, 4}, {20, 0}}}}},
	}
	ix, ref := mustBuild(t, shapes)
	for _, p := range [][2]float64{{2, 2}, {12, 2}, {23, 2}, {21, 2}, {22, 1}, {22, 2}, {22, 3}, {5, 5}} {
		checkAgainstReference(t, ix, ref, p[0], p[1])
	}
	if got := lookupNames(t, ix, shapes, 23, 2); !slices.Equal(got, []string{"bowtie"}) {
		t.Errorf("bow tie lobe = %v", got)
	}
	if got := lookupNames(t, ix, shapes, 22, 3); !slices.Equal(got, []string{}) {
		t.Errorf("outside the bow tie's lobes = %v", got)
	}
}

// randomShapes makes overlapping polygons with vertices on a coarse lattice,
// so that points on edges, on vertices and on collinear runs are common.
func randomShapes(rng *rand.Rand, n int) []Shape {
	var shapes []Shape
	for i := 0; i < n; i++ {
		cx, cy := float64(rng.IntN(40)-20), float64(rng.IntN(40)-20)
		var poly Polygon
		for r := 0; r < 1+rng.IntN(2); r++ {
			k := 3 + rng.IntN(8)
			var ring Ring
			for j := 0; j < k; j++ {
				a := 2 * math.Pi * float64(j) / float64(k)
				rad := float64(1 + rng.IntN(12))
				ring = append(ring, Point{cx + math.Round(rad*math.Cos(a)), cy + math.Round(rad*math.Sin(a))})
			}
			poly = append(poly, ring)
		}
		shapes = append(shapes, Shape{Name: "s", Polygons: []Polygon{poly}})
	}
	return shapes
}

func TestRandomShapesMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 40; round++ {
		shapes := randomShapes(rng, 1+rng.IntN(30))
		ix, err := Build(shapes, Options{GridLevels: 1 + rng.IntN(4), LeafEdges: 1 + rng.IntN(6)})
		if err != nil {
			// Many shapes meeting at one lattice point can exceed the
			// limit; that must be the reported reason.
			t.Logf("round %d: %v", round, err)
			continue
		}
		ref, err := NewReference(shapes)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3000; i++ {
			var lon, lat float64
			switch i % 3 {
			case 0: // lattice points: vertices and edges
				lon, lat = float64(rng.IntN(70)-35), float64(rng.IntN(70)-35)
			case 1: // half-lattice points: on edges between vertices
				lon, lat = float64(rng.IntN(140)-70)/2, float64(rng.IntN(140)-70)/2
			default:
				lon, lat = rng.Float64()*70-35, rng.Float64()*70-35
			}
			checkAgainstReference(t, ix, ref, lon, lat)
		}
	}
}

func FuzzIndexMatchesReference(f *testing.F) {
	f.Add([]byte{3, 0, 0, 10, 0, 10, 10, 5, 5, 1, 1})
	f.Add([]byte{4, 200, 10, 40, 10, 40, 40, 200, 40, 1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		// data: a vertex count, then lon/lat bytes for one ring of shape 0,
		// then the rest as a second ring of shape 1 and query points.
		k := 3 + int(data[0])%12
		data = data[1:]
		coord := func(b byte) float64 { return float64(int(b)-128) / 4 }
		var shapes []Shape
		for s := 0; s < 2 && len(data) >= 2*k; s++ {
			var ring Ring
			for j := 0; j < k; j++ {
				ring = append(ring, Point{coord(data[2*j]) * 1.4, coord(data[2*j+1]) * 0.7})
			}
			data = data[2*k:]
			shapes = append(shapes, Shape{Name: "fuzz", Polygons: []Polygon{{ring}}})
		}
		ix, err := Build(shapes, Options{GridLevels: 2})
		ref, rerr := NewReference(shapes)
		if (err == nil) != (rerr == nil) {
			var ge *GeometryError
			if !errors.As(err, &ge) && rerr == nil {
				// Only the closeness limit may reject what the reference accepts.
				return
			}
			t.Fatalf("Build error %v, reference error %v", err, rerr)
		}
		if err != nil {
			return
		}
		for i := 0; i+1 < len(data); i += 2 {
			checkAgainstReference(t, ix, ref, coord(data[i])*1.4, coord(data[i+1])*0.7)
		}
		for _, q := range [][2]float64{{0, 0}, {-180, 0}, {180, -90}, {0, 90}} {
			checkAgainstReference(t, ix, ref, q[0], q[1])
		}
	})
}

func TestLookupDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := randomShapes(rng, 20)
	ix, _ := mustBuild(t, shapes)
	pts := make([][2]float64, 1000)
	for i := range pts {
		pts[i] = [2]float64{rng.Float64()*70 - 35, rng.Float64()*70 - 35}
	}
	var sink SetID
	allocs := testing.AllocsPerRun(10, func() {
		for _, p := range pts {
			id, _ := ix.Lookup(p[0], p[1])
			sink ^= id
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per 1000 lookups, want 0", allocs)
	}
	_ = sink
}
