package natsbus

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/internal/binwire"
	"github.com/skyfence/skyfence/policy"
)

// The wire form of a batch of observations, for an authorizer that sends
// them to a detector worker over NATS (docs/CLUSTER.md), built from
// binwire's primitives. It carries what the detection engine reads and
// nothing else: the terminal's id, plan, home country and verifications
// (region and validity); the fix; the decision's allow, reason, rule,
// region, country, land, zones, speed and located; and when the fix
// arrived. TestWireKeepsAlerts checks that a stream sent through it
// raises the same alerts as the stream itself.
//
//	batch  = version:byte count:uvarint observation*
//	obs    = flags:byte id:str [plan:str home:str nverif:uvarint verif*]
//	         time:varint lat lon alt speed:f64 cell:str
//	         reason:byte rule region country:str nzones:uvarint zone:str* dspeed:f64
//	         received:varint
//	verif  = region:str verified:varint expires:varint (0: never; -1 and a flag bit: revoked)
//	str    = ref:uvarint, 0 followed by len:uvarint and the bytes for a string
//	         not yet in the batch, else the ref-th distinct string of the batch
//
// Times are Unix nanoseconds; a zero time is 0.
const obsWireVersion = 1

const (
	obsTerminal = 1 << iota
	obsAllow
	obsLand
	obsLocated
)

// The fewest bytes an observation and a verification take, to bound what
// a count may promise: flags, id, time, four floats, cell, reason, rule,
// region, country, zones, speed, received; region, two times.
const (
	minObs   = 1 + 1 + 1 + 4*8 + 1 + 1 + 3 + 1 + 8 + 1
	minVerif = 3
)

// obsEncoder appends batches of observations in the wire form. It keeps a
// table of the batch's strings; reuse it to reuse the table's memory.
type obsEncoder struct {
	strs binwire.Table
}

// appendBatch appends the wire form of obs to dst and returns it.
func (enc *obsEncoder) appendBatch(dst []byte, obs []detect.Observation) []byte {
	enc.strs.Reset()
	dst = append(dst, obsWireVersion)
	dst = binary.AppendUvarint(dst, uint64(len(obs)))
	for i := range obs {
		dst = enc.append(dst, &obs[i])
	}
	return dst
}

func (enc *obsEncoder) append(b []byte, o *detect.Observation) []byte {
	t, f, d := o.Terminal, &o.Fix, &o.Decision
	var flags byte
	if t != nil {
		flags |= obsTerminal
	}
	if d.Allow {
		flags |= obsAllow
	}
	if d.Land {
		flags |= obsLand
	}
	if d.Located {
		flags |= obsLocated
	}
	b = append(b, flags)
	b = enc.strs.Append(b, f.TerminalID)
	if t != nil {
		b = enc.strs.Append(b, t.Plan)
		b = enc.strs.Append(b, t.Country)
		b = binary.AppendUvarint(b, uint64(len(t.Verifications)))
		for j := range t.Verifications {
			v := &t.Verifications[j]
			b = enc.strs.Append(b, v.Region)
			b = binary.AppendVarint(b, unixNano(v.VerifiedAt))
			exp := unixNano(v.ExpiresAt)
			if v.Revoked {
				exp = -1
			}
			b = binary.AppendVarint(b, exp)
		}
	}
	b = binary.AppendVarint(b, unixNano(f.Time))
	b = binwire.AppendFloat(b, f.Lat)
	b = binwire.AppendFloat(b, f.Lon)
	b = binwire.AppendFloat(b, f.AltM)
	b = binwire.AppendFloat(b, f.SpeedKmh)
	b = enc.strs.Append(b, f.ServingCell)
	b = append(b, d.Reason.WireCode())
	b = enc.strs.Append(b, d.Rule)
	b = enc.strs.Append(b, d.Region)
	b = enc.strs.Append(b, d.Country)
	b = binary.AppendUvarint(b, uint64(len(d.Zones)))
	for _, z := range d.Zones {
		b = enc.strs.Append(b, z)
	}
	b = binwire.AppendFloat(b, d.SpeedKmh)
	return binary.AppendVarint(b, unixNano(o.Received))
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// decodeObservations decodes a batch in the wire form, appending its
// observations to dst. Each observation with a terminal gets a record of
// its own, all of a batch's in one allocation.
func decodeObservations(dst []detect.Observation, data []byte) ([]detect.Observation, error) {
	var r binwire.Reader
	r.Reset(data, nil, false, false)
	if v := r.Byte("version"); r.Err() == nil && v != obsWireVersion {
		return dst, fmt.Errorf("natsbus: observations in wire version %d, want %d", v, obsWireVersion)
	}
	n := r.Uvarint("count")
	r.Promise(n, minObs)
	if r.Err() != nil {
		return dst, obsError(r.Err(), -1)
	}
	terms := make([]skyfence.Terminal, 0, n) // one allocation for the batch's records
	for i := range int(n) {
		var o detect.Observation
		flags := r.Byte("flags")
		o.Fix.TerminalID = r.Str("id")
		if flags&obsTerminal != 0 {
			terms = append(terms, skyfence.Terminal{ID: o.Fix.TerminalID})
			t := &terms[len(terms)-1]
			t.Plan = r.Str("plan")
			t.Country = r.Str("home")
			nv := r.Uvarint("verifications")
			if r.Promise(nv, minVerif); r.Err() == nil && nv > 0 {
				t.Verifications = make([]skyfence.Verification, nv)
				for j := range t.Verifications {
					v := &t.Verifications[j]
					v.Region = r.Str("verification region")
					v.VerifiedAt = fromUnixNano(r.Varint("verified"))
					if exp := r.Varint("expires"); exp == -1 {
						v.Revoked = true
					} else {
						v.ExpiresAt = fromUnixNano(exp)
					}
				}
			}
			o.Terminal = t
		}
		o.Fix.Time = fromUnixNano(r.Varint("time"))
		o.Fix.Lat, o.Fix.Lon, o.Fix.AltM, o.Fix.SpeedKmh = r.Float("lat"), r.Float("lon"), r.Float("alt"), r.Float("speed")
		o.Fix.ServingCell = r.Str("cell")
		d := &o.Decision
		d.Allow, d.Land, d.Located = flags&obsAllow != 0, flags&obsLand != 0, flags&obsLocated != 0
		d.Reason = policy.ReasonOfWireCode(r.Byte("reason"))
		d.Rule, d.Region, d.Country = r.Str("rule"), r.Str("region"), r.Str("country")
		nz := r.Uvarint("zones")
		if r.Promise(nz, 1); r.Err() == nil && nz > 0 {
			d.Zones = make([]string, nz)
			for j := range d.Zones {
				d.Zones[j] = r.Str("zones")
			}
		}
		d.SpeedKmh = r.Float("decided speed")
		o.Received = fromUnixNano(r.Varint("received"))
		if r.Err() != nil {
			return dst, obsError(r.Err(), i)
		}
		dst = append(dst, o)
	}
	if r.End(); r.Err() != nil {
		return dst, obsError(r.Err(), -1)
	}
	return dst, nil
}

// obsError is a batch of observations that does not decode, naming the
// observation (i, -1 for none) at fault.
func obsError(e *binwire.Error, i int) error {
	if i < 0 {
		return fmt.Errorf("natsbus: a corrupt batch of observations: %v", e)
	}
	return fmt.Errorf("natsbus: a corrupt batch of observations: observation %d: %v", i, e)
}
