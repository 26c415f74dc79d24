package console_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkConsoleMap loads the console's map with 100,000 terminals (or
// $SKYFENCE_BENCH_TERMINALS; 0 is the empty map, the baseline) in headless
// chromium with software WebGL, and reports how long the page takes from
// asking GET /v1/states to the map drawn with every terminal, clustered
// (ms-to-drawn), the fetch and decode alone (ms-fetch), clustering the
// terminals in view and handing their features to the map (ms-build; the
// rest is MapLibre's), and how many features the map got (features).
// $SKYFENCE_BENCH_TRACE=FILE records one more load as a chromium trace,
// which `node web/test/profile.mjs FILE` sums up by function and thread.
//
//	go test ./console -run '^$' -bench ConsoleMap -benchtime 3x
func BenchmarkConsoleMap(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SKYFENCE_BENCH_TERMINALS")); err == nil {
		n = v
	}
	s := newServer(b)
	// Scattered over the inhabited latitudes: some allowed, most denied.
	rng := rand.New(rand.NewPCG(8, 100_000))
	s.fleet(b, n, func(int) (lat, lon float64) { return rng.Float64()*110 - 45, rng.Float64()*360 - 180 })
	br := newBrowser(b, 1280, 800)
	br.login(s.url, s.admin, "#/map")
	if got, want := br.text("#count"), fmt.Sprintf("%d terminals", n); strings.ReplaceAll(got, ",", "") != want {
		b.Fatalf("the map counts %q", got)
	}
	var drawn, fetched, built, features float64
	b.ResetTimer()
	for b.Loop() {
		br.do("eval", map[string]any{"js": `void location.reload()`})
		br.waitFor(`document.body.dataset.ready === '1'`)
		var ms struct{ Load, Fetch, Build, Features string }
		br.eval(`({Load: document.body.dataset.loadMs, Fetch: document.body.dataset.fetchMs, Build: document.body.dataset.buildMs, Features: document.body.dataset.features})`, &ms)
		l, _ := strconv.ParseFloat(ms.Load, 64)
		f, _ := strconv.ParseFloat(ms.Fetch, 64)
		bu, _ := strconv.ParseFloat(ms.Build, 64)
		fe, _ := strconv.ParseFloat(ms.Features, 64)
		drawn += l
		fetched += f
		built += bu
		features += fe
	}
	if path := os.Getenv("SKYFENCE_BENCH_TRACE"); path != "" {
		// One more load, traced: node web/test/profile.mjs FILE says
		// where the page and MapLibre's workers spent it.
		b.StopTimer()
		br.do("startTrace", nil)
		br.do("eval", map[string]any{"js": `void location.reload()`})
		br.waitFor(`document.body.dataset.ready === '1'`)
		br.do("stopTrace", map[string]any{"path": path})
	}
	b.ReportMetric(drawn/float64(b.N), "ms-to-drawn")
	b.ReportMetric(fetched/float64(b.N), "ms-fetch")
	b.ReportMetric(built/float64(b.N), "ms-build")
	b.ReportMetric(features/float64(b.N), "features")
	br.shot(fmt.Sprintf("console-%d", n))
}
