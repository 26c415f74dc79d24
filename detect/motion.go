package detect

import (
	"math"
	"slices"

	"github.com/skyfence/skyfence/policy"
)

// minMoveKm is the least distance between two samples of a terminal's
// track: a fix closer than that to the newest sample is jitter (or a
// terminal standing still) and only updates when it was last seen there.
// 100 m is three times the usual GPS error, so that jitter never makes a
// move, and long enough that the heading of a move is known to within
// about 35 degrees.
const minMoveKm = 0.1

// record adds the observation's fix to the terminal's track and reports
// whether it made a new move.
func (e *Engine) record(st *termState, o *Observation, at int64) bool {
	f, d := &o.Fix, &o.Decision
	var flags uint8
	if d.Allow {
		flags |= flagAllow
	}
	if d.Land {
		flags |= flagLand
	}
	country := e.countries.id(d.Country)
	speed, heading := float32(-1), float32(math.NaN())
	if st.n > 0 {
		p := st.at(0)
		dist := policy.HaversineKm(p.lat, p.lon, f.Lat, f.Lon)
		if dist < minMoveKm {
			p.t, p.alt, p.country, p.reason, p.flags = at, float32(f.AltM), country, d.Reason, flags
			st.loiter.km = 0 // it stopped
			// Still, unless it is rising as it goes: a drone taking off
			// is still for a fix or so while it climbs.
			if st.restAt == 0 || f.AltM-float64(st.restAlt) < e.lim.takeoffM || at-st.restAt > e.lim.takeoffWindow {
				st.rest, st.restAlt, st.restAt, st.climbed = pt32{float32(f.Lat), float32(f.Lon)}, float32(f.AltM), at, false
			} else {
				e.climb(st, f.Lat, f.Lon, f.AltM, at)
			}
			return false
		}
		speed = float32(dist / (float64(at-p.t) / 3.6e12))
		heading = float32(bearing(p.lat, p.lon, f.Lat, f.Lon))
	}
	if st.restAt != 0 && at-st.restAt <= e.lim.takeoffWindow {
		e.climb(st, f.Lat, f.Lon, f.AltM, at)
	}
	st.moved = uint32(at / 1e9)
	st.head = (st.head + 1) % ringSize
	st.n = min(st.n+1, ringSize)
	*st.at(0) = sample{
		t: at, lat: f.Lat, lon: f.Lon, alt: float32(f.AltM), speed: speed, heading: heading,
		country: country, reason: d.Reason, flags: flags,
	}
	return true
}

// motion runs the detectors of a terminal's moves after a new one:
// impossible_travel, position_jump and drone_motion.
func (e *Engine) motion(si int32, at int64, tr *trigger) {
	st := &e.states[si]
	if st.n < 2 {
		return
	}
	c, p := st.at(0), st.at(1)
	dt := float64(c.t-p.t) / 3.6e12 // hours
	dist := float64(c.speed) * dt
	// The speed of the move, taken to last at least MinGap.
	v := dist / max(dt, e.lim.minGapH)
	if dist >= e.lim.minDistKm && v > st.planMax {
		e.fire(si, finding{det: ImpossibleTravel, score: v / (2 * st.planMax), value: v, limit: st.planMax}, at, tr)
	}
	if st.n >= 3 && dist >= e.lim.jumpKm && v > st.planMax {
		e.jump(si, at, tr)
	}
	if !st.droneExempt {
		e.takeoff(si, at, tr)
		e.loiter(si, dist, at, tr)
		if int(st.n) >= e.lim.droneWindow {
			e.drone(si, at, tr)
		}
	}
}

// loiter is a run of fast, low moves: where and when it began, how far it
// went and how far from its start it strayed. km == 0: no run.
type loiter struct {
	lat, lon float32
	km, far  float32
	since    int64 // unix ns
}

// loiter follows the terminal's run of drone-like moves, given the newest
// (dist km long), and fires drone_motion when a long run stayed close to
// where it began: a drone circling at speed, which no road vehicle does.
func (e *Engine) loiter(si int32, dist float64, at int64, tr *trigger) {
	st := &e.states[si]
	c, p := st.at(0), st.at(1)
	l := &st.loiter
	if float64(c.speed) < e.lim.droneMin/2 || c.alt >= e.lim.droneAlt || p.alt >= e.lim.droneAlt || c.t-p.t > e.lim.droneMaxGap {
		l.km = 0
		return
	}
	if l.km == 0 {
		*l = loiter{lat: float32(p.lat), lon: float32(p.lon), since: p.t}
	}
	from := policy.HaversineKm(float64(l.lat), float64(l.lon), c.lat, c.lon)
	if from > e.lim.loiterMaxKm {
		l.km = 0 // going somewhere: a loiter may begin here
		return
	}
	l.km += float32(dist)
	l.far = max(l.far, float32(from))
	km, far := float64(l.km), max(float64(l.far), minMoveKm)
	avg := km / (float64(at-l.since) / 3.6e12)
	if km < e.lim.loiterKm || km < e.lim.loiterRatio*far || avg < e.lim.droneMin || avg > e.lim.droneMax {
		return
	}
	ratio := km / far
	score := 0.6 + 0.4*min(1, (ratio-e.lim.loiterRatio)/(2*e.lim.loiterRatio))
	e.fire(si, finding{det: DroneMotion, score: score, value: ratio, limit: e.lim.loiterRatio, format: loiterSummary}, at, tr)
}

const loiterSummary = "loitered at drone speed, low: %.1f km flown per km strayed from its start (limit %.1f)"

// climb notes the first fix since the terminal was last still that is
// TakeoffM or more above it, and whether it got there steeply or fast
// enough for a take-off.
func (e *Engine) climb(st *termState, lat, lon, alt float64, at int64) {
	gain := alt - float64(st.restAlt)
	if st.climbed || gain < e.lim.takeoffM {
		return
	}
	st.climbed = true
	km := policy.HaversineKm(float64(st.rest.lat), float64(st.rest.lon), lat, lon)
	secs := float64(at-st.restAt) / 1e9
	// Faster than a drone flies from where it was still is no take-off:
	// a receiver back on its true track after interference (spoofed
	// positions carry a spoofed altitude).
	st.steep = km/secs*3600 <= e.lim.droneMax && (gain >= e.lim.takeoffGrade*km*1000 || gain/secs >= e.lim.takeoffRate)
	st.climbGain = float32(gain)
}

// takeoff fires drone_motion for a terminal that was still a moment ago,
// climbed more steeply or faster than a road vehicle can, and now moves
// fast and low: a drone taking off, on the spot or flying.
func (e *Engine) takeoff(si int32, at int64, tr *trigger) {
	st := &e.states[si]
	c := st.at(0)
	if v := float64(c.speed); !st.climbed || !st.steep || at-st.restAt > e.lim.takeoffWindow || v < e.lim.droneMin/2 || v > e.lim.droneMax || c.alt >= e.lim.droneAlt {
		return
	}
	gain := float64(st.climbGain)
	e.fire(si, finding{det: DroneMotion, score: 0.6 + 0.4*min(1, (gain-e.lim.takeoffM)/(4*e.lim.takeoffM)), value: gain, limit: e.lim.takeoffM, format: takeoffSummary}, at, tr)
}

const takeoffSummary = "took off: %.0f m above where it was still, climbing faster than a road vehicle (limit %.0f m)"

// jump fires position_jump if the terminal's last move came back from a
// point it could not have reached: q -> p -> c with p far from both, c near
// q, both legs faster than the plan's ceiling and all within JumpWindow.
// The move p -> c is known to be long and too fast.
func (e *Engine) jump(si int32, at int64, tr *trigger) {
	st := &e.states[si]
	c, p, q := st.at(0), st.at(1), st.at(2)
	if c.t-q.t > e.lim.jumpWindow {
		return
	}
	out := policy.HaversineKm(q.lat, q.lon, p.lat, p.lon)
	// The outbound leg's speed, its time floored at MinGap as for travel.
	v := out / max(out/float64(p.speed), e.lim.minGapH)
	if out < e.lim.jumpKm || v <= st.planMax || policy.HaversineKm(q.lat, q.lon, c.lat, c.lon) > e.lim.returnKm {
		return
	}
	e.fire(si, finding{det: PositionJump, score: 0.6 + 0.4*min(1, out/(10*e.lim.jumpKm)), value: out, limit: e.lim.jumpKm}, at, tr)
}

// drone fires drone_motion if the last Window samples follow each other
// closely, stay low, move at drone speed (their median) and turn sharply
// at least MinSharpTurns times.
func (e *Engine) drone(si int32, at int64, tr *trigger) {
	st := &e.states[si]
	w := e.lim.droneWindow
	var speeds [ringSize]float64
	for k := 0; k < w; k++ {
		s := st.at(k)
		if s.alt >= e.lim.droneAlt {
			return
		}
		if k < w-1 {
			if s.t-st.at(k+1).t > e.lim.droneMaxGap {
				return
			}
			speeds[k] = float64(s.speed)
		}
	}
	med := median(speeds[:w-1])
	if med < e.lim.droneMin || med > e.lim.droneMax {
		return
	}
	turns, reversal := 0, false
	for k := 0; k+2 < w; k++ {
		a, b := st.at(k+1), st.at(k) // two moves in a row: into a, then into b
		if float64(a.speed) < e.lim.droneMin/2 || float64(b.speed) < e.lim.droneMin/2 {
			continue
		}
		turn := turnDeg(float64(a.heading), float64(b.heading))
		// From the middle of the first move to the middle of the second.
		secs := float64(b.t-st.at(k+2).t) / 2e9
		if turn >= e.lim.turnDeg && turn/secs >= e.lim.turnRate {
			turns++
			reversal = reversal || turn >= 150
		}
	}
	if turns < e.lim.minSharpTurns {
		return
	}
	score := 0.6 + 0.1*float64(turns-e.lim.minSharpTurns)
	if reversal {
		score += 0.1
	}
	e.fire(si, finding{det: DroneMotion, score: score, value: float64(turns), limit: float64(e.lim.minSharpTurns)}, at, tr)
}

// median of a few values; it reorders them.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// bearing is the initial great-circle heading from one position to
// another, in degrees clockwise from north, in [0, 360).
func bearing(lat1, lon1, lat2, lon2 float64) float64 {
	const r = math.Pi / 180
	p1, p2, dl := lat1*r, lat2*r, (lon2-lon1)*r
	y := math.Sin(dl) * math.Cos(p2)
	x := math.Cos(p1)*math.Sin(p2) - math.Sin(p1)*math.Cos(p2)*math.Cos(dl)
	return math.Mod(math.Atan2(y, x)/r+360, 360)
}

// turnDeg is the change of heading from h1 to h2, in [0, 180].
func turnDeg(h1, h2 float64) float64 {
	d := math.Abs(h2 - h1)
	if d > 180 {
		d = 360 - d
	}
	return d
}
