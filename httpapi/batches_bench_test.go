package httpapi

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBatchCache measures what keeping a batch's answer costs: hashing
// 1,000 fixes and copying an answer of their size (about 290 KB), with
// eviction once the cache is full.
func BenchmarkBatchCache(b *testing.B) {
	fixes := make([]fixInput, 1000)
	for i := range fixes {
		lat, lon := 50.45, 30.52
		fixes[i] = fixInput{TerminalID: "ut-" + strconv.Itoa(i), Time: time.Unix(1780000000, 0), Lat: &lat, Lon: &lon}
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
