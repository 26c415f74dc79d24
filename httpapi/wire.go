package httpapi

import (
	"errors"
	"math"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
)

// wireState is what one request in the binary form (fixwire) needs:
// decoder, encoder and the batch's fixes, pooled with their memory.
type wireState struct {
	dec   fixwire.Decoder
	enc   fixwire.Encoder
	fixes []fixwire.Fix
	in    []fixInput
}

var wirePool = sync.Pool{New: func() any { return &wireState{dec: fixwire.Decoder{MaxFixes: authorizer.MaxBatch}} }}

func (st *wireState) put() {
	clear(st.fixes) // their terminal ids
	clear(st.in)
	st.fixes, st.in = st.fixes[:0], st.in[:0]
	wirePool.Put(st)
}

// readBatch decodes a binary batch into the wire fixes of JSON, so that
// both forms are checked by fixInput.toFix and hashed alike for retries.
// The fixes point into st: they are good until st is put back.
func (st *wireState) readBatch(body []byte) (batchID string, in []fixInput, err error) {
	if batchID, st.fixes, err = st.dec.Request(body, st.fixes[:0]); err != nil {
		return "", nil, wireError(err)
	}
	in = st.in[:0]
	for i := range st.fixes {
		f := &st.fixes[i]
		in = append(in, fixInput{TerminalID: f.TerminalID, Time: f.Time, Lat: given(&f.Lat), Lon: given(&f.Lon),
			AltM: f.AltM, SpeedKmh: given(&f.SpeedKmh), Cell: f.Cell})
	}
	st.in = in
	return batchID, in, validBatchID(batchID)
}

// wireError is the API's error for a binary body the decoder refused.
func wireError(err error) error {
	var tooMany *fixwire.TooManyError
	var bad *fixwire.Error
	switch {
	case errors.As(err, &tooMany):
		return tooManyFixes(tooMany.Count)
	case errors.As(err, &bad):
		return skyfence.FieldErrorf(skyfence.EINVALID, bad.Field, "malformed %s body at byte %d: %s", fixwire.ContentType, bad.Offset, bad.Problem)
	}
	return err
}

// given is v, or nil if the fix left it out (NaN).
func given(v *float64) *float64 {
	if math.IsNaN(*v) {
		return nil
	}
	return v
}

// appendAnswer appends the binary answer of POST /v1/fixes to b, as
// appendAnswer does the JSON one.
func (st *wireState) appendAnswer(b []byte, batchID string, in []fixInput, pre []error, results []authorizer.Result) []byte {
	b = st.enc.BeginAnswer(b, batchID, len(in))
	k := 0
	for i := range in {
		var r fixwire.Result
		r.TerminalID = in[i].TerminalID
		if err := pre[i]; err != nil || results[k].Err != nil {
			if err == nil {
				err = results[k].Err
				k++
			}
			d := detailOf(err)
			r.Err = &fixwire.FixError{Code: d.Code, Message: d.Message, Field: d.Field}
		} else {
			d := &results[k].Decision
			k++
			r.Allow, r.Reason, r.Message, r.Rule = d.Allow, d.Reason.String(), d.Message(), d.Rule
			r.Country, r.Land, r.Zones, r.SpeedKmh = d.Country, d.Land, d.Zones, d.SpeedKmh
			r.ExemptRule, r.ExemptBy, r.PolicyVersion = d.ExemptRule, d.ExemptBy, d.PolicyVersion
		}
		b = st.enc.AppendResult(b, &r)
	}
	return b
}
