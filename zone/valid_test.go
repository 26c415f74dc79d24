package zone

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
)

// polygonDoc is a one-feature collection with a Polygon of the given rings
// (JSON arrays of positions).
func polygonDoc(rings ...string) string {
	return `{"type":"FeatureCollection","features":[{"type":"Feature","id":"z","geometry":{"type":"Polygon","coordinates":[` +
		strings.Join(rings, ",") + `]}}]}`
}

func TestInvalidPolygonsAreRefusedSayingWhere(t *testing.T) {
	const shell = `[[0,0],[10,0],[10,10],[0,10],[0,0]]`
	tests := []struct {
		name string
		doc  string
		want []string // "pointer: message fragment", each among the errors
	}{
		{"a bowtie", polygonDoc(`[[0,0],[10,10],[10,0],[0,10],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: the edge from this position crosses the edge from position 0"}},
		{"a ring touching itself at a vertex (figure eight)", polygonDoc(`[[0,0],[5,5],[10,0],[10,10],[5,5],[0,10],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/4: the edge from this position touches the edge from position 0"}},
		{"a vertex on another edge", polygonDoc(`[[0,0],[10,0],[10,10],[5,0],[0,10],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: the edge from this position touches the edge from position 0"}},
		{"a spike folding back along its edge", polygonDoc(`[[0,0],[10,0],[10,10],[10,5],[0,10],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: the edge from this position overlaps the edge from position 1"}},
		{"a repeated position", polygonDoc(`[[0,0],[10,0],[10,0],[10,10],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: repeats the position before it"}},
		{"a hole crossing its shell", polygonDoc(shell, `[[5,5],[15,5],[15,6],[5,6],[5,5]]`),
			[]string{"/features/0/geometry/coordinates/1/0: the edge from this position crosses the edge from position 1 of ring 0"}},
		{"a hole touching its shell", polygonDoc(shell, `[[0,5],[5,4],[5,6],[0,5]]`),
			[]string{"/features/0/geometry/coordinates/1/0: the edge from this position touches the edge from position 3 of ring 0"}},
		{"a hole outside its shell", polygonDoc(shell, `[[20,20],[21,20],[21,21],[20,20]]`),
			[]string{"/features/0/geometry/coordinates/1/0: the hole is outside its polygon's first ring"}},
		{"a hole inside another hole", polygonDoc(shell, `[[1,1],[9,1],[9,9],[1,9],[1,1]]`, `[[4,4],[5,4],[5,5],[4,4]]`),
			[]string{"/features/0/geometry/coordinates/2/0: the hole is inside hole 1"}},
		{"a bowtie in a MultiPolygon's second polygon",
			`{"type":"FeatureCollection","features":[{"type":"Feature","id":"m","geometry":{"type":"MultiPolygon","coordinates":[[` + shell + `],[[[20,20],[30,30],[30,20],[20,30],[20,20]]]]}}]}`,
			[]string{"/features/0/geometry/coordinates/1/0/2: the edge from this position crosses the edge from position 0"}},
		{"a bowtie across the antimeridian", polygonDoc(`[[179,0],[-179,2],[-179,0],[179,2],[179,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: the edge from this position crosses the edge from position 0"}},
		{"a vertex on a diagonal edge, at coordinates binary cannot hold", polygonDoc(`[[0,0],[0.3,0.3],[0.3,0],[0.1,0.1],[0,0.3],[0,0]]`),
			[]string{"/features/0/geometry/coordinates/0/2: the edge from this position touches the edge from position 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.doc), "z.geojson")
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want Errors", err)
			}
			for _, w := range tc.want {
				found := false
				for _, e := range errs {
					found = found || strings.HasPrefix(e.String(), "z.geojson: "+w)
				}
				if !found {
					t.Errorf("no error %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidPolygonsAreAccepted(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"a square", polygonDoc(`[[0,0],[10,0],[10,10],[0,10],[0,0]]`)},
		{"a concave ring", polygonDoc(`[[0,0],[10,0],[10,10],[5,2],[0,10],[0,0]]`)},
		{"collinear consecutive edges", polygonDoc(`[[0,0],[5,0],[10,0],[10,10],[0,10],[0,0]]`)},
		{"a square with two holes", polygonDoc(`[[0,0],[10,0],[10,10],[0,10],[0,0]]`, `[[1,1],[2,1],[2,2],[1,1]]`, `[[5,5],[6,5],[6,6],[5,5]]`)},
		{"across the antimeridian, with a hole the other side of it", polygonDoc(`[[178,-1],[-178,-1],[-178,1],[178,1],[178,-1]]`, `[[-179.5,-0.5],[-179,-0.5],[-179,0.5],[-179.5,-0.5]]`)},
		{"round the south pole", polygonDoc(`[[-180,-80],[-90,-80],[0,-80],[90,-80],[180,-80],[180,-90],[-180,-90],[-180,-80]]`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Parse([]byte(tc.doc), "z.geojson"); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

// ringFromBytes makes a closed ring of 3 to 12 distinct-consecutive
// positions on a small grid (so that ends, collinear edges and touching
// are common), scaled by a tenth when the first byte is odd (so that the
// float64 filter of orient meets inexact coordinates).
func ringFromBytes(data []byte) geoindex.Ring {
	if len(data) < 7 {
		return nil
	}
	scale := 1.0
	if data[0]%2 == 1 {
		scale = 0.1
	}
	data = data[1:]
	var r geoindex.Ring
	for i := 0; i+1 < len(data) && len(r) < 12; i += 2 {
		p := geoindex.Point{Lon: float64(data[i]%8) * scale, Lat: float64(data[i+1]%8) * scale}
		if len(r) > 0 && r[len(r)-1] == p {
			continue
		}
		r = append(r, p)
	}
	for len(r) > 1 && r[len(r)-1] == r[0] {
		r = r[:len(r)-1]
	}
	if len(r) < 3 {
		return nil
	}
	return append(r, r[0])
}

// simpleByReference says whether a closed ring without repeated
// consecutive positions is simple, trying every pair of edges in rational
// arithmetic: O(n^2), independent of the sweep and of the float filter.
func simpleByReference(r geoindex.Ring) bool {
	n := len(r) - 1
	rat := func(x float64) *big.Rat { return new(big.Rat).SetFloat64(x) }
	orient := func(a, b, c geoindex.Point) int {
		x := new(big.Rat).Mul(new(big.Rat).Sub(rat(b.Lon), rat(a.Lon)), new(big.Rat).Sub(rat(c.Lat), rat(a.Lat)))
		y := new(big.Rat).Mul(new(big.Rat).Sub(rat(b.Lat), rat(a.Lat)), new(big.Rat).Sub(rat(c.Lon), rat(a.Lon)))
		return x.Cmp(y)
	}
	between := func(a, b, p geoindex.Point) bool { // p collinear with a-b
		return math.Min(a.Lon, b.Lon) <= p.Lon && p.Lon <= math.Max(a.Lon, b.Lon) && math.Min(a.Lat, b.Lat) <= p.Lat && p.Lat <= math.Max(a.Lat, b.Lat)
	}
	meet := func(p1, p2, p3, p4 geoindex.Point) bool {
		d1, d2, d3, d4 := orient(p3, p4, p1), orient(p3, p4, p2), orient(p1, p2, p3), orient(p1, p2, p4)
		if d1*d2 < 0 && d3*d4 < 0 {
			return true
		}
		return d1 == 0 && between(p3, p4, p1) || d2 == 0 && between(p3, p4, p2) || d3 == 0 && between(p1, p2, p3) || d4 == 0 && between(p1, p2, p4)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a, b, c, d := r[i], r[i+1], r[j], r[j+1]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if !adjacent {
				if meet(a, b, c, d) {
					return false
				}
				continue
			}
			// Adjacent edges share one position; they may only meet there.
			shared, x, y := b, a, d // j == i+1: a-b, b-d
			if j != i+1 {
				shared, x, y = a, b, c // i == 0, j == n-1: a-b, c-a
			}
			if orient(x, shared, y) == 0 && (between(shared, x, y) || between(shared, y, x)) {
				return false
			}
		}
	}
	return true
}

// The sweep with its float filter agrees with the O(n^2) rational
// reference on small rings; and no ring, however bad, panics.
func FuzzValidRing(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 2, 2, 0, 0, 2})                      // a bowtie
	f.Add([]byte{0, 0, 0, 4, 0, 4, 4, 0, 4})                      // a square
	f.Add([]byte{1, 0, 0, 3, 3, 3, 0, 1, 1, 0, 3})                // a touch at 0.1 steps
	f.Add([]byte{0, 0, 0, 4, 0, 4, 4, 4, 2, 0, 4})                // a spike
	f.Add([]byte{0, 0, 0, 2, 2, 4, 0, 4, 4, 2, 2, 0, 4})          // a figure eight
	f.Add([]byte{1, 0, 0, 7, 0, 7, 7, 3, 1, 0, 7, 0, 0, 5, 5, 1}) // random-ish
	f.Fuzz(func(t *testing.T, data []byte) {
		r := ringFromBytes(data)
		if r == nil {
			return
		}
		probs := validatePolygon(geoindex.Polygon{r})
		if got, want := len(probs) == 0, simpleByReference(r); got != want {
			t.Fatalf("ring %v: valid by the sweep %v (%v), by the reference %v", r, got, probs, want)
		}
	})
}

// A test run of the fuzz target's seeds and of a few thousand rings made
// from a counter, so that plain `go test` checks the agreement too.
func TestValidRingAgreesWithReference(t *testing.T) {
	disagree := 0
	for seed := 0; seed < 5000; seed++ {
		data := make([]byte, 1+2*(3+seed%8))
		x := uint32(seed)*2654435761 + 1
		for i := range data {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			data[i] = byte(x)
		}
		r := ringFromBytes(data)
		if r == nil {
			continue
		}
		if got, want := len(validatePolygon(geoindex.Polygon{r})) == 0, simpleByReference(r); got != want {
			disagree++
			if disagree <= 3 {
				t.Errorf("ring %v: valid by the sweep %v, by the reference %v", r, got, want)
			}
		}
	}
	if disagree > 0 {
		t.Errorf("%d rings where the sweep and the reference disagree", disagree)
	}
}

// circle is a valid ring of n positions round (lon, lat).
func circle(n int, lon, lat, radius float64) geoindex.Ring {
	r := make(geoindex.Ring, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		r[i] = geoindex.Point{Lon: lon + radius*math.Cos(a), Lat: lat + radius*math.Sin(a)}
	}
	r[n] = r[0]
	return r
}

func TestBigZoneIsCheckedWithoutComparingEveryPair(t *testing.T) {
	r := circle(200_000, 30, 50, 5)
	hole := circle(1000, 30, 50, 1)
	if probs := validatePolygon(geoindex.Polygon{r, hole}); len(probs) != 0 {
		t.Fatalf("a circle with a hole: %v", probs)
	}
	r[100_000].Lon += 20 // a vertex pulled right across the ring
	if probs := validatePolygon(geoindex.Polygon{r}); len(probs) == 0 {
		t.Fatal("a pulled vertex not found")
	}
}

// BenchmarkValidateZone measures the check of a ring of 100,000 positions.
func BenchmarkValidateZone(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		r := circle(n, 30, 50, 5)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if len(validatePolygon(geoindex.Polygon{r})) != 0 {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func TestRepairRepeatedPositionsOnlyWhenAsked(t *testing.T) {
	doc := func(repair, ring string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","id":"z","properties":{"repair":` + repair +
			`},"geometry":{"type":"Polygon","coordinates":[` + ring + `]}}]}`
	}
	const repeated = `[[0,0],[0.1,0],[0.1,0],[0.1,0.1],[0,0.1],[0,0.1],[0,0]]`
	zones, warns, err := Parse([]byte(doc(`"repeated_positions"`, repeated)), "z.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(zones[0].Polygons[0][0]), 5; got != want {
		t.Errorf("repaired ring has %d positions, want %d", got, want)
	}
	var ws []string
	for _, w := range warns {
		ws = append(ws, w.String())
	}
	want := []string{
		"z.geojson: /features/0/geometry/coordinates/0/2: repaired: position dropped, it repeats the one before it",
		"z.geojson: /features/0/geometry/coordinates/0/5: repaired: position dropped, it repeats the one before it",
	}
	if strings.Join(ws, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(ws, "\n"), strings.Join(want, "\n"))
	}
	tests := []struct{ name, doc, want string }{
		{"a bowtie is not repaired, and named by its place in the file", doc(`"repeated_positions"`, `[[0,0],[0,0],[10,10],[10,0],[0,10],[0,0]]`), "/features/0/geometry/coordinates/0/3: the edge from this position crosses"},
		{"an unknown repair", doc(`"everything"`, repeated), "/features/0/properties/repair: want \"repeated_positions\""},
		{"too few positions once repaired", doc(`"repeated_positions"`, `[[0,0],[1,0],[1,0],[0,0]]`), "/features/0/geometry/coordinates/0: a ring needs at least 4 positions (RFC 7946), got 3 once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.doc), "z.geojson")
			if err == nil || !strings.Contains(err.Error(), "z.geojson: "+tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
