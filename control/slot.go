package control

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// slot is the in-memory state of one terminal: its registry record (an
// immutable copy, replaced whole on change), the decision engine's track,
// and its last decision.
type slot struct {
	id   string
	term atomic.Pointer[skyfence.Terminal]

	mu       sync.Mutex // orders the fixes of the terminal
	track    policy.Track
	lastFix  skyfence.Fix
	decision policy.Decision
	decided  time.Time
	dirty    bool
	// saved is the fix of the state last written to the store.
	saved skyfence.Fix
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
	return sl.saved.Time.IsZero() || f.Time.Sub(sl.saved.Time) >= saveAge ||
		policy.HaversineKm(sl.saved.Lat, sl.saved.Lon, f.Lat, f.Lon) > saveMoveKm
}

// snapshotState returns the slot's last state for the store; mu held.
func (sl *slot) snapshotState() *skyfence.TerminalState {
	sl.saved = sl.lastFix
	d := &sl.decision
	return &skyfence.TerminalState{
		TerminalID: sl.id,
		Fix:        sl.lastFix,
		Allow:      d.Allow,
		Reason:     d.Reason.String(),
		Rule:       d.Rule,
		Country:    d.Country,
		Policy:     d.PolicyVersion,
		DecidedAt:  sl.decided,
		Track:      encodeTrack(&sl.track),
	}
}

// restore loads a stored state into the slot.
func (sl *slot) restore(st *skyfence.TerminalState) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.lastFix, sl.saved = st.Fix, st.Fix
	sl.decided = st.DecidedAt
	r, _ := policy.ParseReason(st.Reason)
	sl.decision = policy.Decision{Allow: st.Allow, Reason: r, Rule: st.Rule, Country: st.Country, PolicyVersion: st.Policy}
	decodeTrack(st.Track, &sl.track)
}

// trackSize is the length of an encoded policy.Track.
const trackSize = 8*5 + 4 + 2*3

func encodeTrack(t *policy.Track) []byte {
	b := make([]byte, 0, trackSize)
	b = binary.BigEndian.AppendUint64(b, uint64(t.LastUnixNano))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(t.LastLat))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(t.LastLon))
	b = binary.BigEndian.AppendUint64(b, uint64(t.AbroadSinceSec))
	b = binary.BigEndian.AppendUint64(b, 0) // reserved
	b = binary.BigEndian.AppendUint32(b, uint32(t.CoastalDay))
	b = binary.BigEndian.AppendUint16(b, uint16(t.CoastalRun))
	b = binary.BigEndian.AppendUint16(b, uint16(t.CoastalYear))
	b = binary.BigEndian.AppendUint16(b, uint16(t.CoastalYearDay))
	return b
}

// decodeTrack fills t from b; a malformed b leaves t as a new track.
func decodeTrack(b []byte, t *policy.Track) {
	if len(b) != trackSize {
		*t = policy.Track{}
		return
	}
	t.LastUnixNano = int64(binary.BigEndian.Uint64(b[0:]))
	t.LastLat = math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
	t.LastLon = math.Float64frombits(binary.BigEndian.Uint64(b[16:]))
	t.AbroadSinceSec = int64(binary.BigEndian.Uint64(b[24:]))
	t.CoastalDay = int32(binary.BigEndian.Uint32(b[40:]))
	t.CoastalRun = int16(binary.BigEndian.Uint16(b[44:]))
	t.CoastalYear = int16(binary.BigEndian.Uint16(b[46:]))
	t.CoastalYearDay = int16(binary.BigEndian.Uint16(b[48:]))
}
