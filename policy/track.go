package policy

import (
	"math"
	"time"

	"github.com/skyfence/skyfence"
)

// Track is what a decision needs to remember about a terminal between
// fixes: its previous position (to derive speed), when its current trip
// abroad began, and its days of use in coastal waters. The zero value is a
// terminal never seen. A Track is small (48 bytes) so that a server can keep
// one per terminal of a large fleet in memory.
type Track struct {
	LastUnixNano   int64   // time of the previous fix; 0 if none
	LastLat        float64 //
	LastLon        float64 //
	AbroadSinceSec int64   // start of the current trip outside the registered country; 0 if at home
	CoastalDay     int32   // last day (days since 1970-01-01 UTC) of use in coastal waters; 0 if none
	CoastalRun     int16   // consecutive days of coastal use ending on CoastalDay
	CoastalYear    int16   // calendar year of CoastalYearDays
	CoastalYearDay int16   // days of coastal use in CoastalYear
}

// Observe records a fix and the decision made for it. Movement is recorded
// for every located fix; days of coastal use only when service was allowed.
func (tr *Track) Observe(f skyfence.Fix, d *Decision, home string) {
	if !d.Located {
		return
	}
	tr.LastUnixNano, tr.LastLat, tr.LastLon = f.Time.UnixNano(), f.Lat, f.Lon
	if d.Country == home {
		tr.AbroadSinceSec = 0
	} else if tr.AbroadSinceSec == 0 {
		tr.AbroadSinceSec = f.Time.Unix()
	}
	if d.Allow && !d.Land && d.Country != International {
		tr.CoastalRun, tr.CoastalYearDay = tr.coastalDaysInt(f.Time)
		tr.CoastalDay = dayOf(f.Time)
		tr.CoastalYear = int16(f.Time.UTC().Year())
	}
}

// Speed derivation allows for the uncertainty of reported positions: the
// distance between two fixes counts less positionUncertaintyKm, and fixes
// closer in time than minDeriveInterval derive no speed. Without this,
// 30 m of GPS jitter over 10 s would read as 10.8 km/h, over a residential
// plan's 10 km/h cap.
const (
	positionUncertaintyKm = 0.025
	minDeriveInterval     = time.Second
)

// derivedSpeed is the ground speed from the previous fix to f in km/h, or 0
// if there is no earlier fix (see positionUncertaintyKm).
func (tr *Track) derivedSpeed(f *skyfence.Fix) float64 {
	if tr == nil || tr.LastUnixNano == 0 {
		return 0
	}
	dt := time.Duration(f.Time.UnixNano() - tr.LastUnixNano)
	if dt < minDeriveInterval {
		return 0
	}
	km := HaversineKm(tr.LastLat, tr.LastLon, f.Lat, f.Lon) - positionUncertaintyKm
	return max(km, 0) / dt.Hours()
}

// daysAbroad is the day of the current trip abroad that t falls on (1 on
// the day the trip began, or if it begins now).
func (tr *Track) daysAbroad(t time.Time) int {
	if tr == nil || tr.AbroadSinceSec == 0 {
		return 1
	}
	return int((t.Unix()-tr.AbroadSinceSec)/86400) + 1
}

// coastalDays returns the length of the run of consecutive days of coastal
// use and the days of use this year, counting the day of t.
func (tr *Track) coastalDays(t time.Time) (run, year int) {
	r, y := tr.coastalDaysInt(t)
	return int(r), int(y)
}

func (tr *Track) coastalDaysInt(t time.Time) (run, year int16) {
	if tr == nil {
		return 1, 1
	}
	day := dayOf(t)
	run, year = 1, 1
	switch {
	case tr.CoastalDay == day:
		run = tr.CoastalRun
	case tr.CoastalDay == day-1:
		run = tr.CoastalRun + 1
	}
	if int(tr.CoastalYear) == t.UTC().Year() {
		year = tr.CoastalYearDay
		if tr.CoastalDay != day {
			year++
		}
	}
	return run, year
}

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// HaversineKm is the great-circle distance between two positions in km.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
