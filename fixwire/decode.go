package fixwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a body not in the form: what is wrong and where.
type Error struct {
	Offset  int    // of the byte at fault, from the start of the body
	Field   string // "batch_id", "fixes/3/lat", "results/0/zones"; "" for the body's frame
	Problem string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("fixwire: byte %d: %s", e.Offset, e.Problem)
	}
	return fmt.Sprintf("fixwire: byte %d: %s: %s", e.Offset, e.Field, e.Problem)
}

// TooManyError is a request of more fixes than Decoder.MaxFixes, refused
// before its fixes are read.
type TooManyError struct{ Count, Max int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("fixwire: a batch of %d fixes, more than %d", e.Count, e.Max)
}

// Decoder reads requests and answers. It keeps the table of a body's
// strings; reuse it to reuse the table's memory. It is not safe for
// concurrent use.
type Decoder struct {
	// MaxFixes, if positive, is the most fixes a request may hold.
	MaxFixes int
	strs     []string
}

// minFix and minResult are the fewest bytes a fix and a result take, to
// bound what a count may promise.
const (
	minFix    = 2 // flags, an empty terminal id
	minResult = 5 // an error: flags, an empty terminal id, three string refs
)

// Request decodes a request, appending its fixes to fixes. Its strings
// are its own (they do not alias b).
func (d *Decoder) Request(b []byte, fixes []Fix) (batchID string, _ []Fix, err error) {
	r := reader{b: b, list: "fixes", item: -1, strs: d.strs[:0]}
	defer func() { d.strs = r.strs[:0] }()
	n := r.begin(&batchID)
	if r.err == nil && d.MaxFixes > 0 && n > uint64(d.MaxFixes) {
		return batchID, fixes, &TooManyError{Count: int(min(n, math.MaxInt32)), Max: d.MaxFixes}
	}
	r.promise(n, minFix)
	if r.err != nil {
		return batchID, fixes, r.err
	}
	if cap(fixes)-len(fixes) < int(n) {
		fixes = append(make([]Fix, 0, len(fixes)+int(n)), fixes...)
	}
	for i := range int(n) {
		r.item = i
		fixes = append(fixes, Fix{})
		if !r.fix(&fixes[len(fixes)-1]) {
			return batchID, fixes[:len(fixes)-1], r.err
		}
	}
	r.item = -1
	r.end()
	return batchID, fixes, errOrNil(r.err)
}

func (r *reader) fix(f *Fix) bool {
	flags := r.flags(fixFlags)
	f.TerminalID = r.bytes("terminal_id")
	f.Lat, f.Lon, f.SpeedKmh = math.NaN(), math.NaN(), math.NaN()
	if flags&fixTime != 0 {
		at := r.i
		sec := r.varint("time")
		nsec := r.uvarint("time")
		if r.err == nil && nsec >= 1e9 {
			r.failAt(at, "time", "nanoseconds "+strconv.FormatUint(nsec, 10)+" not under 1,000,000,000")
		}
		f.Time = time.Unix(sec, int64(nsec)).UTC()
	}
	if flags&fixLat != 0 {
		f.Lat = r.float("lat")
	}
	if flags&fixLon != 0 {
		f.Lon = r.float("lon")
	}
	if flags&fixAlt != 0 {
		f.AltM = r.float("alt_m")
	}
	if flags&fixSpeed != 0 {
		f.SpeedKmh = r.float("speed_kmh")
	}
	if flags&fixCell != 0 {
		f.Cell = r.str("cell")
	}
	return r.err == nil
}

// Answer decodes an answer, appending its results to results. Its
// strings share one copy of b (one allocation for the answer): a string
// kept keeps that copy from being collected.
func (d *Decoder) Answer(b []byte, results []Result) (batchID string, _ []Result, err error) {
	r := reader{b: b, list: "results", item: -1, strs: d.strs[:0], copied: string(b)}
	defer func() { d.strs = r.strs[:0] }()
	n := r.begin(&batchID)
	r.promise(n, minResult)
	if r.err != nil {
		return batchID, results, r.err
	}
	if cap(results)-len(results) < int(n) {
		results = append(make([]Result, 0, len(results)+int(n)), results...)
	}
	for i := range int(n) {
		r.item = i
		results = append(results, Result{})
		if !r.result(&results[len(results)-1]) {
			return batchID, results[:len(results)-1], r.err
		}
	}
	r.item = -1
	r.end()
	return batchID, results, errOrNil(r.err)
}

func (r *reader) result(res *Result) bool {
	at := r.i
	flags := r.flags(resFlags)
	res.TerminalID = r.bytes("terminal_id")
	if flags&resError != 0 {
		if flags != resError {
			r.failAt(at, "", fmt.Sprintf("flags %#02x: an error with a decision's flags", flags))
		}
		res.Err = &FixError{Code: r.str("error/code"), Message: r.str("error/message"), Field: r.str("error/field")}
		return r.err == nil
	}
	res.Allow, res.Land = flags&resAllow != 0, flags&resLand != 0
	res.Reason = r.str("reason")
	res.Message = r.str("message")
	res.Rule = r.str("rule")
	res.Country = r.str("country")
	nz := r.uvarint("zones")
	r.promise(nz, 1)
	if r.err == nil && nz > 0 {
		// Zones come from one backing array per answer, each result's
		// capped so that appending to it cannot reach the next one's.
		if cap(r.zones)-len(r.zones) < int(nz) {
			r.zones = make([]string, 0, max(64, int(nz)))
		}
		start := len(r.zones)
		for range nz {
			r.zones = append(r.zones, r.str("zones"))
		}
		res.Zones = r.zones[start:len(r.zones):len(r.zones)]
	}
	res.SpeedKmh = r.float("speed_kmh")
	if flags&resExempt != 0 {
		res.ExemptRule = r.str("exempt_rule")
		res.ExemptBy = r.str("exempt_by")
	}
	res.PolicyVersion = r.str("policy_version")
	return r.err == nil
}

// reader reads a body; the first error sticks and every read after it
// returns zero values. item is the fix or result being read (-1: none),
// to name the field at fault.
type reader struct {
	b    []byte
	i    int
	list string
	item int
	strs []string
	err  *Error
	// copied is b as a string, whose substrings are the strings read, if
	// set; else each string is a copy of its own.
	copied string
	zones  []string // of an answer's results
}

// errOrNil keeps a nil *Error from becoming a non-nil error.
func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func (r *reader) failAt(at int, field, problem string) {
	if r.err != nil {
		return
	}
	if r.item >= 0 {
		f := r.list + "/" + strconv.Itoa(r.item)
		if field != "" {
			f += "/" + field
		}
		field = f
	}
	r.err = &Error{Offset: at, Field: field, Problem: problem}
	r.i = len(r.b)
}

func (r *reader) short(field string, want int) {
	r.failAt(r.i, field, fmt.Sprintf("the body ends: %d bytes wanted, %d left", want, len(r.b)-r.i))
}

// begin reads the version, the batch id and the count.
func (r *reader) begin(batchID *string) uint64 {
	switch {
	case len(r.b) == 0:
		r.failAt(0, "", "an empty body")
		return 0
	case r.b[0] == '{':
		r.failAt(0, "", "a JSON object, not the binary form: send it as application/json")
		return 0
	case r.b[0] != Version:
		r.failAt(0, "", fmt.Sprintf("version %d; this side reads version %d", r.b[0], Version))
		return 0
	}
	r.i = 1
	*batchID = r.bytes("batch_id")
	return r.uvarint("count")
}

// promise checks that n items of at least size bytes each can be in what
// is left of the body, before room is made for them.
func (r *reader) promise(n uint64, size int) {
	if r.err == nil && n > uint64(len(r.b)-r.i)/uint64(size) {
		r.failAt(r.i, "", fmt.Sprintf("a count of %d that the %d bytes left cannot hold", n, len(r.b)-r.i))
	}
}

func (r *reader) end() {
	if r.err == nil && r.i != len(r.b) {
		r.failAt(r.i, "", fmt.Sprintf("%d bytes after the last item", len(r.b)-r.i))
	}
}

func (r *reader) flags(known byte) byte {
	if r.i >= len(r.b) {
		r.short("", 1)
		return 0
	}
	c := r.b[r.i]
	if c&^known != 0 {
		r.failAt(r.i, "", fmt.Sprintf("flags %#02x: bits %#02x are not in version %d", c, c&^known, Version))
		return 0
	}
	r.i++
	return c
}

func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		if n == 0 {
			r.short(field, 1)
		} else {
			r.failAt(r.i, field, "a varint over 64 bits")
		}
		return 0
	}
	r.i += n
	return v
}

// varint reads a zig-zag varint, as encoding/binary writes it: the
// uvarint of its bits, the sign in the lowest.
func (r *reader) varint(field string) int64 {
	u := r.uvarint(field)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *reader) float(field string) float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.i < 8 {
		r.short(field, 8)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.i:]))
	if math.IsNaN(v) {
		r.failAt(r.i, field, "NaN (leave the field out instead)")
		return 0
	}
	r.i += 8
	return v
}

// bytes reads a string given in full. Bytes that are not UTF-8 are read
// as U+FFFD, as encoding/json reads them in JSON: a terminal id sent so is
// refused for the fix (skyfence.ValidID) and echoed as the encoder writes
// every string, in UTF-8.
func (r *reader) bytes(field string) string {
	at := r.i
	n := r.uvarint(field)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)-r.i) {
		r.failAt(at, field, fmt.Sprintf("a string of %d bytes; %d left", n, len(r.b)-r.i))
		return ""
	}
	var s string
	if r.copied != "" {
		s = r.copied[r.i : r.i+int(n)]
	} else {
		s = string(r.b[r.i : r.i+int(n)])
	}
	r.i += int(n)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	return s
}

// str reads a string given in full or by its reference to the table.
func (r *reader) str(field string) string {
	at := r.i
	ref := r.uvarint(field)
	if r.err != nil {
		return ""
	}
	if ref == 0 {
		s := r.bytes(field)
		if r.err == nil {
			r.strs = append(r.strs, s)
		}
		return s
	}
	if ref > uint64(len(r.strs)) {
		r.failAt(at, field, fmt.Sprintf("string %d of a body that has %d so far", ref, len(r.strs)))
		return ""
	}
	return r.strs[ref-1]
}
