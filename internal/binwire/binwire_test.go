package binwire

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestRoundTrip: what the writers write, the reader reads back, strings
// by reference once the table has them.
func TestRoundTrip(t *testing.T) {
	var tab Table
	tab.Reset()
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -5)
	b = AppendFloat(b, math.Inf(-1))
	b = AppendBytes(b, "raw")
	for _, s := range []string{"a", "", "a", "bc", ""} {
		b = tab.Append(b, s)
	}
	b = append(b, 7)
	var r Reader
	r.Reset(b, nil, false, false)
	if v := r.Uvarint("u"); v != 300 {
		t.Errorf("uvarint %d, want 300", v)
	}
	if v := r.Varint("v"); v != -5 {
		t.Errorf("varint %d, want -5", v)
	}
	if v := r.Float("f"); !math.IsInf(v, -1) {
		t.Errorf("float %v, want -Inf", v)
	}
	if s := r.Bytes("b"); s != "raw" {
		t.Errorf("bytes %q, want raw", s)
	}
	for _, want := range []string{"a", "", "a", "bc", ""} {
		if s := r.Str("s"); s != want {
			t.Errorf("str %q, want %q", s, want)
		}
	}
	if c := r.Byte("c"); c != 7 {
		t.Errorf("byte %d, want 7", c)
	}
	if r.End(); r.Err() != nil {
		t.Fatal(r.Err())
	}
}

// TestErrorsSayWhere: a body cut anywhere fails at the field being read,
// at an offset within the body, and reads nothing after.
func TestErrorsSayWhere(t *testing.T) {
	var tab Table
	tab.Reset()
	b := binary.AppendUvarint(nil, 1<<20)
	b = AppendFloat(b, 1.5)
	b = tab.Append(b, "zone")
	for n := range len(b) {
		var r Reader
		r.Reset(b[:n], nil, false, false)
		r.Uvarint("count")
		r.Float("lat")
		r.Str("zone")
		e := r.Err()
		if e == nil || e.Offset < 0 || e.Offset > n || e.Field == "" {
			t.Fatalf("cut to %d bytes: %v", n, e)
		}
		if r.Byte("after") != 0 || r.Err() != e {
			t.Fatalf("cut to %d bytes: a read after the error changed it", n)
		}
	}
	var r Reader
	r.Reset([]byte{5, 0}, nil, false, false)
	if r.Str("s"); r.Err() == nil || r.Err().Offset != 0 {
		t.Errorf("a reference to a string not yet in the body: %v", r.Err())
	}
	r.Reset([]byte{200}, nil, false, false)
	if r.Promise(r.Uvarint("n"), 1); r.Err() == nil {
		t.Error("a count the body cannot hold was not refused")
	}
}

// TestUTF8: with UTF8 set, bytes that are not UTF-8 are written and read
// as U+FFFD; without, as they are.
func TestUTF8(t *testing.T) {
	tab := Table{UTF8: true}
	b := tab.Append(nil, "a\xff")
	var r Reader
	r.Reset(b, nil, false, false)
	if s := r.Str("s"); s != "a\ufffd" {
		t.Errorf("written as %q", s)
	}
	raw := AppendBytes(nil, "a\xff")
	r.Reset(raw, nil, true, true)
	if s := r.Bytes("s"); s != "a\ufffd" {
		t.Errorf("read as %q", s)
	}
	r.Reset(raw, nil, false, false)
	if s := r.Bytes("s"); s != "a\xff" {
		t.Errorf("read raw as %q", s)
	}
}
