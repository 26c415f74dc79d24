package fixwire

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var nan = math.NaN()

// testFixes has every optional field given and left out.
func testFixes() []Fix {
	at := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	return []Fix{
		{TerminalID: "ut-1", Time: at, Lat: 50.45, Lon: 30.52, AltM: 0, SpeedKmh: 12.5},
		{TerminalID: "ut-2", Time: at.Add(1500 * time.Millisecond), Lat: -1, Lon: 2, AltM: 11000, SpeedKmh: nan, ServingCell: "beam-7"},
		{TerminalID: "ut-3", Time: time.Unix(-5, 999_999_999).UTC(), Lat: nan, Lon: nan, SpeedKmh: 0, ServingCell: "beam-7"},
		{TerminalID: "", Lat: 91, Lon: -181, AltM: math.Copysign(0, -1), SpeedKmh: -3, ServingCell: "é"},
	}
}

// sameFix compares fixes with NaN equal to NaN and -0 apart from 0.
func sameFix(a, b Fix) bool {
	bits := func(f float64) uint64 {
		if math.IsNaN(f) {
			return 1
		}
		return math.Float64bits(f)
	}
	return a.TerminalID == b.TerminalID && a.Time.Equal(b.Time) && a.Time.IsZero() == b.Time.IsZero() && a.ServingCell == b.ServingCell &&
		bits(a.Lat) == bits(b.Lat) && bits(a.Lon) == bits(b.Lon) && bits(a.AltM) == bits(b.AltM) && bits(a.SpeedKmh) == bits(b.SpeedKmh)
}

func TestRequestRoundTrip(t *testing.T) {
	var enc Encoder
	var dec Decoder
	fixes := testFixes()
	b := enc.AppendRequest(nil, "gw7-1", fixes)
	id, got, err := dec.Request(b, nil)
	if err != nil || id != "gw7-1" || len(got) != len(fixes) {
		t.Fatalf("got %q, %d fixes, %v", id, len(got), err)
	}
	for i := range fixes {
		if !sameFix(got[i], fixes[i]) {
			t.Errorf("fix %d: got %+v, want %+v", i, got[i], fixes[i])
		}
	}
	// The repeated cell is sent once, then by reference.
	if n := strings.Count(string(b), "beam-7"); n != 1 {
		t.Errorf("beam-7 sent %d times", n)
	}
	// The encoder and decoder are reused: the second body has its own table.
	b2 := enc.AppendRequest(nil, "", fixes[1:2])
	if _, got, err := dec.Request(b2, nil); err != nil || got[0].ServingCell != "beam-7" {
		t.Errorf("second body: %+v %v", got, err)
	}
}

func testResults() []Result {
	zones := []string{"front-east", "kherson"}
	return []Result{
		{TerminalID: "ut-1", Allow: true, Reason: "ok", Message: "Service is available.", Country: "UA", Land: true, SpeedKmh: 12.5, PolicyVersion: "sha256:ab"},
		{TerminalID: "ut-2", Reason: "zone", Message: "Not here.", Rule: "r1", Country: "UA", Land: true, Zones: zones, SpeedKmh: 3, ExemptRule: "r0", ExemptBy: "class", PolicyVersion: "sha256:ab"},
		{TerminalID: "ut-3", Err: &FixError{Code: "invalid", Message: "lat must be a number in [-90, 90]", Field: "fixes/2/lat"}},
		{TerminalID: "ut-4", Err: &FixError{Code: "conflict", Message: "not newer"}},
		{TerminalID: "ut-5", Reason: "zone", Message: "Not here.", Rule: "r1", Country: "international", Zones: zones[1:], PolicyVersion: "sha256:ab"},
	}
}

func TestAnswerRoundTrip(t *testing.T) {
	var enc Encoder
	var dec Decoder
	want := testResults()
	b := enc.AppendAnswer(nil, "gw7-1", want)
	id, got, err := dec.Answer(b, nil)
	if err != nil || id != "gw7-1" || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q %+v %v\nwant %+v", id, got, err, want)
	}
	// Appending to a result's zones leaves the next result's alone.
	got[1].Zones = append(got[1].Zones, "x")
	if !reflect.DeepEqual(got[4].Zones, want[4].Zones) {
		t.Errorf("result 4's zones became %q", got[4].Zones)
	}
	for _, s := range []string{"sha256:ab", "Not here.", "kherson", "UA"} {
		if n := strings.Count(string(b), s); n != 1 {
			t.Errorf("%q sent %d times, want once", s, n)
		}
	}
}

// Strings built for one result and dropped do not come back by address
// as another string's reference.
func TestEncoderKeepsTemporaryStringsApart(t *testing.T) {
	var enc Encoder
	var dec Decoder
	var want []Result
	b := enc.BeginAnswer(nil, "", 2000)
	for i := range 2000 {
		r := Result{TerminalID: "t", Err: &FixError{Code: "invalid", Message: strings.Repeat("x", i%7) + string(rune('a'+i%26)), Field: "f" + string(rune('a'+i%13))}}
		b = enc.AppendResult(b, &r)
		want = append(want, r)
	}
	_, got, err := dec.Answer(b, nil)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", err)
	}
}

func TestBadBodies(t *testing.T) {
	var enc Encoder
	good := enc.AppendRequest(nil, "b", testFixes()[:2])
	for _, c := range []struct {
		name   string
		body   []byte
		field  string
		offset int
	}{
		{"empty", nil, "", 0},
		{"json", []byte(`{"fixes":[]}`), "", 0},
		{"version", append([]byte{2}, good[1:]...), "", 0},
		{"truncated id", []byte{1, 5, 'a'}, "batch_id", 1},
		{"count beyond the body", []byte{1, 0, 100, 0, 0}, "", 3},
		{"unknown flag", []byte{1, 0, 1, 0x40, 0}, "fixes/0", 3},
		{"truncated lat", []byte{1, 0, 1, fixLat, 0, 1, 2, 3}, "fixes/0/lat", 5},
		{"nanoseconds", []byte{1, 0, 1, fixTime, 0, 2, 0x80, 0x94, 0xeb, 0xdc, 0x03}, "fixes/0/time", 5},
		{"cell ref", []byte{1, 0, 1, fixCell, 0, 3}, "fixes/0/cell", 5},
		{"trailing", append(append([]byte(nil), good...), 0), "", len(good)},
		{"NaN speed", append([]byte{1, 0, 1, fixSpeed, 0}, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f), "fixes/0/speed_kmh", 5},
	} {
		var dec Decoder
		_, _, err := dec.Request(c.body, nil)
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field || e.Offset != c.offset {
			t.Errorf("%s: %v, want an error at byte %d, field %q", c.name, err, c.offset, c.field)
		}
	}
	dec := Decoder{MaxFixes: 1}
	var tm *TooManyError
	if _, _, err := dec.Request(good, nil); !errors.As(err, &tm) || tm.Count != 2 || tm.Max != 1 {
		t.Errorf("2 fixes, at most 1: %v", err)
	}
}

// FuzzRequest checks that the decoder takes any body without a panic or
// an allocation beyond what the body can hold, and that what it accepts
// encodes back to a body that decodes the same.
func FuzzRequest(f *testing.F) {
	var enc Encoder
	f.Add(enc.AppendRequest(nil, "gw7-1", testFixes()))
	f.Add(enc.AppendRequest(nil, "", nil))
	f.Add([]byte{1, 0, 1, fixTime | fixCell, 0, 2, 0, 0, 1, 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var dec Decoder
		id, fixes, err := dec.Request(b, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(b) {
				t.Fatalf("error %v (%T) out of the body of %d bytes", err, err, len(b))
			}
			return
		}
		if len(fixes) > len(b)/minFix {
			t.Fatalf("%d fixes from %d bytes", len(fixes), len(b))
		}
		var enc Encoder
		id2, fixes2, err := dec.Request(enc.AppendRequest(nil, id, fixes), nil)
		if err != nil || id2 != id || len(fixes2) != len(fixes) {
			t.Fatalf("re-encoded: %q %d fixes %v, want %q %d", id2, len(fixes2), err, id, len(fixes))
		}
		for i := range fixes {
			if !sameFix(fixes[i], fixes2[i]) {
				t.Fatalf("fix %d: %+v re-encoded as %+v", i, fixes[i], fixes2[i])
			}
		}
	})
}

// FuzzAnswer is FuzzRequest for answers.
func FuzzAnswer(f *testing.F) {
	var enc Encoder
	f.Add(enc.AppendAnswer(nil, "gw7-1", testResults()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var dec Decoder
		id, results, err := dec.Answer(b, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(b) {
				t.Fatalf("error %v (%T) out of the body of %d bytes", err, err, len(b))
			}
			return
		}
		var enc Encoder
		id2, results2, err := dec.Answer(enc.AppendAnswer(nil, id, results), nil)
		if err != nil || id2 != id || !reflect.DeepEqual(results, results2) {
			t.Fatalf("re-encoded: %q %+v %v, want %q %+v", id2, results2, err, id, results)
		}
	})
}

// TestStringsAreUTF8: bytes that are not UTF-8 never come out of either
// side, whatever a gateway or a store held: the encoder writes U+FFFD for
// them and the decoder reads them as U+FFFD.
func TestStringsAreUTF8(t *testing.T) {
	var enc Encoder
	var dec Decoder
	_, fixes, err := dec.Request(enc.AppendRequest(nil, "b\xff", []Fix{{TerminalID: "ut\xfe1", Lat: nan, Lon: nan, SpeedKmh: nan, ServingCell: "c\x80"}}), nil)
	if err != nil || fixes[0].TerminalID != "ut\ufffd1" || fixes[0].ServingCell != "c\ufffd" {
		t.Errorf("request: %+v %v", fixes, err)
	}
	// A body written by another encoder, with the raw bytes.
	raw := []byte{Version, 2, 'b', 0xff, 1, 0, 3, 'u', 0xc3, '1'}
	id, fixes, err := dec.Request(raw, nil)
	if err != nil || id != "b\ufffd" || fixes[0].TerminalID != "u\ufffd1" {
		t.Errorf("raw request: %q %+v %v", id, fixes, err)
	}
	ans := enc.AppendAnswer(nil, "b", []Result{{TerminalID: "ut\xff", Err: &FixError{Code: "invalid", Message: "m\xff", Field: "fixes/0/terminal_id"}}})
	if !utf8.Valid(ans) {
		t.Errorf("answer % x is not UTF-8", ans)
	}
	_, rs, err := dec.Answer(ans, nil)
	if err != nil || rs[0].TerminalID != "ut\ufffd" || rs[0].Err.Message != "m\ufffd" {
		t.Errorf("answer: %+v %v", rs, err)
	}
}
