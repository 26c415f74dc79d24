package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// gen makes the units of a fleet. It is read only once built, so that
// workers can share it.
type gen struct {
	f       *Fleet
	pl      *placer
	cfg     *Config
	homes   []string
	homeIdx map[string]uint16

	frontHome string // the country most of the front is in

	sponsor picker // service cities in the sponsor country
	smuggle picker // towns of the countries smuggled terminals come from
	frontKm []float64
	groups  []cloneGroup

	siteCountry []string // of each crowded site

	drive       trips // a vehicle's: 10-150 km within its country, on land
	roam        trips // a traveller's: 80-500 km to another country, on land
	toEmbargoed trips // from a cloned town to where its spoofers are carried: 30-400 km into an embargoed country
	rail        trips // a train's: 150-700 km between towns with service for it, on land
	claim       trips // from where a spoof-track terminal really is to where it claims: 80-300 km, with service
}

// cloneGroup is the spoofers that report one cloned position: at home
// near town (a town with service 30-400 km from an embargoed country)
// until they are carried into that country, then pretending to be at
// clone, the town's exact position, from bad on.
type cloneGroup struct {
	clone pt
	town  int32
	home  uint16
	bad   int32
}

func newGen(f *Fleet, pl *placer, cfg *Config, counts [NumBehaviours]int) (*gen, error) {
	g := &gen{f: f, pl: pl, cfg: cfg, homeIdx: map[string]uint16{}}
	// Honest trips end where the traveller's terminal has service: an
	// honest terminal is not taken to be used where the policy forbids it.
	g.drive = trips{minKm: 10, maxKm: 150, land: true, keep: func(a, b int32) bool {
		return pl.country[a] == pl.country[b] && pl.allowsAt(Vehicle, pl.country[a], b)
	}}
	g.roam = trips{minKm: 80, maxKm: 500, land: true, keep: func(a, b int32) bool {
		return pl.country[a] != pl.country[b] && pl.country[b] != policy.International && pl.country[b] != "" &&
			pl.allowsAt(Roamer, pl.country[a], b)
	}}
	g.toEmbargoed = trips{minKm: 30, maxKm: 400, keep: func(_, b int32) bool { return g.embargoed(b) }}
	g.rail = trips{minKm: 150, maxKm: 700, land: true, keep: func(a, b int32) bool {
		return pl.country[b] != policy.International && pl.country[b] != "" && pl.allowsAt(Train, pl.country[a], b) &&
			pl.allowsAt(Train, pl.country[a], a)
	}}
	g.claim = trips{minKm: 80, maxKm: 300, keep: func(_, b int32) bool {
		return pl.country[b] == g.frontHome && pl.allowsAt(SpoofTrack, g.frontHome, b)
	}}
	g.frontHome = g.frontCountry()
	codes := slices.Clone(pl.country)
	codes = append(codes, g.frontHome)
	for _, l := range f.lanes {
		codes = append(codes, l.flag)
	}
	slices.Sort(codes)
	for _, c := range slices.Compact(codes) {
		g.homeIdx[c] = uint16(len(g.homes))
		g.homes = append(g.homes, c)
	}
	need := func(b Behaviour, p *picker, what string) error {
		if counts[b] > 0 && p.empty() {
			return fmt.Errorf("sim: no place for %s terminals: %s", b, what)
		}
		return nil
	}
	for _, i := range pl.service.idx {
		if pl.country[i] == cfg.SponsorCountry {
			g.sponsor.add(i, float64(pl.cities[i].Population))
		}
	}
	g.smuggle = pl.citiesIn(cfg.SmuggleFrom)
	for _, e := range []error{
		need(Residential, &pl.service, "no city has service"),
		need(Vehicle, &pl.homes, "no town has service"),
		need(Roamer, &pl.homes, "no town has service"),
		need(SpoofJump, &pl.homes, "no town has service"),
		need(Airliner, &pl.airports, "no city of a million has service"),
		need(Sponsored, &g.sponsor, "no city of "+cfg.SponsorCountry+" has service"),
		need(Smuggled, &g.smuggle, fmt.Sprintf("no town in %v", cfg.SmuggleFrom)),
	} {
		if e != nil {
			return nil, e
		}
	}
	g.frontKm = []float64{0}
	for k := 1; k < len(f.front); k++ {
		alat, alon := f.front[k-1].f64()
		blat, blon := f.front[k].f64()
		g.frontKm = append(g.frontKm, g.frontKm[k-1]+distKm(alat, alon, blat, blon))
	}
	if counts[SpoofClone] > 0 {
		if err := g.cloneGroups((counts[SpoofClone] + cfg.CloneGroup - 1) / cfg.CloneGroup); err != nil {
			return nil, err
		}
	}
	if counts[Crowd] > 0 {
		g.crowdSites((counts[Crowd] + cfg.CrowdSize - 1) / cfg.CrowdSize)
	}
	g.events(cfg.Interference)
	return g, nil
}

// frontCountry returns the country most of the front's points are in.
func (g *gen) frontCountry() string {
	votes := map[string]int{}
	best := ""
	for _, p := range g.f.front {
		c, _, _ := g.pl.where(p.f64())
		if votes[c]++; votes[c] > votes[best] || votes[c] == votes[best] && c < best {
			best = c
		}
	}
	return best
}

// embargoed reports whether city j lies in a country the policy embargoes.
func (g *gen) embargoed(j int32) bool {
	st, ok := g.pl.snap.StatusAt(g.pl.country[j], g.cfg.Start)
	return ok && st.Status == policy.Embargoed
}

// cloneGroups draws n groups: each clones the position of a town with
// service 30 to 400 km from a town in an embargoed country, where its
// members are carried.
func (g *gen) cloneGroups(n int) error {
	var targets picker
	for k, c := range g.pl.homes.idx {
		if !g.pl.partners(c, &g.toEmbargoed).empty() {
			w := g.pl.homes.cum[k]
			if k > 0 {
				w -= g.pl.homes.cum[k-1]
			}
			targets.add(c, w)
		}
	}
	if targets.empty() {
		return fmt.Errorf("sim: no place for spoof-clone terminals: no town with service near an embargoed country")
	}
	r := rand.New(rand.NewPCG(g.cfg.Seed, 2))
	for range n {
		c := targets.pick(r)
		city := &g.pl.cities[c]
		g.groups = append(g.groups, cloneGroup{clone: pt{float32(city.Lat), float32(city.Lon)}, town: c,
			home: g.homeIdx[g.pl.country[c]], bad: g.badTime(r)})
	}
	for _, gr := range g.groups {
		g.f.clones = append(g.f.clones, gr.clone)
	}
	return nil
}

// crowdSites draws n crowded sites (a refugee centre, a port, a base):
// half in the sponsor country, the others anywhere, each at a spot with
// service near a city drawn by population.
func (g *gen) crowdSites(n int) {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 4))
	for k := range n {
		p := &g.pl.service
		if k%2 == 0 && !g.sponsor.empty() {
			p = &g.sponsor
		}
		c := p.pick(r)
		g.f.sites = append(g.f.sites, g.pl.spotNear(r, c, Crowd))
		g.siteCountry = append(g.siteCountry, g.pl.country[c])
	}
}

// badTime draws when a bad actor turns bad: uniformly between a tenth and
// a half of Config.Duration after Start, in seconds.
func (g *gen) badTime(r *rand.Rand) int32 {
	d := g.cfg.Duration.Seconds()
	return int32(uniform(r, d/10, d/2))
}

// frontSpot returns a point drawn uniformly along the front.
func (g *gen) frontSpot(r *rand.Rand) (lat, lon float64) {
	km := r.Float64() * g.frontKm[len(g.frontKm)-1]
	k := max(1, slices.IndexFunc(g.frontKm, func(x float64) bool { return x >= km }))
	a, b := g.f.front[k-1], g.f.front[k]
	alat, alon := a.f64()
	blat, blon := b.f64()
	return along(alat, alon, blat, blon, (km-g.frontKm[k-1])/(g.frontKm[k]-g.frontKm[k-1]))
}

// around returns a position within 3 km of city c, not checked against
// the policy: where a trip starts or ends, or a bad actor sits. No two
// terminals share a position by chance.
func (g *gen) around(r *rand.Rand, c int32) pt {
	city := &g.pl.cities[c]
	lat, lon := offset(city.Lat, city.Lon, 3*math.Sqrt(r.Float64()), 360*r.Float64())
	return pt{float32(lat), float32(lon)}
}

// unit makes one terminal of behaviour b (group is its spoof-clone group).
func (g *gen) unit(r *rand.Rand, b Behaviour, group uint16) unit {
	u := unit{kind: b, bad: -1, seed: r.Uint32()}
	pl := g.pl
	switch b {
	case Residential:
		c := pl.service.pick(r)
		u.a, u.b = pl.spotNear(r, c, b), pt{}
		g.register(&u, pl.country[c], skyfence.Civil)
	case Sponsored:
		c := g.sponsor.pick(r)
		u.a = pl.spotNear(r, c, b)
		g.register(&u, pl.country[c], skyfence.Civil)
	case Vehicle:
		c := pl.homes.pick(r)
		j, ok := pl.partner(r, c, &g.drive)
		g.trip(r, &u, g.ends(r, c, j, ok), uniform(r, 30, 130), uniform(r, 5, 45)*60)
		class := skyfence.Civil
		if r.Float64() < 0.25 {
			class = skyfence.Military
		}
		g.register(&u, pl.country[c], class)
	case Roamer:
		c := pl.homes.pick(r)
		j, ok := pl.partner(r, c, &g.roam)
		g.trip(r, &u, g.ends(r, c, j, ok), uniform(r, 60, 130), uniform(r, 30, 180)*60)
		g.register(&u, pl.country[c], skyfence.Civil)
	case Airliner:
		c := pl.airports.pick(r)
		j, ok := c, false
		for range 20 {
			k := pl.big[r.IntN(len(pl.big))]
			if d := distKm(pl.cities[c].Lat, pl.cities[c].Lon, pl.cities[k].Lat, pl.cities[k].Lon); d >= 300 && d <= 12000 &&
				pl.allowsAt(Airliner, pl.country[c], k) {
				j, ok = k, true
				break
			}
		}
		g.trip(r, &u, g.ends(r, c, j, ok), uniform(r, 850, 950), uniform(r, 45, 180)*60)
		u.alt = float32(uniform(r, 10000, 12000))
		g.register(&u, pl.country[c], skyfence.Civil)
	case Ship:
		u.lane = uint16(r.IntN(len(g.f.lanes)))
		l := &g.f.lanes[u.lane]
		g.shuttle(r, &u, l.pts[0], l.pts[len(l.pts)-1], l.km(), uniform(r, 20, 40), uniform(r, 2, 12)*3600)
		g.register(&u, l.flag, skyfence.Civil)
	case Smuggled:
		c := g.smuggle.pick(r)
		u.a = g.around(r, c)
		lat, lon := g.frontSpot(r)
		lat, lon = offset(lat, lon, 40*math.Sqrt(r.Float64()), 360*r.Float64())
		u.b = pt{float32(lat), float32(lon)}
		u.bad = g.badTime(r)
		g.register(&u, pl.country[c], skyfence.Civil)
	case Drone:
		u.a = g.droneBase(r)
		u.bad = g.badTime(r)
		g.register(&u, g.frontHome, skyfence.Civil)
	case SpoofJump:
		c := pl.homes.pick(r)
		u.a = pl.spotNear(r, c, b)
		u.bad = g.badTime(r)
		g.register(&u, pl.country[c], skyfence.Civil)
	case Train:
		c := pl.homes.pick(r)
		j, ok := pl.partner(r, c, &g.rail)
		g.trip(r, &u, g.ends(r, c, j, ok), uniform(r, 250, 320), uniform(r, 10, 40)*60)
		g.register(&u, pl.country[c], skyfence.Civil)
	case Crowd:
		site := g.f.sites[group]
		lat, lon := offset(float64(site.Lat), float64(site.Lon), 0.2*math.Sqrt(r.Float64()), 360*r.Float64())
		u.a, u.lane = pt{float32(lat), float32(lon)}, group
		g.register(&u, g.siteCountry[group], skyfence.Civil)
	case DroneLow:
		u.a = g.droneBase(r)
		u.bad = g.badTime(r)
		u.speed, u.phase, u.alt = float32(uniform(r, 60, 70)), float32(360*r.Float64()), float32(uniform(r, 40, 150))
		if r.Float64() < 0.5 {
			u.dwell, u.km = float32(uniform(r, 20, 45)), float32(uniform(r, 40, 120))
		}
		g.register(&u, g.frontHome, skyfence.Civil)
	case SmuggledRare:
		c := g.smuggle.pick(r)
		var j int32
		ok := false
		for range 20 {
			if j, ok = pl.partner(r, c, &g.toEmbargoed); ok {
				break
			}
			c = g.smuggle.pick(r)
		}
		u.a = g.around(r, c)
		if ok {
			u.b = g.around(r, j)
		} else {
			lat, lon := g.frontSpot(r)
			u.b = pt{float32(lat), float32(lon)}
		}
		u.bad = g.badTime(r)
		u.km, u.dwell = float32(uniform(r, 600, 1800)), float32(uniform(r, 60, 150))
		u.speed, u.phase = float32(uniform(r, 0, 5)), float32(360*r.Float64())
		g.register(&u, pl.country[c], skyfence.Civil)
	case SpoofTrack:
		g.spoofTrack(r, &u)
		u.bad = g.badTime(r)
		g.register(&u, g.frontHome, skyfence.Civil)
	case SpoofClone:
		gr := &g.groups[group]
		u.a, u.c, u.lane, u.bad = pl.spotNear(r, gr.town, b), gr.clone, group, gr.bad
		// Where it really is once carried: a town of the embargoed
		// country (the group's town has one within reach, cloneGroups
		// made sure).
		if j, ok := pl.partner(r, gr.town, &g.toEmbargoed); ok {
			u.b = g.around(r, j)
		} else {
			u.b = u.c
		}
		u.home = gr.home
		if _, ok := g.cfg.Authorities[g.homes[gr.home]]; ok {
			u.class = 1 + uint8(skyfence.Civil)
		}
	}
	return u
}

// spoofTrack places a spoof-track terminal: at home near a town of the
// front's country, really in a town of an embargoed country 80-300 km
// away once bad, faking a track that drives from near the home town away
// from where it really is, both ends of it with service. Failing that in
// a few tries, it stays at home (its track faked around it).
func (g *gen) spoofTrack(r *rand.Rand, u *unit) {
	u.km, u.speed = float32(uniform(r, 5, 20)), float32(uniform(r, 20, 50))
	for range 20 {
		c := g.embargoedTown(r)
		if c < 0 {
			break
		}
		j, ok := g.pl.partner(r, c, &g.claim)
		if !ok {
			continue
		}
		u.a, u.b, u.c = g.pl.spotNear(r, j, SpoofTrack), g.around(r, c), g.around(r, j)
		blat, blon := u.b.f64()
		clat, clon := u.c.f64()
		u.phase = float32(math.Mod(bearingDeg(blat, blon, clat, clon)+uniform(r, -30, 30)+360, 360))
		elat, elon := offset(clat, clon, float64(u.km), float64(u.phase))
		if g.pl.allows(SpoofTrack, g.frontHome, clat, clon, 0) && g.pl.allows(SpoofTrack, g.frontHome, elat, elon, 0) {
			return
		}
	}
	j := g.sponsor.pick(r)
	u.a = g.pl.spotNear(r, j, SpoofTrack)
	u.b, u.c = u.a, u.a
}

// embargoedTown draws a town in an embargoed country near the front, by
// population: where a spoof-track terminal really is. -1 if none.
func (g *gen) embargoedTown(r *rand.Rand) int32 {
	lat, lon := g.frontSpot(r)
	var near picker
	g.pl.grid.near(lat, lon, 150, func(j int32) {
		if g.embargoed(j) {
			near.add(j, float64(g.pl.cities[j].Population))
		}
	})
	if near.empty() {
		return -1
	}
	return near.pick(r)
}

// register sets the terminal's registered country and, where the country
// has a verifying authority, its verification class.
func (g *gen) register(u *unit, country string, class skyfence.VerificationClass) {
	u.home = g.homeIdx[country]
	if _, ok := g.cfg.Authorities[country]; ok {
		u.class = 1 + uint8(class)
	}
}

// ends returns the two ends of a trip from city c to city j: spots near
// each, or, if no j was found (ok false), one spot near c for both: the
// terminal stays there.
func (g *gen) ends(r *rand.Rand, c, j int32, ok bool) [2]pt {
	a := g.around(r, c)
	if !ok {
		return [2]pt{a, a}
	}
	return [2]pt{a, g.around(r, j)}
}

// trip sets a shuttle between two ends along the great circle.
func (g *gen) trip(r *rand.Rand, u *unit, ends [2]pt, speed, dwell float64) {
	alat, alon := ends[0].f64()
	blat, blon := ends[1].f64()
	g.shuttle(r, u, ends[0], ends[1], distKm(alat, alon, blat, blon), speed, dwell)
}

// shuttle sets a shuttle between a and b, km apart along its path: speed
// in km/h, dwell in seconds at each end, starting at a point of its cycle
// drawn at random.
func (g *gen) shuttle(r *rand.Rand, u *unit, a, b pt, km, speed, dwell float64) {
	u.a, u.b, u.km, u.speed, u.dwell = a, b, float32(km), float32(speed), float32(dwell)
	u.phase = float32(r.Float64() * u.cycle())
}

// droneBase returns a spot 10 to 60 km from the front on the land of the
// front's country outside every zone of the policy (the side not
// occupied), or the last spot tried.
func (g *gen) droneBase(r *rand.Rand) pt {
	home := g.frontHome
	var p pt
	for range 30 {
		lat, lon := g.frontSpot(r)
		lat, lon = offset(lat, lon, uniform(r, 10, 60), 360*r.Float64())
		p = pt{float32(lat), float32(lon)}
		if c, land, zones := g.pl.where(lat, lon); c == home && land && len(zones) == 0 {
			break
		}
	}
	return p
}
