package fixwire

import (
	"errors"
	"strconv"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/jsonstr"
	"github.com/skyfence/skyfence/policy"
)

// Answer writes the answer to a batch, one result per fix in the batch's
// order: in JSON ({"batch_id": ..., "results": [...]}, docs/API.md), or
// with Binary in the binary form. Call Begin, then Append for each fix,
// then End. Reuse an Answer to reuse the memory of the binary form's
// table of strings; it is not safe for concurrent use.
type Answer struct {
	Binary bool
	enc    Encoder
	n      int // results appended since Begin
}

// Begin appends the start of the answer to a batch of n fixes to b.
func (a *Answer) Begin(b []byte, batchID string, n int) []byte {
	a.n = 0
	if a.Binary {
		return a.enc.BeginAnswer(b, batchID, n)
	}
	b = append(b, `{"batch_id":`...)
	b = appendString(b, batchID)
	return append(b, `,"results":[`...)
}

// Append appends the result of the next fix to b: its decision d, or err
// if the fix was refused (then d is not read).
func (a *Answer) Append(b []byte, terminalID string, d *policy.Decision, err error) []byte {
	a.n++
	if !a.Binary {
		if a.n > 1 {
			b = append(b, ',')
		}
		return AppendJSONResult(b, terminalID, d, err)
	}
	r := Result{TerminalID: terminalID}
	if err != nil {
		var fe FixError
		fe.Code, fe.Message, fe.Field = detail(err)
		r.Err = &fe
	} else {
		r.Allow, r.Reason, r.Message, r.Rule = d.Allow, d.Reason.String(), d.Message(), d.Rule
		r.Country, r.Land, r.Zones, r.SpeedKmh = d.Country, d.Land, d.Zones, d.SpeedKmh
		r.ExemptRule, r.ExemptBy, r.PolicyVersion = d.ExemptRule, d.ExemptBy, d.PolicyVersion
	}
	return a.enc.AppendResult(b, &r)
}

// End appends the end of the answer to b.
func (a *Answer) End(b []byte) []byte {
	if a.Binary {
		return b
	}
	return append(b, "]}\n"...)
}

// detail is what the answer says of a refused fix: the error's code,
// message, and field ("" if none).
func detail(err error) (code, message, field string) {
	var e *skyfence.Error
	if errors.As(err, &e) {
		field = e.Field
	}
	return skyfence.ErrorCode(err), skyfence.ErrorMessage(err), field
}

// AppendJSONResult appends one result as JSON to b, as a batch's answer
// and an NDJSON stream's line say it: the decision d, or err if the fix
// was refused (then d is not read). It is written by hand: this is the
// hot path of every gateway's response.
func AppendJSONResult(b []byte, terminalID string, d *policy.Decision, err error) []byte {
	b = append(b, `{"terminal_id":`...)
	b = appendString(b, terminalID)
	if err != nil {
		code, message, field := detail(err)
		b = append(b, `,"error":{"code":`...)
		b = appendString(b, code)
		b = append(b, `,"message":`...)
		b = appendString(b, message)
		if field != "" {
			b = append(b, `,"field":`...)
			b = appendString(b, field)
		}
		return append(b, "}}"...)
	}
	b = append(b, `,"allow":`...)
	b = strconv.AppendBool(b, d.Allow)
	b = append(b, `,"reason":"`...)
	b = append(b, d.Reason.String()...)
	b = append(b, `","message":`...)
	b = appendString(b, d.Message())
	b = append(b, `,"rule":`...)
	b = appendString(b, d.Rule)
	b = append(b, `,"country":`...)
	b = appendString(b, d.Country)
	b = append(b, `,"land":`...)
	b = strconv.AppendBool(b, d.Land)
	b = append(b, `,"zones":[`...)
	for i, z := range d.Zones {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, z)
	}
	b = append(b, `],"speed_kmh":`...)
	b = strconv.AppendFloat(b, d.SpeedKmh, 'f', -1, 64)
	if d.ExemptRule != "" {
		b = append(b, `,"exempt_rule":`...)
		b = appendString(b, d.ExemptRule)
		b = append(b, `,"exempt_by":`...)
		b = appendString(b, d.ExemptBy)
	}
	b = append(b, `,"policy_version":`...)
	b = appendString(b, d.PolicyVersion)
	return append(b, '}')
}

// appendString appends s as a JSON string: directly if it needs no
// escaping (ids, codes, versions almost always), else through jsonstr.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return jsonstr.Append(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
