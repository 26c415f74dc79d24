// Package fixwire owns every form of a batch of fixes, POST /v1/fixes's
// body and the server's answer, one result per fix: JSON, NDJSON (one fix
// a line, one result a line) and a binary form, each read and written
// here, request and answer. HTTP (httpapi), NATS (natsbus), the simulator
// and the benchmarks read and write batches with it and with nothing
// else. A fix of any form is a Fix, and Fix.Check is the one conversion
// into the skyfence.Fix the service decides, the one place of the rules.
//
// A value a fix does not report (lat, lon or speed_kmh left out) is NaN,
// in every form: JSON cannot say NaN and the binary form refuses it, so
// it can mean nothing else; it costs no pointer and no allocation per
// fix on the hot path (a *float64 did, three times a fix); and it is
// read with one comparison, the range check that a NaN fails (Check).
// The service's own "no speed" (skyfence.NoSpeed) is made from it once,
// in Check.
//
// It imports the domain and policy (whose decisions the answers carry),
// never a driver: no HTTP, NATS or SQL.
//
// # The binary form
//
// The binary form says what the JSON form says (docs/API.md, "Fixes in,
// decisions out"), field for field, in a fraction of the bytes and of the
// CPU: no numbers in decimal, no times in RFC 3339, and the strings a
// batch repeats (rules, countries, zones, reasons, the policy version)
// sent once. Gateways written in Go use this package; others implement
// the grammar below. Its primitives are package binwire's.
//
// Both bodies start with the version (1); a server that does not speak
// a body's version refuses it. Media type: ContentType, for both.
//
//	request  = version:byte batch_id:bytes count:uvarint fix*
//	fix      = flags:byte terminal_id:bytes
//	           [seconds:varint nanos:uvarint]  if flags&1: time
//	           [lat:f64]                        if flags&2
//	           [lon:f64]                        if flags&4
//	           [alt_m:f64]                      if flags&8 (absent: 0)
//	           [speed_kmh:f64]                  if flags&16 (absent: derived from the previous fix)
//	           [cell:str]                       if flags&32 (absent: "")
//
//	answer   = version:byte batch_id:bytes count:uvarint result*
//	result   = flags:byte terminal_id:bytes (decision | error)
//	decision = reason:str message:str rule:str country:str
//	           nzones:uvarint zone:str* speed_kmh:f64
//	           [exempt_rule:str exempt_by:str]  if flags&8
//	           policy_version:str
//	error    = code:str message:str field:str   if flags&1 (field "": none)
//	           result flags: 1 error, 2 allow, 4 land, 8 exempt
//
//	bytes    = len:uvarint, then len bytes (UTF-8; a reader takes bytes
//	           that are not as U+FFFD, a writer writes U+FFFD for them)
//	str      = ref:uvarint: 0, then len:uvarint and len bytes, for a string
//	           not yet in the body (it becomes the body's next string, the
//	           first being 1); else ref, the ref-th string of the body
//	f64      = IEEE 754 binary64, little-endian; present values are not NaN
//	uvarint, varint = as Go's encoding/binary (LEB128; varint zig-zag)
//
// Times are Unix seconds and nanoseconds (0 to 999,999,999). Flag bits
// not listed are zero. count is the number of fixes (results) that follow,
// and nothing follows the last. A fix's absent field is what JSON says by
// leaving the field out: no time, lat or lon (the fix is refused, as in
// JSON), no altitude (0), no speed, no cell.
package fixwire

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/skyfence/skyfence/internal/binwire"
)

// ContentType is the media type of both bodies, request and answer.
const ContentType = "application/vnd.skyfence.fixes"

// Version is the version of the form this package writes and reads.
const Version = 1

// Fix flags.
const (
	fixTime = 1 << iota
	fixLat
	fixLon
	fixAlt
	fixSpeed
	fixCell
	fixFlags = 1<<iota - 1
)

// Result flags.
const (
	resError = 1 << iota
	resAllow
	resLand
	resExempt
	resFlags = 1<<iota - 1
)

// Fix is one fix of a batch, in any form, as the gateway sent it. Lat,
// Lon and SpeedKmh are NaN when the fix does not give them (JSON leaves
// the field out; JSON cannot say NaN): a fix without a speed is decided at
// the speed derived from the terminal's previous fix. A zero Time is no
// time. Check makes it the fix the service decides.
type Fix struct {
	TerminalID  string
	Time        time.Time
	Lat, Lon    float64
	AltM        float64
	SpeedKmh    float64
	ServingCell string
}

// Result is the answer for one fix: a decision, or Err if the fix was
// refused (then only TerminalID is set besides).
type Result struct {
	TerminalID    string
	Allow         bool
	Reason        string
	Message       string
	Rule          string
	Country       string
	Land          bool
	Zones         []string // nil if none
	SpeedKmh      float64
	ExemptRule    string // "" if no exemption lifted a rule
	ExemptBy      string
	PolicyVersion string
	Err           *FixError
}

// FixError is why a fix was refused, as the JSON result's "error".
type FixError struct {
	Code, Message string
	Field         string // "" if no one field is at fault
}

// Encoder writes requests and answers in the binary form. It keeps a
// table of the body's strings; reuse it to reuse the table's memory. It
// is not safe for concurrent use.
type Encoder struct {
	strs binwire.Table
}

// AppendRequest appends the request for a batch of fixes to dst.
func (e *Encoder) AppendRequest(dst []byte, batchID string, fixes []Fix) []byte {
	dst = e.begin(dst, batchID, len(fixes))
	for i := range fixes {
		dst = e.appendFix(dst, &fixes[i])
	}
	return dst
}

func (e *Encoder) appendFix(b []byte, f *Fix) []byte {
	var flags byte
	if !f.Time.IsZero() {
		flags |= fixTime
	}
	if !math.IsNaN(f.Lat) {
		flags |= fixLat
	}
	if !math.IsNaN(f.Lon) {
		flags |= fixLon
	}
	if math.Float64bits(f.AltM) != 0 {
		flags |= fixAlt
	}
	if !math.IsNaN(f.SpeedKmh) {
		flags |= fixSpeed
	}
	if f.ServingCell != "" {
		flags |= fixCell
	}
	b = append(b, flags)
	b = appendBytes(b, f.TerminalID)
	if flags&fixTime != 0 {
		b = binary.AppendVarint(b, f.Time.Unix())
		b = binary.AppendUvarint(b, uint64(f.Time.Nanosecond()))
	}
	if flags&fixLat != 0 {
		b = appendFloat(b, f.Lat)
	}
	if flags&fixLon != 0 {
		b = appendFloat(b, f.Lon)
	}
	if flags&fixAlt != 0 {
		b = appendFloat(b, f.AltM)
	}
	if flags&fixSpeed != 0 {
		b = appendFloat(b, f.SpeedKmh)
	}
	if flags&fixCell != 0 {
		b = e.str(b, f.ServingCell)
	}
	return b
}

// BeginAnswer starts an answer of n results to dst; AppendResult appends
// each, in the order of the batch's fixes.
func (e *Encoder) BeginAnswer(dst []byte, batchID string, n int) []byte {
	return e.begin(dst, batchID, n)
}

// AppendAnswer appends the answer of a batch to dst.
func (e *Encoder) AppendAnswer(dst []byte, batchID string, results []Result) []byte {
	dst = e.BeginAnswer(dst, batchID, len(results))
	for i := range results {
		dst = e.AppendResult(dst, &results[i])
	}
	return dst
}

// AppendResult appends one result of the answer begun by BeginAnswer.
func (e *Encoder) AppendResult(b []byte, r *Result) []byte {
	if r.Err != nil {
		b = append(b, resError)
		b = appendBytes(b, r.TerminalID)
		b = e.str(b, r.Err.Code)
		b = e.str(b, r.Err.Message)
		return e.str(b, r.Err.Field)
	}
	var flags byte
	if r.Allow {
		flags |= resAllow
	}
	if r.Land {
		flags |= resLand
	}
	if r.ExemptRule != "" {
		flags |= resExempt
	}
	b = append(b, flags)
	b = appendBytes(b, r.TerminalID)
	b = e.str(b, r.Reason)
	b = e.str(b, r.Message)
	b = e.str(b, r.Rule)
	b = e.str(b, r.Country)
	b = binary.AppendUvarint(b, uint64(len(r.Zones)))
	for _, z := range r.Zones {
		b = e.str(b, z)
	}
	b = appendFloat(b, r.SpeedKmh)
	if flags&resExempt != 0 {
		b = e.str(b, r.ExemptRule)
		b = e.str(b, r.ExemptBy)
	}
	return e.str(b, r.PolicyVersion)
}

// begin starts a body: the version, the batch id, the count; and a new
// string table.
func (e *Encoder) begin(b []byte, batchID string, n int) []byte {
	e.strs.UTF8 = true
	e.strs.Reset()
	b = append(b, Version)
	b = appendBytes(b, batchID)
	return binary.AppendUvarint(b, uint64(n))
}

// str appends s as a reference to the body's table, adding it if new.
func (e *Encoder) str(b []byte, s string) []byte { return e.strs.Append(b, s) }

// appendBytes appends s as bytes: UTF-8, as the form says, so a string
// that is not (a terminal id echoed as a gateway sent it) goes with
// U+FFFD for each byte that is not.
func appendBytes(b []byte, s string) []byte { return binwire.AppendUTF8(b, s) }

func appendFloat(b []byte, v float64) []byte { return binwire.AppendFloat(b, v) }
