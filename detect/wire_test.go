package detect

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// wireStream is the mixed stream with what it lacks: verifications
// (valid, expired, revoked), cells and zones.
func wireStream() []Observation {
	stream := mixed(7, 300, 30_000)
	for i := range stream {
		o := &stream[i]
		switch i % 7 {
		case 1:
			t := *o.Terminal
			t.Verifications = []skyfence.Verification{
				{Region: "UA", VerifiedAt: t0.Add(-time.Hour)},
				{Region: "PL", VerifiedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Minute)},
				{Region: "RU", VerifiedAt: t0.Add(-time.Hour), Revoked: true},
			}
			o.Terminal = &t
		case 2:
			o.Fix.Cell = "c12.34"
		case 3:
			o.Decision.Zones = []string{"occupied-ua", "frontline"}
		}
	}
	return stream
}

func TestWireKeepsAlerts(t *testing.T) {
	stream := wireStream()
	var enc Encoder
	var sent []Observation
	for i := 0; i < len(stream); i += 512 {
		b := enc.AppendBatch(nil, stream[i:min(i+512, len(stream))])
		var err error
		if sent, err = DecodeBatch(sent, b); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent) != len(stream) {
		t.Fatalf("%d observations decoded, %d sent", len(sent), len(stream))
	}
	want, err := json.Marshal(feed(newEngine(t, nil), stream))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(feed(newEngine(t, nil), sent))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("the stream through the wire raised other alerts: %d bytes of them, %d directly", len(got), len(want))
	}
	if len(want) < 1000 {
		t.Fatalf("the stream raised too few alerts to compare: %s", want)
	}
	// What the engine reads comes through as it was.
	o, s := sent[8], stream[8] // i%7 == 1: verifications
	if !reflect.DeepEqual(o.Terminal.Verifications[2].Revoked, true) || !o.Terminal.Verifications[1].ExpiresAt.Equal(s.Terminal.Verifications[1].ExpiresAt) ||
		o.Terminal.Plan != s.Terminal.Plan || o.Terminal.Country != s.Terminal.Country || !o.Fix.Time.Equal(s.Fix.Time) || o.Decision.Reason != s.Decision.Reason {
		t.Errorf("decoded %+v %+v, sent %+v %+v", o.Terminal, o.Fix, s.Terminal, s.Fix)
	}
}

func TestWireRefusesCorruptBatches(t *testing.T) {
	var enc Encoder
	o := obs(terminal("ut-1", "roam", "UA"), t0, kyivLat, kyivLon).deny(policy.NoServiceZone, "r", "UA", "UA")
	b := enc.AppendBatch(nil, []Observation{o, o})
	for n := range len(b) {
		if _, err := DecodeBatch(nil, b[:n]); err == nil {
			t.Errorf("a batch cut to %d of its %d bytes decoded", n, len(b))
		}
	}
	if _, err := DecodeBatch(nil, append([]byte{9}, b[1:]...)); err == nil {
		t.Error("a batch of another version decoded")
	}
	if _, err := DecodeBatch(nil, append(b, 0)); err == nil {
		t.Error("a batch with trailing bytes decoded")
	}
}

// BenchmarkWire compares the wire form with JSON for batches of 512
// observations of the bench fleet: bytes per observation, encoding and
// decoding time.
func BenchmarkWire(b *testing.B) {
	f := newFleet(100_000, 0.01, 1)
	batch := make([]Observation, 512)
	for i := range batch {
		f.fill(&batch[i], i*97)
	}
	b.Run("binary", func(b *testing.B) {
		var enc Encoder
		var buf []byte
		var out []Observation
		for b.Loop() {
			buf = enc.AppendBatch(buf[:0], batch)
			var err error
			if out, err = DecodeBatch(out[:0], buf); err != nil {
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
			var out []Observation
			if err := json.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf))/512, "B/obs")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/obs")
	})
}
