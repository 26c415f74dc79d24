package httpapi

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
)

// benchBatch is a batch of n fixes as bench moonshot sends them (speed
// and altitude given, no cell), in both forms, and plausible results:
// mostly allowed, some denied in a zone.
func benchBatch(n int) (jsonBody, wireBody []byte, results []authorizer.Result) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	fixes := make([]fixwire.Fix, n)
	zones := []string{"kherson-front"}
	deg := func(n, off int) float64 { // to 5 decimals, as a gateway says it
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(n)/1e5-float64(off), 'f', 5, 64), 64)
		return v
	}
	for i := range fixes {
		f := fixwire.Fix{TerminalID: "ut-" + strconv.Itoa(rng.IntN(1_000_000)), Time: at.Add(time.Duration(i) * time.Millisecond).Truncate(time.Second),
			Lat: deg(rng.IntN(18_000_000), 90), Lon: deg(rng.IntN(36_000_000), 180), AltM: float64(rng.IntN(12000)), SpeedKmh: float64(rng.IntN(9000)) / 10}
		fixes[i] = f
		d := policy.Decision{Allow: true, Reason: policy.Ok, Country: []string{"UA", "DE", "international"}[i%3], Land: i%3 != 2,
			SpeedKmh: f.SpeedKmh, PolicyVersion: "sha256:58c44c4fa6aa3b0b"}
		if i%10 == 0 {
			d.Allow, d.Reason, d.Rule, d.Zones = false, policy.NoServiceZone, "kherson-front-shutdown", zones
		}
		results = append(results, authorizer.Result{Decision: d})
	}
	var enc fixwire.Encoder
	return fixwire.AppendJSONRequest(nil, "", fixes), enc.AppendRequest(nil, "", fixes), results
}

// BenchmarkFixWire measures what the API spends on a batch of 1,000 fixes
// besides deciding it, per fix: parsing the body, checking each fix
// (fixwire.Fix.Check) and writing the answer, in JSON (the fast path)
// and in the binary form.
func BenchmarkFixWire(b *testing.B) {
	const n = 1000
	jsonBody, wireBody, results := benchBatch(n)
	out := make([]byte, 0, 1<<20)
	for _, form := range []struct {
		name   string
		body   []byte
		binary bool
	}{{"json", jsonBody, false}, {"binary", wireBody, true}} {
		b.Run(form.name, func(b *testing.B) {
			for b.Loop() {
				st := batchPool.Get().(*batchState)
				if err := st.Read(form.body, form.binary); err != nil || len(st.Fixes) != n {
					b.Fatal(err)
				}
				for i := range st.Fixes {
					if _, err := st.Fixes[i].Check("fixes", i); err != nil {
						b.Fatal(err)
					}
				}
				st.Refused = append(st.Refused[:0], make([]error, n)...) // none refused
				st.results = results                                     // the service's, as Ingest would write them
				out = st.AppendAnswer(out[:0], form.binary, st.decided)
				st.results = nil // not st's to clear
				st.put()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/fix")
			b.ReportMetric(float64(len(out))/n, "answer-B/fix")
			b.ReportMetric(float64(len(form.body))/n, "request-B/fix")
		})
	}
}
