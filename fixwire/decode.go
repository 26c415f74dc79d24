package fixwire

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/skyfence/skyfence/internal/binwire"
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

// Decoder reads requests and answers, in either form. It keeps the table
// of a body's strings; reuse it to reuse the table's memory. It is not
// safe for concurrent use.
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
	r := reader{list: "fixes", item: -1}
	r.Reset(b, d.strs, false, true)
	defer func() { d.strs = r.Strings() }()
	n := r.begin(&batchID)
	if r.Err() == nil && d.MaxFixes > 0 && n > uint64(d.MaxFixes) {
		return batchID, fixes, &TooManyError{Count: int(min(n, math.MaxInt32)), Max: d.MaxFixes}
	}
	r.Promise(n, minFix)
	if r.Err() != nil {
		return batchID, fixes, r.err()
	}
	if cap(fixes)-len(fixes) < int(n) {
		fixes = append(make([]Fix, 0, len(fixes)+int(n)), fixes...)
	}
	for i := range int(n) {
		r.item = i
		fixes = append(fixes, Fix{})
		if !r.fix(&fixes[len(fixes)-1]) {
			return batchID, fixes[:len(fixes)-1], r.err()
		}
	}
	r.item = -1
	r.End()
	return batchID, fixes, r.err()
}

func (r *reader) fix(f *Fix) bool {
	flags := r.flags(fixFlags)
	f.TerminalID = r.Bytes("terminal_id")
	f.Lat, f.Lon, f.SpeedKmh = math.NaN(), math.NaN(), math.NaN()
	if flags&fixTime != 0 {
		at := r.Offset()
		sec := r.Varint("time")
		nsec := r.Uvarint("time")
		if r.Err() == nil && nsec >= 1e9 {
			r.Fail(at, "time", "nanoseconds "+strconv.FormatUint(nsec, 10)+" not under 1,000,000,000")
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
		f.ServingCell = r.Str("cell")
	}
	return r.Err() == nil
}

// Answer decodes an answer, appending its results to results. Its
// strings share one copy of b (one allocation for the answer): a string
// kept keeps that copy from being collected.
func (d *Decoder) Answer(b []byte, results []Result) (batchID string, _ []Result, err error) {
	r := reader{list: "results", item: -1}
	r.Reset(b, d.strs, true, true)
	defer func() { d.strs = r.Strings() }()
	n := r.begin(&batchID)
	r.Promise(n, minResult)
	if r.Err() != nil {
		return batchID, results, r.err()
	}
	if cap(results)-len(results) < int(n) {
		results = append(make([]Result, 0, len(results)+int(n)), results...)
	}
	for i := range int(n) {
		r.item = i
		results = append(results, Result{})
		if !r.result(&results[len(results)-1]) {
			return batchID, results[:len(results)-1], r.err()
		}
	}
	r.item = -1
	r.End()
	return batchID, results, r.err()
}

func (r *reader) result(res *Result) bool {
	at := r.Offset()
	flags := r.flags(resFlags)
	res.TerminalID = r.Bytes("terminal_id")
	if flags&resError != 0 {
		if flags != resError {
			r.Fail(at, "", fmt.Sprintf("flags %#02x: an error with a decision's flags", flags))
		}
		res.Err = &FixError{Code: r.Str("error/code"), Message: r.Str("error/message"), Field: r.Str("error/field")}
		return r.Err() == nil
	}
	res.Allow, res.Land = flags&resAllow != 0, flags&resLand != 0
	res.Reason = r.Str("reason")
	res.Message = r.Str("message")
	res.Rule = r.Str("rule")
	res.Country = r.Str("country")
	nz := r.Uvarint("zones")
	r.Promise(nz, 1)
	if r.Err() == nil && nz > 0 {
		// Zones come from one backing array per answer, each result's
		// capped so that appending to it cannot reach the next one's.
		if cap(r.zones)-len(r.zones) < int(nz) {
			r.zones = make([]string, 0, max(64, int(nz)))
		}
		start := len(r.zones)
		for range nz {
			r.zones = append(r.zones, r.Str("zones"))
		}
		res.Zones = r.zones[start:len(r.zones):len(r.zones)]
	}
	res.SpeedKmh = r.float("speed_kmh")
	if flags&resExempt != 0 {
		res.ExemptRule = r.Str("exempt_rule")
		res.ExemptBy = r.Str("exempt_by")
	}
	res.PolicyVersion = r.Str("policy_version")
	return r.Err() == nil
}

// reader reads a body of this form with binwire's primitives. item is the
// fix or result being read (-1: none), to name the field at fault.
type reader struct {
	binwire.Reader
	list  string
	item  int
	zones []string // of an answer's results
}

// err is the first error, as an *Error naming the field by its place in
// the body ("fixes/3/lat"); nil if none.
func (r *reader) err() error {
	e := r.Err()
	if e == nil {
		return nil
	}
	field := e.Field
	if r.item >= 0 {
		f := r.list + "/" + strconv.Itoa(r.item)
		if field != "" {
			f += "/" + field
		}
		field = f
	}
	return &Error{Offset: e.Offset, Field: field, Problem: e.Problem}
}

// begin reads the version, the batch id and the count.
func (r *reader) begin(batchID *string) uint64 {
	if r.Left() == 0 {
		r.Fail(0, "", "an empty body")
		return 0
	}
	switch v := r.Byte(""); {
	case v == '{':
		r.Fail(0, "", "a JSON object, not the binary form: send it as application/json")
		return 0
	case v != Version:
		r.Fail(0, "", fmt.Sprintf("version %d; this side reads version %d", v, Version))
		return 0
	}
	*batchID = r.Bytes("batch_id")
	return r.Uvarint("count")
}

func (r *reader) flags(known byte) byte {
	at := r.Offset()
	c := r.Byte("")
	if c&^known != 0 {
		r.Fail(at, "", fmt.Sprintf("flags %#02x: bits %#02x are not in version %d", c, c&^known, Version))
		return 0
	}
	return c
}

// float reads a present value, which is not NaN (NaN is not reported).
func (r *reader) float(field string) float64 {
	at := r.Offset()
	v := r.Float(field)
	if math.IsNaN(v) {
		r.Fail(at, field, "NaN (leave the field out instead)")
		return 0
	}
	return v
}
