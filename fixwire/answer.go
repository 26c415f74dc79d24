package fixwire

import (
	"errors"
	"strconv"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/jsonstr"
	"github.com/skyfence/skyfence/policy"
)

// AppendAnswer appends to dst the answer to the batch, read and checked,
// one result per fix in the batch's order: in JSON ({"batch_id": ...,
// "results": [...]}, docs/API.md), or if binary in the binary form. Fix
// i's result is the error Refused[i] of its check, or if nil the next of
// the results of the fixes decided (Checked), in order: decided(k)
// returns the k-th's decision, or the error that refused it (then the
// decision is not read).
func (b *Batch) AppendAnswer(dst []byte, binary bool, decided func(k int) (*policy.Decision, error)) []byte {
	if binary {
		dst = b.enc.BeginAnswer(dst, b.ID, len(b.Fixes))
	} else {
		dst = append(dst, `{"batch_id":`...)
		dst = appendString(dst, b.ID)
		dst = append(dst, `,"results":[`...)
	}
	k := 0
	for i := range b.Fixes {
		var d *policy.Decision
		err := b.Refused[i]
		if err == nil {
			d, err = decided(k)
			k++
		}
		if binary {
			dst = b.enc.appendDecided(dst, b.Fixes[i].TerminalID, d, err)
			continue
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONResult(dst, b.Fixes[i].TerminalID, d, err)
	}
	if binary {
		return dst
	}
	return append(dst, "]}\n"...)
}

// appendDecided appends one result in the binary form: decision d, or
// err if the fix was refused.
func (e *Encoder) appendDecided(b []byte, terminalID string, d *policy.Decision, err error) []byte {
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
	return e.AppendResult(b, &r)
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
