package fixwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/skyfence/skyfence"
)

func slowParse(b []byte) (string, []Fix, error) {
	var in struct {
		BatchID string    `json:"batch_id"`
		Fixes   []jsonFix `json:"fixes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return "", nil, err
	}
	if dec.More() {
		return "", nil, errSlowPath
	}
	var fixes []Fix
	for i := range in.Fixes {
		fixes = append(fixes, in.Fixes[i].fix())
	}
	return in.BatchID, fixes, nil
}

// FuzzFixBatch checks that whatever the fast parser accepts, encoding/json
// accepts too, with the same result, as a batch and as NDJSON lines.
func FuzzFixBatch(f *testing.F) {
	f.Add([]byte(`{"batch_id":"b1","fixes":[{"terminal_id":"ut-1","time":"2026-06-15T12:00:00Z","lat":50.45,"lon":30.52,"speed_kmh":12.5}]}`))
	f.Add([]byte(`{"fixes":[{"lon":-1e2,"lat":0,"terminal_id":"x","time":"2026-06-15T12:00:00.123456789+02:00","alt_m":11000,"cell":"c1"},{"terminal_id":"y","time":"2026-01-01T00:00:00Z","lat":1,"lon":2}]}`))
	f.Add([]byte(` { "fixes" : [ ] , "batch_id" : "" } `))
	f.Add([]byte(`{"fixes":[{"terminal_id":"a\u00e9","lat":1}]}`))
	f.Add([]byte(`{"fixes":[{"lat":01}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var line Fix
		if parseFixLine(b, &line) {
			var slow jsonFix
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&slow); err != nil {
				t.Fatalf("fast path accepted a line that encoding/json refuses (%v): %q", err, b)
			}
			if s := slow.fix(); !sameFix(line, s) {
				t.Fatalf("line: fast %+v, slow %+v", line, s)
			}
		}
		id, fixes, err := parseFixBatch(b, nil)
		if err != nil {
			return
		}
		sid, sfixes, serr := slowParse(b)
		if serr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", serr, b)
		}
		if id != sid || len(fixes) != len(sfixes) {
			t.Fatalf("fast %q %d fixes, slow %q %d", id, len(fixes), sid, len(sfixes))
		}
		for i := range fixes {
			if !sameFix(fixes[i], sfixes[i]) {
				t.Fatalf("fix %d: fast %+v, slow %+v", i, fixes[i], sfixes[i])
			}
		}
	})
}

func TestFastPathTakesGatewayBatches(t *testing.T) {
	b := []byte(`{"batch_id":"b1","fixes":[{"terminal_id":"ut-1","time":"2026-06-15T12:00:00Z","lat":50.45,"lon":30.52,"speed_kmh":12.5},{"terminal_id":"ut-2","time":"2026-06-15T12:00:01Z","lat":-1,"lon":2}]}`)
	id, fixes, err := parseFixBatch(b, nil)
	if err != nil || id != "b1" || len(fixes) != 2 || fixes[0].Lat != 50.45 || !math.IsNaN(fixes[1].SpeedKmh) {
		t.Fatalf("got %q %+v %v", id, fixes, err)
	}
}

// TestJSONRequestRoundTrip: what AppendJSONRequest writes, both parsers
// read back as it was, fields left out included.
func TestJSONRequestRoundTrip(t *testing.T) {
	fixes := append(testFixes(), Fix{TerminalID: "ut\a\"1", Lat: nan, Lon: nan, SpeedKmh: nan, ServingCell: "c\u2028"})
	b := AppendJSONRequest(nil, "gw7-1", fixes)
	if !json.Valid(b) {
		t.Fatalf("not JSON: %s", b)
	}
	for name, read := range map[string]func([]byte) (string, []Fix, error){
		"fast": func(b []byte) (string, []Fix, error) { return readJSON(b, nil) }, "slow": slowParse,
	} {
		id, got, err := read(b)
		if err != nil || id != "gw7-1" || len(got) != len(fixes) {
			t.Fatalf("%s: %q %d fixes %v, want %d", name, id, len(got), err, len(fixes))
		}
		for i := range fixes {
			if !sameFix(got[i], fixes[i]) {
				t.Errorf("%s: fix %d read back %+v, want %+v", name, i, got[i], fixes[i])
			}
		}
	}
	if b := AppendJSONRequest(nil, "", nil); string(b) != `{"fixes":[]}` {
		t.Errorf("an empty batch without id: %s", b)
	}
}

// TestBatchReadErrors: a batch refused whole says why as the API does,
// in either form.
func TestBatchReadErrors(t *testing.T) {
	var enc Encoder
	two := testFixes()[:2]
	for _, c := range []struct {
		name   string
		body   []byte
		binary bool
		code   string
		field  string
	}{
		{"json syntax", []byte(`{"fixes":[`), false, skyfence.EINVALID, ""},
		{"json type", []byte(`{"fixes":[{"lat":"x"}]}`), false, skyfence.EINVALID, "fixes.lat"},
		{"json unknown", []byte(`{"fixes":[{"x":1}]}`), false, skyfence.EINVALID, "x"},
		{"json trailing", []byte(`{"fixes":[]} {}`), false, skyfence.EINVALID, ""},
		{"json too many", AppendJSONRequest(nil, "", two), false, skyfence.ETOOLARGE, "fixes"},
		{"json batch id", AppendJSONRequest(nil, "not an id", nil), false, skyfence.EINVALID, "batch_id"},
		{"binary cut", enc.AppendRequest(nil, "", two[:1])[:10], true, skyfence.EINVALID, "fixes/0/time"},
		{"binary too many", enc.AppendRequest(nil, "", two), true, skyfence.ETOOLARGE, "fixes"},
	} {
		b := Batch{Decoder: Decoder{MaxFixes: 1}}
		err := b.Read(c.body, c.binary)
		var e *skyfence.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Field != c.field {
			t.Errorf("%s: %v, want %s about %q", c.name, err, c.code, c.field)
		}
	}
}
