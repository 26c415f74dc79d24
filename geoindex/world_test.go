package geoindex_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/world/worldtest"
)

func countryShapes(t testing.TB, res world.Resolution) []geoindex.Shape {
	t.Helper()
	d, err := world.Load(res)
	if err != nil {
		t.Fatal(err)
	}
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	return shapes
}

// TestWorldMatchesReference checks the index against the crossing test on
// 1,000,000 points over the 1:10m countries, half of them uniform on the
// sphere and half within 50 km of a border or coast.
func TestWorldMatchesReference(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	for _, res := range []world.Resolution{world.Res10m, world.Res110m} {
		t.Run(res.String(), func(t *testing.T) {
			shapes := countryShapes(t, res)
			ix, err := geoindex.Build(shapes, geoindex.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := geoindex.NewReference(shapes)
			if err != nil {
				t.Fatal(err)
			}
			pts, err := worldtest.Points(shapes, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]geoindex.SetID, len(pts))
			if err := ix.LookupBatch(pts, out); err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i, p := range pts {
				want, err := ref.Lookup(p.Lon, p.Lat)
				if err != nil {
					t.Fatal(err)
				}
				id, err := ix.Lookup(p.Lon, p.Lat)
				if err != nil {
					t.Fatal(err)
				}
				if got := ix.Regions(id); !slices.Equal(got, want) || out[i] != id {
					if bad++; bad <= 10 {
						t.Errorf("lon=%v lat=%v: Lookup %v, LookupBatch %v, reference %v", p.Lon, p.Lat, got, ix.Regions(out[i]), want)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d points differ from the reference", bad, len(pts))
			}
		})
	}
}

func TestWorldIndexMemory(t *testing.T) {
	shapes := countryShapes(t, world.Res10m)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix, err := geoindex.Build(shapes, geoindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("index heap %d MB", heap>>20)
	if heap > 300<<20 {
		t.Errorf("index holds %d MB of heap, want under 300 MB", heap>>20)
	}
	runtime.KeepAlive(ix)
}

// BenchmarkWorld measures lookups over the 1:10m countries on the same
// points as TestWorldMatchesReference, one at a time and in batches.
func BenchmarkWorld(b *testing.B) {
	shapes := countryShapes(b, world.Res10m)
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := geoindex.Build(shapes, geoindex.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	ix, err := geoindex.Build(shapes, geoindex.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pts, err := worldtest.Points(shapes, 1_000_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]geoindex.SetID, len(pts))
	var sink geoindex.SetID
	for _, mode := range []string{"single", "batch"} {
		b.Run(fmt.Sprintf("lookup/%s", mode), func(b *testing.B) {
			n := 0
			for b.Loop() {
				if mode == "batch" {
					_ = ix.LookupBatch(pts, out)
					sink ^= out[n%len(out)]
				} else {
					for _, p := range pts {
						id, _ := ix.Lookup(p.Lon, p.Lat)
						sink ^= id
					}
				}
				n++
			}
			b.ReportMetric(float64(n*len(pts))/b.Elapsed().Seconds(), "lookups/s")
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(n*len(pts)), "ns/lookup")
		})
	}
	if sink == geoindex.NoSet-1 {
		b.Log(sink)
	}
}
