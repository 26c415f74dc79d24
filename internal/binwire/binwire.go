// Package binwire reads and writes the primitives that skyfence's binary
// forms are made of: varints, floats, strings given in full and strings
// given by their reference to a table of the body's strings. Package
// fixwire (batches of fixes and their answers) and natsbus (the detection
// observations sent to detector workers) build their grammars from it, so
// that a bug in a primitive is fixed once. It owns no grammar and imports
// only the standard library.
//
//	uvarint, varint = as Go's encoding/binary (LEB128; varint zig-zag)
//	f64      = IEEE 754 binary64, little-endian
//	bytes    = len:uvarint, then len bytes
//	str      = ref:uvarint: 0, then bytes, for a string not yet in the body
//	           (it becomes the body's next string, the first being 1);
//	           else ref, the ref-th string of the body
package binwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// AppendFloat appends v as f64.
func AppendFloat(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// AppendBytes appends s as bytes.
func AppendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendUTF8 appends s as bytes in UTF-8: U+FFFD for each byte of s that
// is not.
func AppendUTF8(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	return AppendBytes(b, s)
}

// Table writes strings as str: in full the first time a body has them,
// by reference after. Reset it at the start of each body; reuse it to
// reuse its memory. It is not safe for concurrent use. Its zero value
// writes strings as they are; with UTF8 set, in UTF-8 (AppendUTF8).
type Table struct {
	UTF8 bool
	strs map[string]uint32
	// recent holds strings seen by their address: the strings a body
	// repeats (rules, countries, reasons) are most often one string
	// shared, found here without hashing it. A slot keeps its string
	// alive, so an address cannot come back with other bytes while the
	// body is written.
	recent [1 << recentBits]recentStr
	empty  uint32 // the reference of "", 0 until it is in the table
}

const recentBits = 6

type recentStr struct {
	s   string
	ref uint32
}

// Reset empties the table, for a new body.
func (t *Table) Reset() {
	if t.strs == nil {
		t.strs = make(map[string]uint32, 64)
	}
	clear(t.strs)
	t.recent, t.empty = [len(t.recent)]recentStr{}, 0
}

// Append appends s as str, adding it to the table if new.
func (t *Table) Append(b []byte, s string) []byte {
	if t.strs == nil {
		t.Reset()
	}
	if len(s) == 0 {
		if t.empty == 0 {
			t.empty = t.add(s)
			return append(b, 0, 0)
		}
		return binary.AppendUvarint(b, uint64(t.empty))
	}
	// Two slots a string may be in, the most recent first: two strings
	// that fall on one slot do not push each other out.
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))) ^ uint64(len(s))
	i := (p * 0x9e3779b97f4a7c15) >> (64 - recentBits) &^ 1
	pair := (*[2]recentStr)(t.recent[i : i+2])
	for k := range pair {
		if len(pair[k].s) == len(s) && unsafe.StringData(pair[k].s) == unsafe.StringData(s) {
			return binary.AppendUvarint(b, uint64(pair[k].ref))
		}
	}
	ref, ok := t.strs[s]
	if !ok {
		ref = t.add(s)
		b = append(b, 0)
		if t.UTF8 {
			b = AppendUTF8(b, s)
		} else {
			b = AppendBytes(b, s)
		}
	} else {
		b = binary.AppendUvarint(b, uint64(ref))
	}
	pair[1], pair[0] = pair[0], recentStr{s, ref}
	return b
}

// add puts s in the table and returns its reference.
func (t *Table) add(s string) uint32 {
	ref := uint32(len(t.strs) + 1)
	t.strs[s] = ref
	return ref
}

// Error is a body that a Reader could not read: where, and what is wrong.
type Error struct {
	Offset  int    // of the byte at fault, from the start of the body
	Field   string // what was being read, as the caller named it; "" for the body's frame
	Problem string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("byte %d: %s", e.Offset, e.Problem)
	}
	return fmt.Sprintf("byte %d: %s: %s", e.Offset, e.Field, e.Problem)
}

// Reader reads a body. The first error sticks: every read after it
// returns a zero value, and Err returns it. Each read names the field it
// reads, for the error.
type Reader struct {
	b    []byte
	i    int
	err  *Error
	strs []string
	// shared is b as a string, whose substrings are the strings read, if
	// set; else each string is a copy of its own.
	shared string
	utf8   bool
}

// Reset makes r read body b, with an empty table of strings (strs, to
// reuse its memory). With shared, the strings read share one copy of b
// (one allocation for the body; a string kept keeps it all); else each
// is a copy of its own. With valid, bytes that are not UTF-8 are read as
// U+FFFD.
func (r *Reader) Reset(b []byte, strs []string, shared, valid bool) {
	*r = Reader{b: b, strs: strs[:0], utf8: valid}
	if shared {
		r.shared = string(b)
	}
}

// Strings returns the table's memory, to be given to the next Reset.
func (r *Reader) Strings() []string { return r.strs[:0] }

// Err returns the first error, nil if none.
func (r *Reader) Err() *Error { return r.err }

// Offset returns the offset of the next byte to read.
func (r *Reader) Offset() int { return r.i }

// Left returns the number of bytes not read yet.
func (r *Reader) Left() int { return len(r.b) - r.i }

// Fail records that the body is wrong at byte at (if nothing was before)
// and stops the reading.
func (r *Reader) Fail(at int, field, problem string) {
	if r.err != nil {
		return
	}
	r.err = &Error{Offset: at, Field: field, Problem: problem}
	r.i = len(r.b)
}

// short records that the body ends before want bytes of field (unless
// an error came before).
func (r *Reader) short(field string, want int) {
	if r.err != nil {
		return
	}
	r.Fail(r.i, field, fmt.Sprintf("the body ends: %d bytes wanted, %d left", want, len(r.b)-r.i))
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	if r.i < len(r.b) { // never after an error: Fail ends the body
		c := r.b[r.i]
		r.i++
		return c
	}
	r.short(field, 1)
	return 0
}

// Uvarint reads a uvarint. A value under 128 (one byte: most counts,
// lengths and references) is read without decoding a varint.
func (r *Reader) Uvarint(field string) uint64 {
	if r.i < len(r.b) && r.b[r.i] < 0x80 {
		v := r.b[r.i]
		r.i++
		return uint64(v)
	}
	return r.uvarint(field)
}

func (r *Reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		if n == 0 {
			r.short(field, 1)
		} else {
			r.Fail(r.i, field, "a varint over 64 bits")
		}
		return 0
	}
	r.i += n
	return v
}

// Varint reads a zig-zag varint, as encoding/binary writes it: the
// uvarint of its bits, the sign in the lowest.
func (r *Reader) Varint(field string) int64 {
	u := r.Uvarint(field)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// Float reads an f64.
func (r *Reader) Float(field string) float64 {
	if len(r.b)-r.i >= 8 {
		v := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.i:]))
		r.i += 8
		return v
	}
	r.short(field, 8)
	return 0
}

// Promise checks that n items of at least size bytes each can be in
// what is left of the body, before a caller makes room for them.
func (r *Reader) Promise(n uint64, size int) {
	if r.err == nil && n > uint64(len(r.b)-r.i)/uint64(size) {
		r.Fail(r.i, "", fmt.Sprintf("a count of %d that the %d bytes left cannot hold", n, len(r.b)-r.i))
	}
}

// Bytes reads a string given in full (bytes).
func (r *Reader) Bytes(field string) string {
	at := r.i
	n := r.Uvarint(field)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)-r.i) {
		r.Fail(at, field, fmt.Sprintf("a string of %d bytes; %d left", n, len(r.b)-r.i))
		return ""
	}
	var s string
	if r.shared != "" {
		s = r.shared[r.i : r.i+int(n)]
	} else {
		s = string(r.b[r.i : r.i+int(n)])
	}
	r.i += int(n)
	if r.utf8 && !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	return s
}

// Str reads a str: a string given in full, or by its reference to the
// table.
func (r *Reader) Str(field string) string {
	at := r.i
	ref := r.Uvarint(field)
	if r.err != nil {
		return ""
	}
	if ref == 0 {
		s := r.Bytes(field)
		if r.err == nil {
			r.strs = append(r.strs, s)
		}
		return s
	}
	if ref > uint64(len(r.strs)) {
		r.Fail(at, field, fmt.Sprintf("string %d of a body that has %d so far", ref, len(r.strs)))
		return ""
	}
	return r.strs[ref-1]
}

// End checks that the body was read to its end.
func (r *Reader) End() {
	if r.err == nil && r.i != len(r.b) {
		r.Fail(r.i, "", fmt.Sprintf("%d bytes after the last item", len(r.b)-r.i))
	}
}
