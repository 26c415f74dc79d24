package sim

import (
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
)

// Drones fly sorties of 20 to 40 minutes with 10 to 30 minutes between
// them, powered off: their n-th sortie's and rest's lengths are drawn from
// the terminal's seed and n. In flight a drone's offset from its base is
// the sum of two circles turned opposite ways, of speeds droneFast and
// droneSlow: its ground speed swings between their difference and their
// sum (80 to 250 km/h), so it turns often and sharply, and it strays no
// farther than a few kilometres.
const (
	droneFast = 165.0 // km/h
	droneSlow = 85.0  // km/h
	// smuggleGap is the longest a smuggled terminal (or a spoof-clone) is
	// off, being carried, before it turns up near the front (or starts
	// spoofing): two hours, or half the time before its bad behaviour
	// starts if that is shorter.
	smuggleGap = 2 * 3600
	// shipBeam is how far east or north of its lane's line a ship sails,
	// at most, in km.
	shipBeam = 0.5
	// climbKm is how far from each end an airliner climbs to or descends
	// from its cruising altitude.
	climbKm = 200.0
)

// cycle is the length in seconds of a shuttle's round trip.
func (u *unit) cycle() float64 {
	if u.speed <= 0 {
		return 2 * float64(u.dwell)
	}
	return 2 * (float64(u.km)/float64(u.speed)*3600 + float64(u.dwell))
}

// shuttleAt returns how far along its path from a to b a shuttle is at s
// seconds after Start (0 at a, 1 at b) and whether it is moving.
func (u *unit) shuttleAt(s int64) (f float64, moving bool) {
	cyc := u.cycle()
	if cyc <= 0 {
		return 0, false
	}
	c := math.Mod(float64(u.phase)+float64(s), cyc)
	travel, dwell := cyc/2-float64(u.dwell), float64(u.dwell)
	switch {
	case c < dwell:
		return 0, false
	case c < dwell+travel:
		return (c - dwell) / travel, travel > 0
	case c < 2*dwell+travel:
		return 1, false
	default:
		return 1 - (c-2*dwell-travel)/travel, true
	}
}

// FixAt returns terminal i's fix at time t, or false if it is off then
// (a smuggled terminal or spoof-clone being carried, a drone between
// sorties). The fix
// reports the terminal's true ground speed, except spoofers', which
// report 0 whatever their positions say.
func (f *Fleet) FixAt(i int, t time.Time) (skyfence.Fix, bool) {
	s := t.Sub(f.start)
	fx, ok := f.fixAt(i, int64(s/time.Second))
	fx.Time = t
	return fx, ok
}

// fixAt is FixAt at s whole seconds after Start, leaving Time zero: the
// true fix, with its serving cell if the fleet reports cells, as the
// receiver reports it under interference.
func (f *Fleet) fixAt(i int, s int64) (skyfence.Fix, bool) {
	fx, ok := f.trueFixAt(i, s)
	if !ok {
		return fx, false
	}
	if f.cells {
		fx.ServingCell = skyfence.CellOf(fx.Lat, fx.Lon)
	}
	if f.claim(i, s, &fx) {
		return fx, true
	}
	if len(f.events) > 0 {
		f.interfere(i, s, &fx)
	}
	return fx, true
}

// claim sets the position a spoofer claims at s, if it spoofs then, and
// reports whether it does: its serving cell is the one where it really is,
// and no interference reaches a receiver its own spoofer overpowers.
func (f *Fleet) claim(i int, s int64, fx *skyfence.Fix) bool {
	u := &f.units[i]
	if u.bad < 0 || s < int64(u.bad) {
		return false
	}
	switch u.kind {
	case SpoofTrack:
		fx.Lat, fx.Lon, fx.SpeedKmh = u.track(s - int64(u.bad))
	case SpoofClone:
		fx.Lat, fx.Lon, fx.SpeedKmh, fx.AltM = float64(u.c.Lat), float64(u.c.Lon), 0, 0
	case SpoofJump:
		// From its first fix at or after its start, then at every other
		// fix on average.
		k := uint64(s / f.interval)
		if s-int64(u.bad) >= f.interval && hash01(u.seed, k) >= 0.5 {
			return false
		}
		fx.Lat, fx.Lon = f.jumps[int(hash01(u.seed, k|1<<63)*float64(len(f.jumps)))].f64()
		fx.SpeedKmh = 0
	default:
		return false
	}
	f.withGround(u, s, fx, 0)
	return true
}

// trueFixAt is where terminal i really is at s seconds after Start, what
// its receiver would report without interference, or false if it is off.
func (f *Fleet) trueFixAt(i int, s int64) (skyfence.Fix, bool) {
	u := &f.units[i]
	fx := skyfence.Fix{TerminalID: f.ID(i)}
	bad := u.bad >= 0 && s >= int64(u.bad)
	switch u.kind {
	case Roamer, Vehicle, Airliner, Train:
		frac, moving := u.shuttleAt(s)
		alat, alon := u.a.f64()
		blat, blon := u.b.f64()
		fx.Lat, fx.Lon = along(alat, alon, blat, blon, frac)
		if moving {
			fx.SpeedKmh = float64(u.speed)
		}
		if u.kind == Airliner {
			if moving {
				fx.AltM = float64(u.alt) * math.Min(1, math.Min(frac, 1-frac)*float64(u.km)/climbKm)
			}
		} else {
			f.withGround(u, s, &fx, 0)
		}
	case Ship:
		frac, moving := u.shuttleAt(s)
		fx.Lat, fx.Lon = f.lanes[u.lane].at(frac * float64(u.km))
		// Each ship keeps to a track of its own, up to shipBeam off the
		// lane's line, so that ships at anchor do not share a position.
		dx, dy := shipBeam*(2*hash01(u.seed, 1<<61)-1), shipBeam*(2*hash01(u.seed, 1<<61+1)-1)
		fx.Lat, fx.Lon = local(fx.Lat, fx.Lon, dx, dy)
		if moving {
			fx.SpeedKmh = float64(u.speed)
		}
	case Smuggled, SpoofClone, SmuggledRare, SpoofTrack:
		// Off while carried to where it turns bad: near the front, or
		// into an embargoed country where it reports the cloned position,
		// or, rarely on and slowly walking, uses its terminal, or fakes a
		// track in an allowed one.
		switch {
		case bad && u.kind == SmuggledRare:
			if !u.rareOn(s - int64(u.bad)) {
				return fx, false
			}
			fx.Lat, fx.Lon = u.walk(s - int64(u.bad))
		case bad: // a spoofer's true position: see claim
			fx.Lat, fx.Lon = u.b.f64()
		case s >= int64(u.bad)-min(smuggleGap, int64(u.bad)/2):
			return fx, false
		default:
			fx.Lat, fx.Lon = u.a.f64()
		}
		f.withGround(u, s, &fx, 0)
	case Drone, DroneLow:
		if !bad {
			fx.Lat, fx.Lon = u.a.f64()
			f.withGround(u, s, &fx, 0)
			return fx, true
		}
		var on bool
		if u.kind == Drone {
			on = u.fly(&fx, s-int64(u.bad))
		} else {
			on = u.flyLow(&fx, s-int64(u.bad))
		}
		f.withGround(u, s, &fx, fx.AltM)
		return fx, on
	case Crowd:
		f.crowdAt(u, s, &fx)
		f.withGround(u, s, &fx, 0)
	case SpoofJump: // at home, whatever it claims (see claim)
		fx.Lat, fx.Lon = u.a.f64()
		f.withGround(u, s, &fx, 0)
	default: // Residential, Sponsored
		fx.Lat, fx.Lon = u.a.f64()
		f.withGround(u, s, &fx, 0)
	}
	return fx, true
}

// fly sets a drone's position, speed and altitude sec seconds after it
// turned bad, or returns false between sorties.
func (u *unit) fly(fx *skyfence.Fix, sec int64) bool {
	var start int64
	var sortie, rest float64
	for n := uint64(0); ; n++ {
		sortie = 1200 + 1200*hash01(u.seed, 2*n)
		rest = 600 + 1200*hash01(u.seed, 2*n+1)
		if float64(sec-start) < sortie+rest {
			break
		}
		start += int64(sortie + rest)
	}
	tau := float64(sec - start)
	if tau >= sortie {
		return false
	}
	h := tau / 3600
	// Periods of 4-8 and 1-2 minutes, from the seed.
	w1 := 2 * math.Pi / ((4 + 4*hash01(u.seed, 1<<62)) / 60)
	w2 := 2 * math.Pi / ((1 + hash01(u.seed, 1<<62+1)) / 60)
	p1, p2 := 2*math.Pi*hash01(u.seed, 1<<62+2), 2*math.Pi*hash01(u.seed, 1<<62+3)
	r1, r2 := droneFast/w1, droneSlow/w2
	// Offset from the base: both circles less where they start, so a
	// sortie takes off from the base.
	dx := r1*(math.Cos(w1*h+p1)-math.Cos(p1)) + r2*(math.Cos(-w2*h+p2)-math.Cos(p2))
	dy := r1*(math.Sin(w1*h+p1)-math.Sin(p1)) + r2*(math.Sin(-w2*h+p2)-math.Sin(p2))
	vx := -droneFast*math.Sin(w1*h+p1) + droneSlow*math.Sin(-w2*h+p2)
	vy := droneFast*math.Cos(w1*h+p1) - droneSlow*math.Cos(-w2*h+p2)
	alat, alon := u.a.f64()
	fx.Lat, fx.Lon = local(alat, alon, dx, dy)
	fx.SpeedKmh = math.Hypot(vx, vy)
	fx.AltM = 50 + 100*(1-math.Cos(2*math.Pi*tau/sortie)) // 50 m up to 250 m and back
	return true
}

// AppendFixes appends to dst every fix the fleet sends at or after from
// and before to, in time order: each terminal reports every Interval, at
// whole seconds, terminal i first at Start plus i·Interval/Len rounded
// down to a second. Fixes of the same second come by terminal index.
func (f *Fleet) AppendFixes(dst []skyfence.Fix, from, to time.Time) []skyfence.Fix {
	s0 := int64(max(0, (from.Sub(f.start)+time.Second-1)/time.Second))
	s1 := int64((to.Sub(f.start) + time.Second - 1) / time.Second)
	for s := s0; s < s1; s++ {
		dst = f.appendSecond(dst, s)
	}
	return dst
}

// parallelBucket is the size of a second's share of the fleet above which
// its fixes are made on every core.
const parallelBucket = 32768

// appendSecond appends the fixes of second s: those of the terminals
// whose turn it is.
func (f *Fleet) appendSecond(dst []skyfence.Fix, s int64) []skyfence.Fix {
	n, p := int64(len(f.units)), f.interval
	b := s % p
	lo, hi := int((b*n+p-1)/p), int(((b+1)*n+p-1)/p)
	at := f.start.Add(time.Duration(s) * time.Second)
	workers := runtime.GOMAXPROCS(0)
	if hi-lo < parallelBucket || workers == 1 {
		return f.appendRange(dst, lo, hi, s, at)
	}
	parts := make([][]skyfence.Fix, workers)
	var wg sync.WaitGroup
	for w := range parts {
		wg.Go(func() {
			a, z := lo+(hi-lo)*w/workers, lo+(hi-lo)*(w+1)/workers
			parts[w] = f.appendRange(make([]skyfence.Fix, 0, z-a), a, z, s, at)
		})
	}
	wg.Wait()
	for _, part := range parts {
		dst = append(dst, part...)
	}
	return dst
}

func (f *Fleet) appendRange(dst []skyfence.Fix, lo, hi int, s int64, at time.Time) []skyfence.Fix {
	for i := lo; i < hi; i++ {
		if fx, ok := f.fixAt(i, s); ok {
			fx.Time = at
			dst = append(dst, fx)
		}
	}
	return dst
}
