package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// The wire form of a batch of observations, for an authorizer that sends
// them to a detector worker over NATS (docs/CLUSTER.md). It carries what
// the engine reads and nothing else: the terminal's id, plan, home country
// and verifications (region and validity); the fix; the decision's allow,
// reason, rule, region, country, land, zones, speed and located; and when
// the fix arrived. TestWireKeepsAlerts checks that a stream sent through it
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
const wireVersion = 1

const (
	wireTerminal = 1 << iota
	wireAllow
	wireLand
	wireLocated
)

// Encoder appends batches of observations in the wire form. It keeps a
// table of the batch's strings; reuse it to reuse the table's memory.
type Encoder struct {
	strs map[string]int
}

// AppendBatch appends the wire form of obs to dst and returns it.
func (enc *Encoder) AppendBatch(dst []byte, obs []Observation) []byte {
	if enc.strs == nil {
		enc.strs = make(map[string]int, 64)
	}
	clear(enc.strs)
	dst = append(dst, wireVersion)
	dst = binary.AppendUvarint(dst, uint64(len(obs)))
	for i := range obs {
		dst = enc.append(dst, &obs[i])
	}
	return dst
}

func (enc *Encoder) append(b []byte, o *Observation) []byte {
	t, f, d := o.Terminal, &o.Fix, &o.Decision
	var flags byte
	if t != nil {
		flags |= wireTerminal
	}
	if d.Allow {
		flags |= wireAllow
	}
	if d.Land {
		flags |= wireLand
	}
	if d.Located {
		flags |= wireLocated
	}
	b = append(b, flags)
	b = enc.str(b, f.TerminalID)
	if t != nil {
		b = enc.str(b, t.Plan)
		b = enc.str(b, t.Country)
		b = binary.AppendUvarint(b, uint64(len(t.Verifications)))
		for j := range t.Verifications {
			v := &t.Verifications[j]
			b = enc.str(b, v.Region)
			b = binary.AppendVarint(b, unixNano(v.VerifiedAt))
			exp := unixNano(v.ExpiresAt)
			if v.Revoked {
				exp = -1
			}
			b = binary.AppendVarint(b, exp)
		}
	}
	b = binary.AppendVarint(b, unixNano(f.Time))
	b = appendFloat(b, f.Lat)
	b = appendFloat(b, f.Lon)
	b = appendFloat(b, f.AltM)
	b = appendFloat(b, f.SpeedKmh)
	b = enc.str(b, f.Cell)
	b = append(b, d.Reason.WireCode())
	b = enc.str(b, d.Rule)
	b = enc.str(b, d.Region)
	b = enc.str(b, d.Country)
	b = binary.AppendUvarint(b, uint64(len(d.Zones)))
	for _, z := range d.Zones {
		b = enc.str(b, z)
	}
	b = appendFloat(b, d.SpeedKmh)
	return binary.AppendVarint(b, unixNano(o.Received))
}

func (enc *Encoder) str(b []byte, s string) []byte {
	if ref, ok := enc.strs[s]; ok {
		return binary.AppendUvarint(b, uint64(ref))
	}
	enc.strs[s] = len(enc.strs) + 1
	b = append(b, 0)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloat(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
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

// DecodeBatch decodes a batch in the wire form, appending its observations
// to dst. Each observation with a terminal gets a record of its own, all
// of a batch's in one allocation.
func DecodeBatch(dst []Observation, data []byte) ([]Observation, error) {
	r := wireReader{b: data}
	if v := r.byte(); v != wireVersion {
		return dst, fmt.Errorf("detect: observations in wire version %d, want %d", v, wireVersion)
	}
	n := r.uvarint()
	if n > uint64(len(data)) { // every observation takes more than a byte
		return dst, errors.New("detect: a corrupt batch of observations")
	}
	terms := make([]skyfence.Terminal, 0, n) // one allocation for the batch's records
	for range n {
		var o Observation
		flags := r.byte()
		o.Fix.TerminalID = r.str()
		if flags&wireTerminal != 0 {
			terms = append(terms, skyfence.Terminal{ID: o.Fix.TerminalID})
			t := &terms[len(terms)-1]
			t.Plan = r.str()
			t.Country = r.str()
			if nv := r.uvarint(); nv > uint64(len(r.b)) {
				r.fail(errShort)
			} else if nv > 0 {
				t.Verifications = make([]skyfence.Verification, nv)
				for j := range t.Verifications {
					v := &t.Verifications[j]
					v.Region = r.str()
					v.VerifiedAt = fromUnixNano(r.varint())
					if exp := r.varint(); exp == -1 {
						v.Revoked = true
					} else {
						v.ExpiresAt = fromUnixNano(exp)
					}
				}
			}
			o.Terminal = t
		}
		o.Fix.Time = fromUnixNano(r.varint())
		o.Fix.Lat, o.Fix.Lon, o.Fix.AltM, o.Fix.SpeedKmh = r.float(), r.float(), r.float(), r.float()
		o.Fix.Cell = r.str()
		d := &o.Decision
		d.Allow, d.Land, d.Located = flags&wireAllow != 0, flags&wireLand != 0, flags&wireLocated != 0
		d.Reason = policy.ReasonOfWireCode(r.byte())
		d.Rule, d.Region, d.Country = r.str(), r.str(), r.str()
		if nz := r.uvarint(); nz > uint64(len(r.b)) {
			r.fail(errShort)
		} else if nz > 0 {
			d.Zones = make([]string, nz)
			for j := range d.Zones {
				d.Zones[j] = r.str()
			}
		}
		d.SpeedKmh = r.float()
		o.Received = fromUnixNano(r.varint())
		if r.err != nil {
			return dst, r.err
		}
		dst = append(dst, o)
	}
	if len(r.b) != 0 {
		return dst, errors.New("detect: trailing bytes after a batch of observations")
	}
	return dst, r.err
}

// wireReader reads the wire form; the first error sticks and every read
// after it returns zero values.
type wireReader struct {
	b    []byte
	strs []string
	err  error
}

var errShort = errors.New("detect: a truncated batch of observations")

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *wireReader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a zig-zag varint: the uvarint of its bits, the sign in the
// lowest (binary.Varint's own way).
func (r *wireReader) varint() int64 {
	u := r.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *wireReader) float() float64 {
	if len(r.b) < 8 {
		r.fail(errShort)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *wireReader) str() string {
	ref := r.uvarint()
	if ref > 0 {
		if ref > uint64(len(r.strs)) {
			r.fail(errors.New("detect: a batch of observations refers to a string it does not hold"))
			return ""
		}
		return r.strs[ref-1]
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	r.strs = append(r.strs, s)
	return s
}
