package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/world/worldtest"
)

func TestLocateSmoke(t *testing.T) {
	var log strings.Builder
	res, err := Locate(context.Background(), LocateConfig{
		Resolution: world.Res110m,
		Points:     20_000,
		MinTime:    50 * time.Millisecond,
	}, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + log.String() + "\n" + res.Markdown())
	if len(res.Engines) != len(EngineNames()) {
		t.Fatalf("%d engines measured, want %d", len(res.Engines), len(EngineNames()))
	}
	for _, m := range res.Engines {
		if !(m.LookupsPerSec > 0) || !(m.VsBaseline > 0) || m.PointsTimed == 0 {
			t.Errorf("%s: %+v", m.Engine, m)
		}
		if strings.HasPrefix(m.Engine, "skyfence") && m.Agreement != 1 {
			t.Errorf("%s: agreement %v, want exactly 1", m.Engine, m.Agreement)
		}
		if !strings.Contains(res.Markdown(), "| "+m.Engine+" |") {
			t.Errorf("%s missing from the table", m.Engine)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back LocateResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Engines[0] != res.Engines[0] || back.Machine.GoVersion == "" {
		t.Errorf("JSON round trip: %+v", back)
	}
}

func TestLocateEngines(t *testing.T) {
	res, err := Locate(context.Background(), LocateConfig{
		Resolution: world.Res110m, Points: 1000, MinTime: time.Millisecond,
		Engines: []string{"flat", "skyfence"},
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Engines) != 2 || res.Engines[0].Engine != "skyfence" || res.Engines[1].VsBaseline != 0 {
		t.Errorf("got %+v, want skyfence then flat, no ratio without the baseline", res.Engines)
	}
	if !strings.Contains(res.Markdown(), "| flat | ") || !strings.Contains(res.Markdown(), "| - |") {
		t.Errorf("table:\n%s", res.Markdown())
	}
	if _, err := Locate(context.Background(), LocateConfig{Engines: []string{"postgis"}}, io.Discard); err == nil || !strings.Contains(err.Error(), "postgis") {
		t.Errorf("unknown engine: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Locate(ctx, LocateConfig{Resolution: world.Res110m, Points: 1000}, io.Discard); err == nil {
		t.Errorf("cancelled: no error")
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -12345: "-12,345"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// BenchmarkLocate compares every engine on the same 1,000,000 points over
// the 1:10m countries (the points of Locate's default run). One operation is
// a chunk of 1,000 lookups; ns/lookup and lookups/s are per point.
func BenchmarkLocate(b *testing.B) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		b.Fatal(err)
	}
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	pts, err := worldtest.Points(shapes, 1_000_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	const per = 1000
	for _, s := range specs {
		b.Run(s.name, func(b *testing.B) {
			r, err := s.build(shapes)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				lo := (n * per) % len(pts)
				sink += r.pass(pts[lo : lo+per])
				n++
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(n*per), "ns/lookup")
			b.ReportMetric(float64(n*per)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

func ExampleLocateResult_Markdown() {
	r := &LocateResult{Resolution: "10m", Points: 1000, Seed: 1, Baseline: Baseline,
		Machine: Machine{GOOS: "linux", GOARCH: "amd64", NumCPU: 2, GOMAXPROCS: 2, GoVersion: "go1.26"},
		Engines: []Measure{{Engine: "skyfence", BuildSec: 0.8, HeapBytes: 100 << 20, LookupsPerSec: 2e7, VsBaseline: 40, Agreement: 1, PointsTimed: 1000}}}
	fmt.Print(r.Markdown())
	// Output:
	// Countries at 1:10m, 1,000 points (seed 1), one goroutine per engine; unknown CPU, linux/amd64, 2 CPUs, GOMAXPROCS 2, go1.26, 0001-01-01.
	//
	// | engine | build s | heap MB | lookups/s | vs tidwall | agreement % | points timed |
	// |---|---:|---:|---:|---:|---:|---:|
	// | skyfence | 0.80 | 100.0 | 20,000,000 | 40.00 | 100.0000 | 1,000 |
}
