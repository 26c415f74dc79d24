package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/skyfence/skyfence"
)

// This file holds the confounders (Config.Confounders): GNSS interference
// events, the ground's altitude, crowded sites, and the motions of the bad
// actors that adapt.

// InterferenceKind is what a GNSS interference event does to the
// receivers in its area.
type InterferenceKind uint8

// Kinds of interference.
const (
	// Spoofing: every receiver in the area reports one of a few fake
	// positions (Targets), bit for bit or within metres.
	Spoofing InterferenceKind = iota
	// Jamming: every receiver in the area either freezes at the position
	// it had when the event began or jumps to random positions tens to
	// hundreds of kilometres away, fix after fix.
	Jamming
)

func (k InterferenceKind) String() string {
	if k == Spoofing {
		return "spoofing"
	}
	return "jamming"
}

// InterferenceEvent is a GNSS interference event: from Start to End every
// terminal whose true position is within RadiusKm of the centre reports a
// position it is not at (see InterferenceKind), at 0 km/h, then its true
// track again. Its serving cell (Config.Cells) stays the true one. Events
// touch honest terminals and bad actors alike and change no label.
type InterferenceEvent struct {
	Kind     InterferenceKind `json:"kind"`
	Lat      float64          `json:"lat"`
	Lon      float64          `json:"lon"`
	RadiusKm float64          `json:"radius_km"`
	Start    time.Time        `json:"start"`
	End      time.Time        `json:"end"`
	// Targets are the fake positions of spoofing, as (lat, lon): the
	// centres of cities of a million near the area (their airports), or
	// points on land near it.
	Targets [][2]float64 `json:"targets,omitempty"`
	// Exact is true if spoofed receivers report the targets bit for bit;
	// otherwise each fix is within 5 m of its target.
	Exact bool `json:"exact"`
}

// event is an InterferenceEvent as the fleet applies it.
type event struct {
	kind     InterferenceKind
	centre   pt
	radiusKm float64
	from, to int64 // seconds after Start
	targets  []pt
	exact    bool
	seed     uint32
}

// maxInterference is the most interference events a fleet has.
const maxInterference = 64

// interferenceHotspots are where GNSS interference has been reported
// since 2023, as (lat, lon), in the order events are placed: Kaliningrad
// and the Gulf of Gdansk, Odesa and the north-western Black Sea, the Gulf
// of Finland, the Eastern Mediterranean, Kharkiv and Belgorod on the
// front, and off Crimea.
var interferenceHotspots = [][2]float64{
	{54.71, 20.51}, {46.48, 30.73}, {59.9, 26.5}, {33.0, 35.2}, {50.3, 36.5}, {44.6, 33.5},
}

// events draws n interference events: each at a hotspot (offset up to
// 80 km), 30-300 km in radius, starting between a tenth and three fifths
// of the run and lasting 5 to 15 minutes; three in five spoof, the others
// jam.
func (g *gen) events(n int) {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 3))
	d := g.cfg.Duration.Seconds()
	for k := range n {
		h := interferenceHotspots[k%len(interferenceHotspots)]
		lat, lon := offset(h[0], h[1], 80*math.Sqrt(r.Float64()), 360*r.Float64())
		from := uniform(r, d/10, 0.6*d)
		ev := event{centre: pt{float32(lat), float32(lon)}, radiusKm: uniform(r, 30, 300),
			from: int64(from), to: int64(from + uniform(r, 300, 900)), seed: r.Uint32()}
		if r.Float64() < 0.4 {
			ev.kind = Jamming
		} else {
			ev.exact = r.Float64() < 0.5
			for range 1 + r.IntN(3) {
				ev.targets = append(ev.targets, g.spoofTarget(r, lat, lon))
			}
		}
		g.f.events = append(g.f.events, ev)
	}
}

// spoofTarget returns a fake position for spoofing near (lat, lon): a
// city of a million 30-600 km away, or failing that a point 30-150 km away.
func (g *gen) spoofTarget(r *rand.Rand, lat, lon float64) pt {
	var near []int32
	for _, c := range g.pl.big {
		if d := distKm(lat, lon, g.pl.cities[c].Lat, g.pl.cities[c].Lon); d >= 30 && d <= 600 {
			near = append(near, c)
		}
	}
	if len(near) > 0 {
		c := &g.pl.cities[near[r.IntN(len(near))]]
		return pt{float32(c.Lat), float32(c.Lon)}
	}
	lat, lon = offset(lat, lon, uniform(r, 30, 150), 360*r.Float64())
	return pt{float32(lat), float32(lon)}
}

// Interference returns the fleet's GNSS interference events.
func (f *Fleet) Interference() []InterferenceEvent {
	out := make([]InterferenceEvent, len(f.events))
	for k, ev := range f.events {
		lat, lon := ev.centre.f64()
		e := InterferenceEvent{Kind: ev.kind, Lat: lat, Lon: lon, RadiusKm: ev.radiusKm,
			Start: f.start.Add(time.Duration(ev.from) * time.Second), End: f.start.Add(time.Duration(ev.to) * time.Second), Exact: ev.exact}
		for _, t := range ev.targets {
			tlat, tlon := t.f64()
			e.Targets = append(e.Targets, [2]float64{tlat, tlon})
		}
		out[k] = e
	}
	return out
}

// interfere changes fx, terminal i's true fix at s seconds after Start,
// into what its receiver reports under the first event that covers it, if
// any.
func (f *Fleet) interfere(i int, s int64, fx *skyfence.Fix) {
	for k := range f.events {
		ev := &f.events[k]
		if s < ev.from || s >= ev.to {
			continue
		}
		clat, clon := ev.centre.f64()
		if distKm(clat, clon, fx.Lat, fx.Lon) > ev.radiusKm {
			continue
		}
		seed := f.units[i].seed ^ ev.seed
		fx.SpeedKmh = 0
		if ev.kind == Spoofing {
			t := ev.targets[int(hash01(seed, 1<<60)*float64(len(ev.targets)))]
			fx.Lat, fx.Lon, fx.AltM = float64(t.Lat), float64(t.Lon), 0
			if !ev.exact {
				m := 0.005 * math.Sqrt(hash01(seed, uint64(s)))
				fx.Lat, fx.Lon = offset(fx.Lat, fx.Lon, m, 360*hash01(seed, uint64(s)|1<<59))
			}
			return
		}
		if hash01(seed, 1<<60) < 0.5 {
			// Frozen where the event found it.
			if was, ok := f.trueFixAt(i, ev.from); ok {
				fx.Lat, fx.Lon = was.Lat, was.Lon
			}
			return
		}
		fx.Lat, fx.Lon = offset(fx.Lat, fx.Lon, 5+295*hash01(seed, uint64(s)), 360*hash01(seed, uint64(s)|1<<59))
		return
	}
}

// groundM is the altitude of the ground at a position, in metres: 20 to
// 180 m, in waves 20-25 km long, so that a road never climbs more than
// about 4 %.
func groundM(lat, lon float64) float64 {
	y := lat * 111.2 / 20
	x := lon * 111.2 * math.Cos(lat*rad) / 25
	return 100 + 80*math.Sin(2*math.Pi*y)*math.Cos(2*math.Pi*x)
}

// withGround sets a land terminal's reported altitude when the fleet
// reports the ground's: the ground's plus GPS noise of up to 8 m, plus
// height, its height above the ground.
func (f *Fleet) withGround(u *unit, s int64, fx *skyfence.Fix, height float64) {
	if !f.ground {
		return
	}
	fx.AltM = groundM(fx.Lat, fx.Lon) + height + 16*(hash01(u.seed, uint64(s)|1<<58)-0.5)
}

// crowdAt places a crowd terminal: its own spot within 200 m of its site,
// and GPS jitter of its own of up to 3-10 m at each fix.
func (f *Fleet) crowdAt(u *unit, s int64, fx *skyfence.Fix) {
	lat, lon := u.a.f64()
	j := (0.003 + 0.007*hash01(u.seed, 1<<57)) * math.Sqrt(hash01(u.seed, uint64(s)))
	fx.Lat, fx.Lon = offset(lat, lon, j, 360*hash01(u.seed, uint64(s)|1<<56))
}

// Low drones (DroneLow) fly sorties of 15 to 30 minutes, 10 to 20 minutes
// apart, at u.speed (60-70 km/h, just under the 75 km/h cap), climbing at
// 4 to 8 m/s to u.alt (40-150 m) above the ground, along u.phase degrees,
// straight or, if u.dwell is not 0, zig-zagging u.dwell degrees either
// side of it with legs of u.km/2 seconds.
func (u *unit) flyLow(fx *skyfence.Fix, sec int64) bool {
	var start int64
	var sortie, rest float64
	for n := uint64(0); ; n++ {
		sortie = 900 + 900*hash01(u.seed, 2*n)
		rest = 600 + 600*hash01(u.seed, 2*n+1)
		if float64(sec-start) < sortie+rest {
			break
		}
		start += int64(sortie + rest)
	}
	tau := float64(sec - start)
	if tau >= sortie {
		return false
	}
	v := float64(u.speed)
	along, across := v*tau/3600, 0.0
	if th := float64(u.dwell) * rad; th != 0 {
		p := float64(u.km)
		along *= math.Cos(th)
		tri := math.Abs(math.Mod(tau+p/4, p)-p/2) - p/4 // slope ±1, 0 at take-off
		across = v * math.Sin(th) * tri / 3600
	}
	h := float64(u.phase) * rad
	alat, alon := u.a.f64()
	fx.Lat, fx.Lon = local(alat, alon, along*math.Sin(h)+across*math.Cos(h), along*math.Cos(h)-across*math.Sin(h))
	fx.SpeedKmh = v
	climb := 4 + 4*hash01(u.seed, 1<<55)
	fx.AltM = math.Min(float64(u.alt), climb*tau)
	return true
}

// rareOn reports whether a smuggled-rare terminal is on sec seconds after
// it turned bad: for u.dwell seconds (60-150) every u.km seconds (10-30
// minutes), the first time at once.
func (u *unit) rareOn(sec int64) bool {
	return math.Mod(float64(sec), float64(u.km)) < float64(u.dwell)
}

// walk returns where a smuggled-rare terminal is sec seconds after it
// turned bad: walking away from u.b at u.speed (0-5 km/h) along u.phase
// degrees, for at most an hour, then back.
func (u *unit) walk(sec int64) (lat, lon float64) {
	h := math.Mod(float64(sec), 7200)
	if h > 3600 {
		h = 7200 - h
	}
	blat, blon := u.b.f64()
	return offset(blat, blon, float64(u.speed)*h/3600, float64(u.phase))
}

// track returns the track a spoof-track terminal fakes sec seconds after
// it turned bad: driving back and forth over u.km (5-20 km) from u.c along
// u.phase degrees at u.speed (20-50 km/h), reporting that speed.
func (u *unit) track(sec int64) (lat, lon, speed float64) {
	legS := float64(u.km) / float64(u.speed) * 3600
	x := math.Mod(float64(sec), 2*legS)
	if x > legS {
		x = 2*legS - x
	}
	clat, clon := u.c.f64()
	lat, lon = offset(clat, clon, float64(u.km)*x/legS, float64(u.phase))
	return lat, lon, float64(u.speed)
}

// Affected returns the index in Interference of the event that covers
// terminal i's true position at t, if any.
func (f *Fleet) Affected(i int, t time.Time) (int, bool) {
	s := int64(t.Sub(f.start) / time.Second)
	fx, ok := f.trueFixAt(i, s)
	if !ok {
		return 0, false
	}
	for k := range f.events {
		ev := &f.events[k]
		clat, clon := ev.centre.f64()
		if s >= ev.from && s < ev.to && distKm(clat, clon, fx.Lat, fx.Lon) <= ev.radiusKm {
			return k, true
		}
	}
	return 0, false
}
