package authorizer

import (
	"encoding/binary"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// slot is the in-memory state of one terminal: its registry record (what
// decisions, detection and previews read of it), the decision engine's
// track, its last fix and decision, and where the state last written to
// the store was. It holds no pointer (strings are interned ids, see
// slots.go) and takes 152 bytes. id and idLen are set when the slot is
// made and never change; everything else is read and written with mu held,
// which also orders the fixes of the terminal.
type slot struct {
	mu    sync.Mutex
	id    uint32 // arena reference of the terminal id
	idLen uint8
	dirty bool // queued for the next flush
	allow bool // of the last decision

	reason policy.Reason // of the last decision

	// The registry record: interned account and capacity cell, the
	// shared profile (plan, country, status, groups; 0 until a record is
	// published) and the first of the terminal's verifications in the
	// store's table (0 if none). Its times and its verifications' ids are
	// only in the store.
	account, cell, profile, verifs uint32

	track policy.Track

	// The last applied fix: time (Unix nanoseconds, noTime if none),
	// position, altitude and speed, serving cell (interned).
	at         int64
	lat, lon   float64
	alt, speed float32
	fixCell    uint32

	// Its decision: rule, country and policy version interned, and when
	// it was made (Unix nanoseconds, noTime if none).
	rule, place, version uint32

	// The state last written to the store: its time in Unix seconds (0
	// if none) and position. Only compared against a 1 km threshold.
	savedSec           uint32
	decided            int64
	savedLat, savedLon float32
}

// noTime stands for the zero time.Time in a slot's times.
const noTime = math.MinInt64

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

func timeOf(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// profile is the part of a registry record that many terminals share.
type profile struct {
	plan, country string
	groups        []string
	status        skyfence.TerminalStatus
}

// profileKey is a profile as a map key: groups joined by "\x00".
type profileKey struct {
	plan, country, groups string
	status                skyfence.TerminalStatus
}

func (st *slotStore) profileID(t *skyfence.Terminal) uint32 {
	k := profileKey{plan: t.Plan, country: t.Country, groups: strings.Join(t.Groups, "\x00"), status: t.Status}
	st.rmu.Lock()
	defer st.rmu.Unlock()
	if id, ok := st.profIDs[k]; ok {
		return id
	}
	if st.profIDs == nil {
		st.profIDs = make(map[profileKey]uint32)
	}
	id := uint32(len(st.profIDs) + 1)
	st.profiles.grow(id)
	*st.profiles.at(id) = profile{plan: k.plan, country: k.country, groups: append([]string(nil), t.Groups...), status: t.Status}
	st.profIDs[k] = id
	return id
}

// verif is one verification of a terminal, in the store's table: those
// of a terminal follow one another, each but the last with more set.
type verif struct {
	region, authority uint32 // interned
	class             skyfence.VerificationClass
	revoked, more     bool
	verifiedAt        int64 // Unix nanoseconds, noTime if zero
	expiresAt         int64
	revokedAt         int64
}

// setRecord makes t the slot's registry record; sl.mu held.
func (st *slotStore) setRecord(sl *slot, t *skyfence.Terminal) {
	sl.account, sl.cell, sl.profile = st.strs.id(t.AccountID), st.strs.id(t.Cell), st.profileID(t)
	n := uint32(len(t.Verifications))
	if n == 0 {
		sl.verifs = 0
		return
	}
	// The new list goes where the old one was if it fits; else at the
	// end of the table (the old entries stay unused: verifications
	// change seldom).
	if sl.verifs == 0 || st.verifsLen(sl.verifs) < n {
		st.rmu.Lock()
		sl.verifs = st.nver + 1
		st.nver += n
		for i := sl.verifs; i <= st.nver; i++ {
			st.vers.grow(i)
		}
		st.rmu.Unlock()
	}
	for i := range t.Verifications {
		v := &t.Verifications[i]
		*st.vers.at(sl.verifs + uint32(i)) = verif{
			region: st.strs.id(v.Region), authority: st.strs.id(v.Authority), class: v.Class,
			revoked: v.Revoked, more: uint32(i) < n-1,
			verifiedAt: nanos(v.VerifiedAt), expiresAt: nanos(v.ExpiresAt), revokedAt: nanos(v.RevokedAt),
		}
	}
}

// verifsLen returns the length of the list of verifications from i.
func (st *slotStore) verifsLen(i uint32) uint32 {
	n := uint32(1)
	for ; st.vers.at(i).more; i++ {
		n++
	}
	return n
}

// record fills t with the slot's registry record (without its times, nor
// its verifications' ids); sl.mu held and sl.profile set. Its
// verifications go into buf if they fit, else into a new slice. t's
// strings and groups are shared: do not modify them.
func (st *slotStore) record(sl *slot, t *skyfence.Terminal, buf []skyfence.Verification) {
	p := st.profiles.at(sl.profile)
	*t = skyfence.Terminal{
		ID: st.ids.str(sl.id, sl.idLen), AccountID: st.strs.str(sl.account),
		Plan: p.plan, Country: p.country, Status: p.status, Groups: p.groups,
		Cell: st.strs.str(sl.cell),
	}
	if sl.verifs == 0 {
		return
	}
	n := st.verifsLen(sl.verifs)
	if uint32(len(buf)) < n {
		buf = make([]skyfence.Verification, n)
	}
	for i := range n {
		v := st.vers.at(sl.verifs + i)
		buf[i] = skyfence.Verification{
			TerminalID: t.ID, Region: st.strs.str(v.region), Authority: st.strs.str(v.authority), Class: v.class,
			VerifiedAt: timeOf(v.verifiedAt), ExpiresAt: timeOf(v.expiresAt), Revoked: v.revoked, RevokedAt: timeOf(v.revokedAt),
		}
	}
	t.Verifications = buf[:n]
}

// setLast records f, decided d at now, as the slot's last fix; sl.mu
// held. Strings are interned only when they differ from the previous
// decision's.
func (st *slotStore) setLast(sl *slot, f *skyfence.Fix, d *policy.Decision, now time.Time) {
	sl.at, sl.lat, sl.lon = f.Time.UnixNano(), f.Lat, f.Lon
	sl.alt, sl.speed = float32(f.AltM), float32(f.SpeedKmh)
	if st.strs.str(sl.fixCell) != f.ServingCell {
		// Cells come from gateways: a flood of distinct ones must not
		// grow the interned strings for ever. Past the bound a new cell
		// is not kept in the last state (detection saw it with the fix).
		var ok bool
		if sl.fixCell, ok = st.strs.idIfRoom(f.ServingCell, maxInterned); !ok {
			st.cellsNotKept.Add(1)
		}
	}
	sl.allow, sl.reason = d.Allow, d.Reason
	if st.strs.str(sl.rule) != d.Rule {
		sl.rule = st.strs.id(d.Rule)
	}
	if st.strs.str(sl.place) != d.Country {
		sl.place = st.strs.id(d.Country)
	}
	if st.strs.str(sl.version) != d.PolicyVersion {
		sl.version = st.strs.id(d.PolicyVersion)
	}
	sl.decided = now.UnixNano()
}

// lastFix returns the slot's last fix; sl.mu held.
func (st *slotStore) lastFix(sl *slot) skyfence.Fix {
	return skyfence.Fix{
		TerminalID: st.ids.str(sl.id, sl.idLen), Time: timeOf(sl.at), Lat: sl.lat, Lon: sl.lon,
		AltM: float64(sl.alt), SpeedKmh: float64(sl.speed), ServingCell: st.strs.str(sl.fixCell),
	}
}

// decision returns the slot's last decision as the store keeps it: Allow,
// Reason, Rule, Country and PolicyVersion; sl.mu held.
func (st *slotStore) decision(sl *slot) policy.Decision {
	return policy.Decision{Allow: sl.allow, Reason: sl.reason, Rule: st.strs.str(sl.rule),
		Country: st.strs.str(sl.place), PolicyVersion: st.strs.str(sl.version)}
}

// Thresholds below which a new fix is not worth writing to the store on its
// own: the state is written when the decision changes, when the terminal
// has moved farther than saveMoveKm from the position last written, or when
// that position is older than saveAge.
const (
	saveMoveKm = 1.0
	saveAge    = 10 * time.Minute
)

// worthSaving reports whether fix f moves the terminal's stored state far
// or long enough to be written; mu held.
func (sl *slot) worthSaving(f *skyfence.Fix) bool {
	if sl.savedSec == 0 || f.Time.Unix()-int64(sl.savedSec) >= int64(saveAge/time.Second) {
		return true
	}
	// Most moves are far from the threshold, and told without
	// trigonometry: a move is at least as long as its change of latitude,
	// and one of under 0.7 km along both axes is under 1 km.
	const kmPerDegree = 6371.0088 * math.Pi / 180 // HaversineKm's radius
	dlat, dlon := math.Abs(f.Lat-float64(sl.savedLat)), math.Abs(f.Lon-float64(sl.savedLon))
	switch {
	case dlat > saveMoveKm/kmPerDegree:
		return true
	case dlat < 0.7*saveMoveKm/kmPerDegree && dlon < 0.7*saveMoveKm/kmPerDegree:
		return false
	}
	return policy.HaversineKm(float64(sl.savedLat), float64(sl.savedLon), f.Lat, f.Lon) > saveMoveKm
}

// markSaved records the last fix as the state written; mu held.
func (sl *slot) markSaved() {
	sl.savedSec, sl.savedLat, sl.savedLon = 0, float32(sl.lat), float32(sl.lon)
	if sl.at != noTime && sl.at > 0 {
		sl.savedSec = uint32(sl.at / 1e9)
	}
}

// state fills out with the slot's last state for the store, its track
// encoded into track (trackSize bytes); sl.mu held.
func (st *slotStore) state(sl *slot, out *skyfence.TerminalState, track []byte) {
	d := st.decision(sl)
	*out = skyfence.TerminalState{
		TerminalID: st.ids.str(sl.id, sl.idLen),
		Fix:        st.lastFix(sl),
		Allow:      d.Allow,
		Reason:     d.Reason.String(),
		Rule:       d.Rule,
		Country:    d.Country,
		Policy:     d.PolicyVersion,
		DecidedAt:  timeOf(sl.decided),
		Track:      encodeTrack(track[:0], &sl.track),
	}
}

// restore loads a stored state into the slot.
func (st *slotStore) restore(sl *slot, ts *skyfence.TerminalState) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	reason, _ := policy.ParseReason(ts.Reason)
	d := policy.Decision{Allow: ts.Allow, Reason: reason, Rule: ts.Rule, Country: ts.Country, PolicyVersion: ts.Policy}
	st.setLast(sl, &ts.Fix, &d, ts.DecidedAt)
	sl.at, sl.decided = nanos(ts.Fix.Time), nanos(ts.DecidedAt)
	sl.markSaved()
	decodeTrack(ts.Track, &sl.track)
}

// trackSize is the length of an encoded policy.Track; oldTrackSize that
// of the layout before days were numbered from 1 and speed had anchors.
const (
	trackSize    = 8*3 + 2*4 + 8*2
	oldTrackSize = 8*5 + 4 + 2*3
)

// encodeTrack appends t's encoding to b.
func encodeTrack(b []byte, t *policy.Track) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.LastUnixNano))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(t.LastLat))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(t.LastLon))
	b = binary.BigEndian.AppendUint16(b, t.AbroadDay)
	b = binary.BigEndian.AppendUint16(b, t.CoastalDay)
	b = binary.BigEndian.AppendUint16(b, t.CoastalRun)
	b = binary.BigEndian.AppendUint16(b, t.CoastalYearDays)
	for _, a := range [2]policy.Anchor{t.Near, t.Far} {
		b = binary.BigEndian.AppendUint16(b, a.AgeSec)
		b = binary.BigEndian.AppendUint16(b, uint16(a.DLat))
		b = binary.BigEndian.AppendUint16(b, uint16(a.DLon))
		b = binary.BigEndian.AppendUint16(b, a.HeldCentiKmh)
	}
	return b
}

// decodeTrack fills t from b; a malformed b leaves t as a new track.
func decodeTrack(b []byte, t *policy.Track) {
	*t = policy.Track{}
	switch len(b) {
	case trackSize:
	case oldTrackSize:
		decodeOldTrack(b, t)
		return
	default:
		return
	}
	t.LastUnixNano = int64(binary.BigEndian.Uint64(b[0:]))
	t.LastLat = math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
	t.LastLon = math.Float64frombits(binary.BigEndian.Uint64(b[16:]))
	t.AbroadDay = binary.BigEndian.Uint16(b[24:])
	t.CoastalDay = binary.BigEndian.Uint16(b[26:])
	t.CoastalRun = binary.BigEndian.Uint16(b[28:])
	t.CoastalYearDays = binary.BigEndian.Uint16(b[30:])
	for i, a := range [2]*policy.Anchor{&t.Near, &t.Far} {
		o := 32 + 8*i
		a.AgeSec = binary.BigEndian.Uint16(b[o:])
		a.DLat = int16(binary.BigEndian.Uint16(b[o+2:]))
		a.DLon = int16(binary.BigEndian.Uint16(b[o+4:]))
		a.HeldCentiKmh = binary.BigEndian.Uint16(b[o+6:])
	}
}

// decodeOldTrack reads the older layout: the trip abroad's start in Unix
// seconds, coastal days numbered from 0 and counted only when allowed. Its
// run of coastal days is kept only if the last located fix was on the
// last coastal day: later, the terminal may have left (or been denied
// there, which that layout did not count), and the stay is taken to have
// ended. Days are numbered as policy.Track numbers them (1 for 1970-01-01).
func decodeOldTrack(b []byte, t *policy.Track) {
	day := func(sec int64) uint16 { return uint16(min(sec/86400+1, math.MaxUint16)) }
	t.LastUnixNano = int64(binary.BigEndian.Uint64(b[0:]))
	t.LastLat = math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
	t.LastLon = math.Float64frombits(binary.BigEndian.Uint64(b[16:]))
	if since := int64(binary.BigEndian.Uint64(b[24:])); since > 0 {
		t.AbroadDay = day(since)
	}
	if yearDays := binary.BigEndian.Uint16(b[48:]); yearDays > 0 {
		t.CoastalDay = day(int64(binary.BigEndian.Uint32(b[40:])) * 86400)
		t.CoastalYearDays = yearDays
		if t.LastUnixNano > 0 && day(t.LastUnixNano/1e9) == t.CoastalDay {
			t.CoastalRun = binary.BigEndian.Uint16(b[44:])
		}
	}
}
