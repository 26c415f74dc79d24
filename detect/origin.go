package detect

import (
	"math"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// origin runs the detectors of where a terminal is, for a located fix:
// origin_denied, origin_presence and cluster. A terminal passing through
// counts for origin_presence only.
func (e *Engine) origin(si int32, o *Observation, at int64, tr *trigger) {
	st := &e.states[si]
	t, d := o.Terminal, &o.Decision
	denied := e.lim.deniedReasons&(1<<d.Reason) != 0
	if !denied && !e.restrictedPlace(d) {
		st.presSince = 0
		return
	}
	passing := e.passing(st, d, at)
	if denied && !passing {
		e.deniedAttempt(si, d, at, tr)
	}
	verified := verifiedFor(t, d.Country, o.Fix.Time)
	if d.Country != t.Country && !verified {
		e.presence(si, at, tr)
	} else {
		st.presSince = 0
	}
	if !verified && !passing {
		e.cluster(si, o, at, tr)
	}
}

// passing reports whether the terminal is passing through rather than
// staying: the decision's speed (the reported one, or derived) is at
// least Origin.TransitKmh, and the track bears it out, with a move (100 m
// or more), or the terminal's first fix, within the time it takes to cover
// 200 m at that speed (72 s at 10 km/h). A ship sailing through waters
// where service is off, or a car crossing a strip of a country on its way,
// is passing; a terminal that claims a speed but does not move is not,
// once that time is up.
func (e *Engine) passing(st *termState, d *policy.Decision, at int64) bool {
	v := e.lim.transitKmh
	return v > 0 && d.SpeedKmh >= v && float64(at/1e9-int64(st.moved)) <= 2*minMoveKm/v*3600
}

// restrictedPlace reports whether the decision's country or one of its
// zones is among Origin.RestrictedRegions.
func (e *Engine) restrictedPlace(d *policy.Decision) bool {
	if len(e.lim.restrictedCountries) > 0 && e.lim.restrictedCountries[d.Country] {
		return true
	}
	if len(e.lim.restrictedZones) > 0 {
		for _, z := range d.Zones {
			if e.lim.restrictedZones[z] {
				return true
			}
		}
	}
	return false
}

// verifiedFor reports whether t holds a verification for region valid at
// at, by any authority.
func verifiedFor(t *skyfence.Terminal, region string, at time.Time) bool {
	for i := range t.Verifications {
		if v := &t.Verifications[i]; v.Region == region && v.ValidAt(at) {
			return true
		}
	}
	return false
}

// deniedAttempt records a denied attempt and fires origin_denied if
// DeniedAttempts fell within DeniedWindow.
func (e *Engine) deniedAttempt(si int32, d *policy.Decision, at int64, tr *trigger) {
	st := &e.states[si]
	sec := uint32(at / 1e9)
	st.dhead = (st.dhead + 1) % deniedRing
	st.dn = min(st.dn+1, deniedRing)
	st.denied[st.dhead] = sec
	n := 0
	for k := 0; k < int(st.dn); k++ {
		if int64(sec)-int64(st.denied[(int(st.dhead)-k+deniedRing)%deniedRing]) > e.lim.deniedWindow {
			break
		}
		n++
	}
	if n < e.lim.deniedAttempts {
		return
	}
	score := 0.4
	if d.Reason == policy.RegionEmbargoed || d.Reason == policy.NoServiceZone {
		score = 0.6
	}
	if d.Country != st.home {
		score += 0.2
	}
	if n >= min(2*e.lim.deniedAttempts, deniedRing) {
		score += 0.2
	}
	e.fire(si, finding{det: OriginDenied, score: score, value: float64(n), limit: float64(e.lim.deniedAttempts)}, at, tr)
}

// presence follows a terminal's stay in restricted regions away from its
// registered country and fires origin_presence once it lasts PresenceMin.
func (e *Engine) presence(si int32, at int64, tr *trigger) {
	st := &e.states[si]
	if st.presSince == 0 || at-st.presLast > e.lim.presGap {
		st.presSince = at
	}
	st.presLast = at
	stay := at - st.presSince
	if stay < e.lim.presenceMin {
		return
	}
	over := float64(stay-e.lim.presenceMin) / float64(e.lim.presenceMin)
	h := float64(time.Hour)
	e.fire(si, finding{det: OriginPresence, score: 0.6 + 0.4*min(1, over), value: float64(stay) / h, limit: float64(e.lim.presenceMin) / h}, at, tr)
}

// cluster counts the distinct unverified terminals in the fix's grid cell
// of a restricted region and fires cluster when MinTerminals are there
// within Window.
func (e *Engine) cluster(si int32, o *Observation, at int64, tr *trigger) {
	st := &e.states[si]
	deg := e.lim.clusterDeg
	row, col := math.Floor((o.Fix.Lat+90)/deg), math.Floor((o.Fix.Lon+180)/deg)
	key := uint64(row)<<32 | uint64(col)
	g := e.cells.get(key, at)
	if g == nil {
		g = e.cells.add(key, at, row*deg-90, col*deg-180)
	}
	n := g.join(st.hash, st.id, at, e.lim.clusterWindow)
	if n < e.lim.clusterMin {
		return
	}
	lim := float64(e.lim.clusterMin)
	fd := finding{det: Cluster, score: float64(n) / (2 * lim), value: float64(n), limit: lim, group: g}
	e.fire(si, fd, at, tr)
	e.fireOthers(g, si, fd, at, e.lim.clusterWindow)
}
