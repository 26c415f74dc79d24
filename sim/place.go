package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// This file chooses where terminals are: the cities that have service, the
// trips between them, the spots near the front. Everything here is read
// only once built, so terminals can be placed in parallel.

// Population thresholds of the places the profiles use.
const (
	townPop = 20_000    // homes of travellers, ends of road trips
	bigPop  = 1_000_000 // airports, the places spoofers jump to
)

// placer knows the cities, where they are by the policy's atlas, and
// which of them have service.
type placer struct {
	snap    *policy.Snapshot
	at      time.Time
	cities  []City
	country []string // of each city by the atlas ("" at sea, "international")
	auth    map[string]string
	verAt   time.Time

	service  picker // cities where a residential terminal registered there has service
	homes    picker // service cities of at least townPop
	airports picker // service cities of at least bigPop
	big      []int32
	grid     cityGrid // cities of at least townPop
	cache    sync.Map // tripKey -> *picker
}

// picker draws city indices weighted by population.
type picker struct {
	idx []int32
	cum []float64
}

func (p *picker) add(i int32, w float64) {
	p.idx = append(p.idx, i)
	last := 0.0
	if n := len(p.cum); n > 0 {
		last = p.cum[n-1]
	}
	p.cum = append(p.cum, last+w)
}

func (p *picker) empty() bool { return len(p.idx) == 0 }

func (p *picker) pick(r *rand.Rand) int32 {
	x := r.Float64() * p.cum[len(p.cum)-1]
	return p.idx[min(sort.SearchFloat64s(p.cum, x), len(p.idx)-1)]
}

func newPlacer(snap *policy.Snapshot, cities []City, at time.Time, auth map[string]string) *placer {
	pl := &placer{snap: snap, at: at, cities: cities, country: make([]string, len(cities)), auth: auth,
		verAt: at.AddDate(-1, 0, 0)}
	fixes := make([]skyfence.Fix, len(cities))
	for i, c := range cities {
		fixes[i] = skyfence.Fix{TerminalID: "probe", Time: at, Lat: c.Lat, Lon: c.Lon}
	}
	locs := make([]policy.Location, len(fixes))
	snap.Locate(fixes, locs)
	probe := skyfence.Terminal{ID: "probe", Plan: Residential.Plan(), Status: skyfence.Active}
	var gridCities []int32
	for i, c := range cities {
		d := snap.DecideAt(&probe, nil, fixes[i], locs[i])
		pl.country[i] = d.Country
		if c.Population >= townPop {
			gridCities = append(gridCities, int32(i))
		}
		if c.Population >= bigPop {
			pl.big = append(pl.big, int32(i))
		}
		if d.Country == policy.International || !pl.allows(Residential, d.Country, c.Lat, c.Lon, 0) {
			continue // a terminal cannot be registered on the high seas
		}
		w := float64(c.Population)
		pl.service.add(int32(i), w)
		if c.Population >= townPop {
			pl.homes.add(int32(i), w)
		}
		if c.Population >= bigPop {
			pl.airports.add(int32(i), w)
		}
	}
	pl.grid = newCityGrid(cities, gridCities)
	return pl
}

// terminal returns the registry record of a terminal of behaviour b
// registered in country, verified by the country's authority (if it has
// one) with class.
func (pl *placer) terminal(b Behaviour, country string, class skyfence.VerificationClass) skyfence.Terminal {
	t := skyfence.Terminal{ID: "probe", Plan: b.Plan(), Country: country, Status: skyfence.Active}
	if a, ok := pl.auth[country]; ok {
		t.Verifications = []skyfence.Verification{{Region: country, Authority: a, Class: class, VerifiedAt: pl.verAt}}
	}
	return t
}

// allows reports whether a terminal of behaviour b registered in country
// has service standing at the position.
func (pl *placer) allows(b Behaviour, country string, lat, lon, speed float64) bool {
	t := pl.terminal(b, country, skyfence.Civil)
	return pl.snap.Decide(&t, nil, skyfence.Fix{TerminalID: t.ID, Time: pl.at, Lat: lat, Lon: lon, SpeedKmh: speed}).Allow
}

// allowsAt reports whether a terminal of behaviour b registered in
// country has service standing at the centre of city c.
func (pl *placer) allowsAt(b Behaviour, country string, c int32) bool {
	return pl.allows(b, country, pl.cities[c].Lat, pl.cities[c].Lon, 0)
}

// where returns the country at a position ("international" at sea
// outside every territorial sea), whether it is on land, and the policy's
// zones there.
func (pl *placer) where(lat, lon float64) (string, bool, []string) {
	t := skyfence.Terminal{ID: "probe", Plan: Residential.Plan(), Status: skyfence.Active}
	d := pl.snap.Decide(&t, nil, skyfence.Fix{TerminalID: t.ID, Time: pl.at, Lat: lat, Lon: lon})
	return d.Country, d.Land, d.Zones
}

// spotNear returns a position within a town's reach of city c (farther for
// bigger cities: 2 km for 1,000 inhabitants, 14 km for a million) where a
// terminal of behaviour b registered in the city's country has service,
// or failing that one within 100 m of the city's centre (which has
// service), or the centre itself.
func (pl *placer) spotNear(r *rand.Rand, c int32, b Behaviour) pt {
	city := &pl.cities[c]
	reach := 2 + 4*math.Log10(max(1, float64(city.Population)/1000))
	for k := range 6 {
		if k == 5 {
			reach = 0.1
		}
		lat, lon := offset(city.Lat, city.Lon, reach*math.Sqrt(r.Float64()), 360*r.Float64())
		if pl.allows(b, pl.country[c], lat, lon, 0) {
			return pt{float32(lat), float32(lon)}
		}
	}
	return pt{float32(city.Lat), float32(city.Lon)}
}

// trips says which cities a trip from a city may end at: between minKm
// and maxKm from it, and for which keep holds.
type trips struct {
	minKm, maxKm float64
	keep         func(from, to int32) bool
	land         bool // the straight road must run on land
}

// partner draws the end of a trip from city c by the rule, weighted by
// population among the towns (at least townPop) it allows. ok is false if
// none was found in a few tries. The towns each city allows are computed
// once per rule and city, and kept.
func (pl *placer) partner(r *rand.Rand, c int32, rule *trips) (int32, bool) {
	p := pl.partners(c, rule)
	if p.empty() {
		return 0, false
	}
	for range 6 {
		j := p.pick(r)
		if !rule.land || pl.onLand(c, j) {
			return j, true
		}
	}
	return 0, false
}

// partners returns the towns a trip from city c may end at by the rule.
func (pl *placer) partners(c int32, rule *trips) *picker {
	key := tripKey{rule, c}
	if v, ok := pl.cache.Load(key); ok {
		return v.(*picker)
	}
	p := new(picker)
	from := &pl.cities[c]
	pl.grid.near(from.Lat, from.Lon, rule.maxKm, func(j int32) {
		to := &pl.cities[j]
		if !rule.keep(c, j) {
			return
		}
		if d := distKm(from.Lat, from.Lon, to.Lat, to.Lon); d >= rule.minKm && d <= rule.maxKm {
			p.add(j, float64(to.Population))
		}
	})
	v, _ := pl.cache.LoadOrStore(key, p)
	return v.(*picker)
}

type tripKey struct {
	rule *trips
	city int32
}

// onLand reports whether the road from city a to city b stays on land at
// its quarter, half and three-quarter points.
func (pl *placer) onLand(a, b int32) bool {
	ca, cb := &pl.cities[a], &pl.cities[b]
	for _, f := range [...]float64{0.25, 0.5, 0.75} {
		lat, lon := along(ca.Lat, ca.Lon, cb.Lat, cb.Lon, f)
		if _, land, _ := pl.where(lat, lon); !land {
			return false
		}
	}
	return true
}

// citiesIn returns a picker over the cities of at least townPop that the
// atlas puts in one of countries.
func (pl *placer) citiesIn(countries []string) picker {
	var p picker
	for _, i := range pl.grid.all {
		if slices.Contains(countries, pl.country[i]) {
			p.add(i, float64(pl.cities[i].Population))
		}
	}
	return p
}

// cityGrid buckets cities by whole degrees of latitude and longitude.
type cityGrid struct {
	all   []int32
	cells map[[2]int16][]int32
}

func newCityGrid(cities []City, idx []int32) cityGrid {
	g := cityGrid{all: idx, cells: make(map[[2]int16][]int32)}
	for _, i := range idx {
		k := cellKey(cities[i].Lat, cities[i].Lon)
		g.cells[k] = append(g.cells[k], i)
	}
	return g
}

func cellKey(lat, lon float64) [2]int16 {
	return [2]int16{int16(math.Floor(lat)), int16(math.Floor(lon))}
}

// near calls fn with every city in the cells within km of (lat, lon): a
// superset of the cities within km, in a fixed order.
func (g *cityGrid) near(lat, lon, km float64, fn func(int32)) {
	dLat := int(math.Ceil(km/111)) + 1
	cos := math.Max(math.Cos(math.Min(89, math.Abs(lat)+float64(dLat))*rad), 0.02)
	dLon := min(int(math.Ceil(km/(111*cos)))+1, 179)
	k := cellKey(lat, lon)
	for y := int(k[0]) - dLat; y <= int(k[0])+dLat; y++ {
		for x := int(k[1]) - dLon; x <= int(k[1])+dLon; x++ {
			xx := (x+180+360)%360 - 180
			for _, i := range g.cells[[2]int16{int16(y), int16(xx)}] {
				fn(i)
			}
		}
	}
}
