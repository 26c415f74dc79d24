package policy

import (
	"math"
	"time"

	"github.com/skyfence/skyfence"
)

// Track is what a decision needs to remember about a terminal between
// fixes: its previous position and two older anchors (to derive speed),
// the day its current trip abroad began, and its stay in coastal waters.
// The zero value is a terminal never seen. A Track is small (48 bytes) so
// that a server can keep one per terminal of a large fleet in memory.
//
// Days are UTC calendar days of the fixes' own times, numbered from 1 for
// 1970-01-01 (0 stands for none; a uint16 lasts until 2149).
type Track struct {
	LastUnixNano int64   // time of the previous located fix; 0 if none
	LastLat      float64 //
	LastLon      float64 //
	AbroadDay    uint16  // day the current trip outside the registered country began; 0 if at home
	// CoastalDay is the last day on which a located fix was in coastal
	// waters (a territorial sea); 0 if none.
	CoastalDay uint16
	// CoastalRun is the length in days of the current stay in coastal
	// waters, from its first day to CoastalDay; 0 if the last located fix
	// was not in coastal waters.
	CoastalRun uint16
	// CoastalYearDays is the days in coastal waters in CoastalDay's
	// calendar year, up to CoastalDay.
	CoastalYearDays uint16
	// Near and Far are the speed anchors: earlier fixes kept for
	// nearAnchorSec and farAnchorSec (see derivedSpeed).
	Near, Far Anchor
}

// An Anchor is an earlier fix of a terminal, relative to its track's last
// fix: AgeSec is 1 + the whole seconds from the anchor to the last fix's
// second (0: no anchor), DLat and DLon its offset in units of
// anchorGridDeg from the last fix's position rounded to that grid.
// HeldCentiKmh is the speed in 0.01 km/h derived from the anchor before
// it, when that was replaced by this one.
type Anchor struct {
	AgeSec       uint16
	DLat, DLon   int16
	HeldCentiKmh uint16
}

// Observe records a fix and the decision made for it. Only located fixes
// count, whatever the decision: a fix that was denied is still a fix where
// the terminal was, so a terminal past a limit stays past it while it
// stays where the limit applies.
func (tr *Track) Observe(f skyfence.Fix, d *Decision, home string) {
	if !d.Located {
		return
	}
	day := dayNumber(f.Time)
	if d.Country == home {
		tr.AbroadDay = 0
	} else if tr.AbroadDay == 0 {
		tr.AbroadDay = dayOf16(day)
	}
	if !d.Land && d.Country != International {
		tr.CoastalRun, tr.CoastalYearDays = tr.coastalDaysInt(day)
		tr.CoastalDay = max(tr.CoastalDay, dayOf16(day))
	} else {
		tr.CoastalRun = 0
	}
	tr.observeMotion(&f)
}

// daysAbroad is the day of the current trip abroad that t falls on: 1 on
// the UTC day the trip began (or if it begins now), 2 the next, and so on.
func (tr *Track) daysAbroad(t time.Time) int {
	if tr == nil || tr.AbroadDay == 0 {
		return 1
	}
	return max(int(dayNumber(t)-int32(tr.AbroadDay)), 0) + 1
}

// coastalDays returns, for a fix in coastal waters at t, the length of the
// stay in coastal waters and the days in coastal waters in t's year, both
// counting t's day.
func (tr *Track) coastalDays(t time.Time) (run, year int) {
	r, y := tr.coastalDaysInt(dayNumber(t))
	return int(r), int(y)
}

// coastalDaysInt is coastalDays for a day number. A stay goes on until a
// located fix outside coastal waters: the days between two fixes of a stay
// count, even without fixes, for the stay and for the year. A fix older
// than CoastalDay counts no new day.
func (tr *Track) coastalDaysInt(day int32) (run, year uint16) {
	if tr == nil || tr.CoastalDay == 0 {
		return 1, 1
	}
	last := int32(tr.CoastalDay)
	day = max(day, last)
	jan1 := yearStart(day)
	year = tr.CoastalYearDays
	if last < jan1 {
		year = 0
	}
	switch {
	case tr.CoastalRun > 0: // the stay goes on
		run = satAdd(tr.CoastalRun, day-last)
		year = satAdd(year, day-max(last, jan1-1))
	case day == last: // back in coastal waters the same day
		run = 1
	default:
		run, year = 1, satAdd(year, 1)
	}
	return run, year
}

func satAdd(a uint16, b int32) uint16 {
	return uint16(min(int32(a)+b, math.MaxUint16))
}

// dayNumber is the UTC day of t, 1 for 1970-01-01.
func dayNumber(t time.Time) int32 {
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return int32(min(max(d+1, math.MinInt32), math.MaxInt32))
}

// dayOf16 is a day number as a Track keeps it (1970-01-01 until 2149).
func dayOf16(day int32) uint16 { return uint16(min(max(day, 1), math.MaxUint16)) }

// yearStart is the day number of 1 January of the year of day.
func yearStart(day int32) int32 {
	y := time.Unix(int64(day-1)*86400, 0).UTC().Year()
	return dayNumber(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
}

// Speed is derived, for fixes that do not report it, so that a receiver's
// position error cannot read as motion. Every position is taken to be
// within positionErrorM of where the terminal truly is, so the distance
// between two fixes of a terminal standing still is at most
// 2*positionErrorM. The speed derived is the highest of
//
//	(distance - 2*positionErrorM) / time
//
// from earlier fixes to this one, each counted only if at least
// minDeriveInterval older: the previous fix, the Near anchor and the Far
// anchor (for an anchor anchorSlackM more is taken off, for its rounding
// to the grid), and each anchor's held speed while the anchor is younger
// than its window. An anchor is a fix, kept until it is twice its window
// old; then the fix at hand replaces it, and the speed from the old anchor
// to that fix is held, so that some earlier fix at least a window old
// counts at every fix. After a gap in the fixes as long as an anchor's
// window, the anchor starts again from the fix at hand (the previous fix
// then spans that window). Hence (docs/POLICY.md):
//   - a terminal standing still whose fixes are within positionErrorM of it
//     reads 0 km/h, always;
//   - with positions within positionErrorM, the speed derived is never
//     above the terminal's true top speed over the last three windows;
//   - a terminal moving in a straight line at v reads at least
//     v - (4*positionErrorM+anchorSlackM)/farAnchorSec (v - 1.8 km/h) from
//     3*farAnchorSec plus two fix intervals after it started, and at least
//     v - (4*positionErrorM+anchorSlackM)/nearAnchorSec (v - 14.6 km/h)
//     from 3*nearAnchorSec plus two intervals after.
const (
	positionErrorM    = 45
	anchorSlackM      = 2
	nearAnchorSec     = 45
	farAnchorSec      = 360
	anchorGridDeg     = 1e-5
	minDeriveInterval = time.Second
	metresPerDeg      = 6371008.8 * math.Pi / 180
)

// derivedSpeed is the ground speed in km/h that the track's earlier fixes
// show beyond what position errors explain, or 0 if there is none (see
// positionErrorM).
func (tr *Track) derivedSpeed(f *skyfence.Fix) float64 {
	if tr == nil || tr.LastUnixNano == 0 {
		return 0
	}
	fNano := f.Time.UnixNano()
	v := 0.0
	if dt := time.Duration(fNano - tr.LastUnixNano); dt >= minDeriveInterval {
		m := HaversineKm(tr.LastLat, tr.LastLon, f.Lat, f.Lon)*1000 - 2*positionErrorM
		v = max(m, 0) / dt.Seconds() * 3.6
	}
	lastSec := floorSec(tr.LastUnixNano)
	gLat, gLon := grid(tr.LastLat), grid(tr.LastLon)
	sin, cos := math.Sincos(f.Lat * math.Pi / 180)
	for _, a := range [2]Anchor{tr.Near, tr.Far} {
		if a.AgeSec == 0 {
			continue
		}
		dt := float64(fNano-(lastSec-int64(a.AgeSec-1))*1e9) / 1e9
		if dt < minDeriveInterval.Seconds() {
			continue
		}
		m := localMetres(float64(gLat+int64(a.DLat))*anchorGridDeg-f.Lat, wrapDeg(float64(gLon+int64(a.DLon))*anchorGridDeg-f.Lon), sin, cos)
		v = max(v, (m-2*positionErrorM-anchorSlackM)/dt*3.6)
	}
	window := [2]float64{nearAnchorSec, farAnchorSec}
	for i, a := range [2]Anchor{tr.Near, tr.Far} {
		if a.AgeSec != 0 && float64(fNano-(lastSec-int64(a.AgeSec-1))*1e9)/1e9 < window[i] {
			v = max(v, float64(a.HeldCentiKmh)/100)
		}
	}
	return v
}

// observeMotion makes f the last fix and keeps the anchors (see
// derivedSpeed).
func (tr *Track) observeMotion(f *skyfence.Fix) {
	fNano := f.Time.UnixNano()
	if tr.LastUnixNano != 0 && fNano <= tr.LastUnixNano {
		return // not after the last fix: nothing to learn about motion
	}
	lastSec, fSec := floorSec(tr.LastUnixNano), floorSec(fNano)
	oLat, oLon := grid(tr.LastLat), grid(tr.LastLon) // old grid origin
	nLat, nLon := grid(f.Lat), grid(f.Lon)
	gap := fSec - lastSec
	keep := func(a *Anchor, window int64) {
		if a.AgeSec == 0 || tr.LastUnixNano == 0 || gap >= window {
			*a = Anchor{AgeSec: 1}
			return
		}
		age := fSec - (lastSec - int64(a.AgeSec-1)) // whole seconds from the anchor to f
		dLat, dLon := oLat+int64(a.DLat)-nLat, wrapGrid(oLon+int64(a.DLon)-nLon)
		if age >= 2*window {
			// The exact time from the anchor, as derivedSpeed takes it.
			dt := float64(fNano-(fSec-age)*1e9) / 1e9
			sin, cos := math.Sincos(f.Lat * math.Pi / 180)
			m := localMetres(float64(dLat)*anchorGridDeg, float64(dLon)*anchorGridDeg, sin, cos) - 2*positionErrorM - anchorSlackM
			held := math.Floor(max(m, 0) / dt * 3.6 * 100)
			*a = Anchor{AgeSec: 1, HeldCentiKmh: uint16(min(held, math.MaxUint16))}
			return
		}
		if age+1 > math.MaxUint16 || max(dLat, -dLat) > math.MaxInt16 || max(dLon, -dLon) > math.MaxInt16 {
			*a = Anchor{AgeSec: 1} // too far to keep: start again from f
			return
		}
		*a = Anchor{AgeSec: uint16(age + 1), DLat: int16(dLat), DLon: int16(dLon), HeldCentiKmh: a.HeldCentiKmh}
	}
	keep(&tr.Near, nearAnchorSec)
	keep(&tr.Far, farAnchorSec)
	tr.LastUnixNano, tr.LastLat, tr.LastLon = fNano, f.Lat, f.Lon
}

// localMetres is the length of an offset (dLat, dLon) in degrees from a
// position whose latitude has that sine and cosine: plane geometry at the
// cosine of the mean latitude (to first order in dLat), within 0.01 % of
// the great-circle distance for the anchors' offsets (up to 36 km) away
// from the poles.
func localMetres(dLat, dLon, sin, cos float64) float64 {
	midCos := cos - sin*dLat*math.Pi/360
	x := dLon * midCos
	return math.Sqrt(dLat*dLat+x*x) * metresPerDeg
}

func floorSec(nano int64) int64 {
	s := nano / 1e9
	if nano < 0 && nano%1e9 != 0 {
		s--
	}
	return s
}

// grid is deg rounded to anchorGridDeg, in those units.
func grid(deg float64) int64 { return int64(math.Round(deg / anchorGridDeg)) }

// wrapGrid brings a longitude difference in grid units into (-180, 180]
// degrees.
func wrapGrid(d int64) int64 {
	const turn = int64(360 / anchorGridDeg)
	d %= turn
	switch {
	case d > turn/2:
		d -= turn
	case d <= -turn/2:
		d += turn
	}
	return d
}

// wrapDeg brings a longitude difference into (-180, 180].
func wrapDeg(d float64) float64 {
	switch {
	case d > 180:
		return d - 360
	case d <= -180:
		return d + 360
	}
	return d
}

// HaversineKm is the great-circle distance between two positions in km.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
