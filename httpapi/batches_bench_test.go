package httpapi

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/skyfence/skyfence/fixwire"
)

// BenchmarkBatchCache measures what keeping a batch's answer costs: hashing
// 1,000 fixes and copying an answer of their size (about 290 KB), with
// eviction once the cache is full.
func BenchmarkBatchCache(b *testing.B) {
	fixes := make([]fixwire.Fix, 1000)
	for i := range fixes {
		fixes[i] = fixwire.Fix{TerminalID: "ut-" + strconv.Itoa(i), Time: time.Unix(1780000000, 0), Lat: 50.45, Lon: 30.52, SpeedKmh: math.NaN()}
	}
	answer := make([]byte, 290_000)
	c := newBatchCache(DefaultBatchCacheBytes, DefaultBatchCacheAge)
	n := 0
	for b.Loop() {
		_, p, err := c.begin(context.Background(), "k", strconv.Itoa(n), c.sum(fixes), "application/json")
		if err != nil {
			b.Fatal(err)
		}
		c.end(p, answer)
		n++
	}
}
