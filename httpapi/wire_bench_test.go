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
	jsonBody = append(jsonBody, `{"fixes":[`...)
	zones := []string{"kherson-front"}
	for i := range fixes {
		f := fixwire.Fix{TerminalID: "ut-" + strconv.Itoa(rng.IntN(1_000_000)), Time: at.Add(time.Duration(i) * time.Millisecond).Truncate(time.Second),
			Lat: float64(rng.IntN(18_000_000))/1e5 - 90, Lon: float64(rng.IntN(36_000_000))/1e5 - 180, AltM: float64(rng.IntN(12000)), SpeedKmh: float64(rng.IntN(9000)) / 10}
		fixes[i] = f
		if i > 0 {
			jsonBody = append(jsonBody, ',')
		}
		jsonBody = append(jsonBody, `{"terminal_id":"`...)
		jsonBody = append(jsonBody, f.TerminalID...)
		jsonBody = append(jsonBody, `","time":"`...)
		jsonBody = f.Time.AppendFormat(jsonBody, time.RFC3339)
		jsonBody = append(jsonBody, `","lat":`...)
		jsonBody = strconv.AppendFloat(jsonBody, f.Lat, 'f', 5, 64)
		jsonBody = append(jsonBody, `,"lon":`...)
		jsonBody = strconv.AppendFloat(jsonBody, f.Lon, 'f', 5, 64)
		jsonBody = append(jsonBody, `,"alt_m":`...)
		jsonBody = strconv.AppendFloat(jsonBody, f.AltM, 'f', 0, 64)
		jsonBody = append(jsonBody, `,"speed_kmh":`...)
		jsonBody = strconv.AppendFloat(jsonBody, f.SpeedKmh, 'f', 1, 64)
		jsonBody = append(jsonBody, '}')
		d := policy.Decision{Allow: true, Reason: policy.Ok, Country: []string{"UA", "DE", "international"}[i%3], Land: i%3 != 2,
			SpeedKmh: f.SpeedKmh, PolicyVersion: "sha256:58c44c4fa6aa3b0b"}
		if i%10 == 0 {
			d.Allow, d.Reason, d.Rule, d.Zones = false, policy.NoServiceZone, "kherson-front-shutdown", zones
		}
		results = append(results, authorizer.Result{Decision: d})
	}
	jsonBody = append(jsonBody, "]}"...)
	var enc fixwire.Encoder
	return jsonBody, enc.AppendRequest(nil, "", fixes), results
}

// BenchmarkFixWire measures what the API spends on a batch of 1,000 fixes
// besides deciding it, per fix: parsing the body, checking each fix
// (toFix) and writing the answer, in JSON (the fast path) and in the
// binary form.
func BenchmarkFixWire(b *testing.B) {
	const n = 1000
	jsonBody, wireBody, results := benchBatch(n)
	pre := make([]error, n)
	out := make([]byte, 0, 1<<20)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			id, in, err := readFixBatch(jsonBody)
			if err != nil || len(in) != n {
				b.Fatal(err)
			}
			for i := range in {
				if _, err := in[i].toFix("fixes", i); err != nil {
					b.Fatal(err)
				}
			}
			out = appendAnswer(out[:0], id, in, pre, results)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/fix")
		b.ReportMetric(float64(len(out))/n, "answer-B/fix")
		b.ReportMetric(float64(len(jsonBody))/n, "request-B/fix")
	})
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			st := wirePool.Get().(*wireState)
			id, in, err := st.readBatch(wireBody)
			if err != nil || len(in) != n {
				b.Fatal(err)
			}
			for i := range in {
				if _, err := in[i].toFix("fixes", i); err != nil {
					b.Fatal(err)
				}
			}
			out = st.appendAnswer(out[:0], id, in, pre, results)
			st.put()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/fix")
		b.ReportMetric(float64(len(out))/n, "answer-B/fix")
		b.ReportMetric(float64(len(wireBody))/n, "request-B/fix")
	})
}
