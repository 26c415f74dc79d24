package natsbus

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

var obsT0 = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// obsStream is a reproducible stream of n observations from terminals
// terminals, with bad actors of every kind among them (hops, embargoed
// regions, drones, clones, wrong cells, clocks ahead), and what the wire
// must carry besides: verifications (valid, expired, revoked), cells and
// zones.
func obsStream(seed uint64, terminals, n int) []detect.Observation {
	rng := rand.New(rand.NewPCG(seed, seed))
	plans := []string{"residential", "roam", "maritime", "aviation", "sponsored"}
	type tstate struct {
		term     *skyfence.Terminal
		lat, lon float64
		kind     int
	}
	ts := make([]tstate, terminals)
	for i := range ts {
		term := &skyfence.Terminal{ID: fmt.Sprintf("T-%05d", i), Plan: plans[rng.IntN(len(plans))], Country: "PL", Status: skyfence.Active}
		if i%7 == 1 {
			term.Verifications = []skyfence.Verification{
				{Region: "UA", VerifiedAt: obsT0.Add(-time.Hour)},
				{Region: "PL", VerifiedAt: obsT0.Add(-time.Hour), ExpiresAt: obsT0.Add(time.Minute)},
				{Region: "RU", VerifiedAt: obsT0.Add(-time.Hour), Revoked: true},
			}
		}
		ts[i] = tstate{term: term, lat: 49 + rng.Float64()*5, lon: 15 + rng.Float64()*20, kind: rng.IntN(12)}
	}
	out := make([]detect.Observation, 0, n)
	at := obsT0
	for i := range n {
		at = at.Add(10 * time.Millisecond)
		s := &ts[rng.IntN(terminals)]
		o := detect.Observation{
			Terminal: s.term,
			Fix:      skyfence.Fix{TerminalID: s.term.ID, Time: at, Lat: s.lat, Lon: s.lon, SpeedKmh: skyfence.NoSpeed},
			Decision: policy.Decision{Allow: true, Reason: policy.Ok, Country: "PL", Land: true, Located: true},
			Received: at,
		}
		switch s.kind {
		case 0: // hops 500 km
			if rng.IntN(2) == 0 {
				o.Fix.Lon += 7
			}
		case 1: // embargoed
			o.Decision = policy.Decision{Reason: policy.RegionEmbargoed, Rule: "status:RU", Region: "RU", Country: "RU", Land: true, Located: true}
		case 2: // a drone, zigzagging low
			s.lat += 0.002 * float64(1-2*(i%2))
			o.Fix.Lat, o.Fix.AltM = s.lat, 100
		case 3: // a clone
			o.Fix.Lat, o.Fix.Lon = 50, 30
		case 4: // unverified in a cluster, in zones
			o.Decision = policy.Decision{Reason: policy.VerificationRequired, Rule: "ua-mod-whitelist", Region: "UA", Country: "UA", Land: true, Located: true,
				Zones: []string{"occupied-ua", "frontline"}}
			o.Fix.Lat, o.Fix.Lon = 47.81+rng.Float64()*0.01, 35.11+rng.Float64()*0.01
		case 5: // a wrong cell
			o.Fix.ServingCell = "c400.600"
		case 6: // ahead of time
			if rng.IntN(10) == 0 {
				o.Fix.Time = o.Fix.Time.Add(time.Hour)
			}
		default: // jitter where it stands
			o.Fix.Lat += (rng.Float64() - 0.5) * 1e-4
			o.Fix.ServingCell = "c12.34"
		}
		if i%11 == 0 {
			o.Terminal = nil // an unknown terminal
		}
		out = append(out, o)
	}
	return out
}

func alertsOf(t *testing.T, stream []detect.Observation) []byte {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.Integrity.CloneFilterBits = 12
	e, err := detect.New(cfg, detect.Options{Now: func() time.Time { return obsT0 }})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []detect.Alert
	for i := range stream {
		alerts = append(alerts, e.Process(&stream[i])...)
	}
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWireKeepsAlerts(t *testing.T) {
	stream := obsStream(7, 300, 30_000)
	var enc obsEncoder
	var sent []detect.Observation
	for i := 0; i < len(stream); i += 512 {
		b := enc.appendBatch(nil, stream[i:min(i+512, len(stream))])
		var err error
		if sent, err = decodeObservations(sent, b); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent) != len(stream) {
		t.Fatalf("%d observations decoded, %d sent", len(sent), len(stream))
	}
	want, got := alertsOf(t, stream), alertsOf(t, sent)
	if string(got) != string(want) {
		t.Fatalf("the stream through the wire raised other alerts: %d bytes of them, %d directly", len(got), len(want))
	}
	if len(want) < 1000 {
		t.Fatalf("the stream raised too few alerts to compare: %s", want)
	}
	// What the engine reads comes through as it was.
	for i := range stream {
		o, s := sent[i], stream[i]
		if s.Terminal == nil || len(s.Terminal.Verifications) == 0 {
			continue
		}
		if !reflect.DeepEqual(o.Terminal.Verifications[2].Revoked, true) || !o.Terminal.Verifications[1].ExpiresAt.Equal(s.Terminal.Verifications[1].ExpiresAt) ||
			o.Terminal.Plan != s.Terminal.Plan || o.Terminal.Country != s.Terminal.Country || !o.Fix.Time.Equal(s.Fix.Time) || o.Decision.Reason != s.Decision.Reason {
			t.Errorf("decoded %+v %+v, sent %+v %+v", o.Terminal, o.Fix, s.Terminal, s.Fix)
		}
		break
	}
}

func TestWireRefusesCorruptBatches(t *testing.T) {
	var enc obsEncoder
	o := obsStream(1, 1, 1)[0]
	o.Decision = policy.Decision{Reason: policy.NoServiceZone, Rule: "r", Region: "UA", Country: "UA"}
	b := enc.appendBatch(nil, []detect.Observation{o, o})
	for n := range len(b) {
		if _, err := decodeObservations(nil, b[:n]); err == nil {
			t.Errorf("a batch cut to %d of its %d bytes decoded", n, len(b))
		}
	}
	if _, err := decodeObservations(nil, append([]byte{9}, b[1:]...)); err == nil {
		t.Error("a batch of another version decoded")
	}
	if _, err := decodeObservations(nil, append(b, 0)); err == nil {
		t.Error("a batch with trailing bytes decoded")
	}
}

// FuzzObservations checks that the decoder takes any batch without a
// panic or an allocation beyond what the batch can hold, and that what it
// accepts encodes back to a batch that decodes the same.
func FuzzObservations(f *testing.F) {
	var enc obsEncoder
	f.Add(enc.appendBatch(nil, obsStream(3, 20, 50)))
	f.Add(enc.appendBatch(nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		obs, err := decodeObservations(nil, b)
		if err != nil {
			return
		}
		if len(obs) > len(b)/minObs {
			t.Fatalf("%d observations from %d bytes", len(obs), len(b))
		}
		var enc obsEncoder
		again, err := decodeObservations(nil, enc.appendBatch(nil, obs))
		if err != nil || len(again) != len(obs) {
			t.Fatalf("re-encoded: %d observations %v, want %d", len(again), err, len(obs))
		}
		for i := range obs {
			a, o := again[i], obs[i]
			if a.Fix.TerminalID != o.Fix.TerminalID || !a.Fix.Time.Equal(o.Fix.Time) || a.Decision.Reason != o.Decision.Reason ||
				len(a.Decision.Zones) != len(o.Decision.Zones) || (a.Terminal == nil) != (o.Terminal == nil) {
				t.Fatalf("observation %d: %+v re-encoded as %+v", i, o, a)
			}
		}
	})
}

// BenchmarkWire compares the wire form with JSON for batches of 512
// observations: bytes per observation, encoding and decoding time.
func BenchmarkWire(b *testing.B) {
	batch := obsStream(1, 100_000, 512)
	b.Run("binary", func(b *testing.B) {
		var enc obsEncoder
		var buf []byte
		var out []detect.Observation
		for b.Loop() {
			buf = enc.appendBatch(buf[:0], batch)
			var err error
			if out, err = decodeObservations(out[:0], buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf))/512, "B/obs")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/obs")
	})
	b.Run("json", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = json.Marshal(batch); err != nil {
				b.Fatal(err)
			}
			var out []detect.Observation
			if err := json.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf))/512, "B/obs")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/obs")
	})
}
