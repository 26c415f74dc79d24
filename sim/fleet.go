package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// Config says what fleet Generate makes. Zero fields take their defaults;
// Policy is required.
type Config struct {
	// Terminals is the size of the fleet; default 100,000.
	Terminals int
	// Seed makes the fleet: the same seed (and the rest of the Config)
	// gives the same fleet and the same fixes. Zero is a seed like any
	// other.
	Seed uint64
	// Start is the simulated time of the first fix; default
	// 2026-06-15T00:00:00Z.
	Start time.Time
	// Duration is the span in which bad actors turn bad: each one's bad
	// behaviour starts at a time drawn uniformly between a tenth and a half
	// of it after Start, so that a run of Duration sees both sides;
	// default 30 minutes.
	Duration time.Duration
	// Interval is how often every terminal reports, in whole seconds;
	// default 15 s.
	Interval time.Duration
	// Mix is the share of each behaviour; DefaultMix if all zero.
	Mix Mix
	// Policy decides where service is available: homes and fixed
	// terminals are placed only where a terminal of their kind has
	// service at Start.
	Policy *policy.Snapshot
	// Cities to place terminals at; the embedded ones (Cities) if nil.
	Cities []City
	// Authorities name, by country, the partner authority that verifies
	// the terminals registered there; default {"UA": "UA-MOD"}, as the
	// scenario policy requires.
	Authorities map[string]string
	// SponsorCountry is where sponsored terminals are; default "UA".
	SponsorCountry string
	// SmuggleFrom are the countries smuggled terminals are bought and
	// registered in; default PL, KZ and AE.
	SmuggleFrom []string
	// Front is the front line, a polyline of (lat, lon) near which drones
	// fly and smuggled terminals appear; default ScenarioFront.
	Front [][2]float64
	// CloneGroup is how many spoofers report one cloned position;
	// default 25.
	CloneGroup int
	// Confounders adds what honest terminals meet in the real world and
	// bad actors that adapt to the detectors: the fleet is drawn from
	// ConfounderMix (unless Mix is set), Interference GNSS interference
	// events happen, and every terminal on land reports an altitude above
	// sea level (its ground's, with GPS noise, and a drone's height above
	// it) instead of 0.
	Confounders bool
	// Interference is how many GNSS interference events the run sees
	// (InterferenceEvent); default 6 with Confounders, else none.
	Interference int
	// Cells makes every fix carry its serving cell, as a gateway reports
	// it: the capacity cell (skyfence.CellOf) of the terminal's true
	// position, whatever position the terminal claims.
	Cells bool
	// CrowdSize is how many terminals share a crowded site; default 40.
	CrowdSize int
}

// ScenarioFront is the western edge of the scenario policy's occupied-ua
// zone, north to south, as (lat, lon): the front line, drawn as roughly.
var ScenarioFront = [][2]float64{
	{50.1, 37.85}, {49.9, 37.7}, {49.7, 37.75}, {49.4, 37.9}, {49.1, 37.85}, {48.9, 37.95}, {48.6, 38.0},
	{48.35, 37.95}, {48.1, 37.65}, {47.95, 37.45}, {47.8, 37.2}, {47.85, 36.85}, {47.7, 36.4}, {47.55, 36.0},
	{47.45, 35.8}, {47.45, 35.3}, {47.5, 34.8}, {47.55, 34.4}, {47.25, 34.0}, {46.9, 33.6}, {46.75, 33.2},
	{46.62, 32.8}, {46.55, 32.45}, {46.48, 32.2},
}

func (c *Config) defaults() error {
	c.Terminals = cmpOr(c.Terminals, 100_000)
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Minute
	}
	if c.Interval == 0 {
		c.Interval = 15 * time.Second
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
		if c.Confounders {
			c.Mix = ConfounderMix
		}
	}
	if c.Interference == 0 && c.Confounders {
		c.Interference = 6
	}
	c.CrowdSize = cmpOr(c.CrowdSize, 40)
	if c.Authorities == nil {
		c.Authorities = map[string]string{"UA": "UA-MOD"}
	}
	if c.SponsorCountry == "" {
		c.SponsorCountry = "UA"
	}
	if c.SmuggleFrom == nil {
		c.SmuggleFrom = []string{"PL", "KZ", "AE"}
	}
	if c.Front == nil {
		c.Front = ScenarioFront
	}
	c.CloneGroup = cmpOr(c.CloneGroup, 25)
	switch {
	case c.Policy == nil:
		return errors.New("sim: Config.Policy is required")
	case c.Terminals < 0 || c.Terminals > MaxTerminals:
		return fmt.Errorf("sim: %d terminals: want 1 to %d", c.Terminals, MaxTerminals)
	case c.Interval < time.Second || c.Interval%time.Second != 0:
		return fmt.Errorf("sim: interval %v: want whole seconds", c.Interval)
	case c.Duration < 0:
		return fmt.Errorf("sim: negative duration %v", c.Duration)
	case len(c.Front) < 2:
		return errors.New("sim: the front needs two points at least")
	case c.Interference < 0 || c.Interference > maxInterference:
		return fmt.Errorf("sim: %d interference events: want 0 to %d", c.Interference, maxInterference)
	}
	return nil
}

// MaxTerminals is the largest fleet Generate makes.
const MaxTerminals = 50_000_000

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Fleet is a simulated fleet: every terminal's registry record, behaviour
// and label, and its fixes at any time, computed from a few numbers per
// terminal (60 bytes) rather than stored. It is immutable and safe for
// concurrent use.
type Fleet struct {
	start    time.Time
	interval int64 // seconds
	units    []unit
	ids      string // every id, idWidth bytes each
	idWidth  int
	homes    []string // registered countries, by unit.home
	lanes    []lane
	clones   []pt // cloned position of each spoof-clone group
	jumps    []pt // where spoof-jumpers pretend to be
	front    []pt // the front line
	sites    []pt // crowded sites
	events   []event
	cells    bool // fixes carry their serving cell
	ground   bool // terminals on land report their ground's altitude
	auth     map[string]string
	verAt    time.Time
	counts   [NumBehaviours]int
}

// unit is one terminal: its behaviour and the parameters of its motion.
// Where a field's meaning depends on the behaviour, the package doc and
// fixAt say how.
type unit struct {
	a, b  pt      // home (or base, or start) and the other end (or the spot it turns up at)
	c     pt      // a spoofer's claimed spot: where a spoof-track's track starts, a spoof-clone's cloned position
	km    float32 // length of the path from a to b
	speed float32 // km/h when moving
	phase float32 // seconds into its cycle at Start
	dwell float32 // seconds at each end of the path
	alt   float32 // cruising altitude in metres
	bad   int32   // seconds after Start when bad behaviour starts; -1 never
	seed  uint32  // of the terminal's own randomness at fix time
	home  uint16  // registered country, in Fleet.homes
	lane  uint16  // ship's lane, spoof-clone group, or crowded site
	kind  Behaviour
	class uint8 // 0 unverified, else 1 + the VerificationClass of its authority's verification
}

// IDPrefix starts the id of every simulated terminal.
const IDPrefix = "sim-"

// Account is the account every simulated terminal belongs to.
const Account = "sim"

// Generate makes a fleet. It fails if the config is invalid or a
// behaviour of the mix has nowhere to go under the policy (no city with
// service, no front line).
func Generate(cfg Config) (*Fleet, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	cities := cfg.Cities
	if cities == nil {
		var err error
		if cities, err = Cities(); err != nil {
			return nil, err
		}
	}
	counts, err := cfg.Mix.counts(cfg.Terminals)
	if err != nil {
		return nil, err
	}
	pl := newPlacer(cfg.Policy, cities, cfg.Start, cfg.Authorities)
	f := &Fleet{
		start: cfg.Start, interval: int64(cfg.Interval / time.Second), units: make([]unit, cfg.Terminals),
		lanes: newLanes(), auth: cfg.Authorities, verAt: pl.verAt, counts: counts, cells: cfg.Cells, ground: cfg.Confounders,
		idWidth: len(IDPrefix) + len(strconv.Itoa(max(cfg.Terminals-1, 0))),
	}
	for _, p := range cfg.Front {
		f.front = append(f.front, pt{float32(p[0]), float32(p[1])})
	}
	for _, c := range pl.big {
		f.jumps = append(f.jumps, pt{float32(cities[c].Lat), float32(cities[c].Lon)})
	}
	f.ids = makeIDs(cfg.Terminals, f.idWidth)
	g, err := newGen(f, pl, &cfg, counts)
	if err != nil {
		return nil, err
	}
	kinds := shuffledKinds(counts, cfg.Seed)
	group := make([]uint16, len(kinds)) // spoof-clone group or crowded site of each terminal
	clones, crowds := 0, 0
	for i, b := range kinds {
		switch b {
		case SpoofClone:
			group[i] = uint16(clones / cfg.CloneGroup)
			clones++
		case Crowd:
			group[i] = uint16(crowds / cfg.CrowdSize)
			crowds++
		}
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var src rand.PCG
			r := rand.New(&src)
			for i := w; i < len(kinds); i += workers {
				src.Seed(cfg.Seed, uint64(i)|1<<40)
				f.units[i] = g.unit(r, kinds[i], group[i])
			}
		})
	}
	wg.Wait()
	f.homes = g.homes
	return f, nil
}

// makeIDs returns the ids of n terminals, each width bytes: IDPrefix and
// the index, zero-padded.
func makeIDs(n, width int) string {
	var b strings.Builder
	b.Grow(n * width)
	digits := width - len(IDPrefix)
	for i := range n {
		s := strconv.Itoa(i)
		b.WriteString(IDPrefix)
		b.WriteString(strings.Repeat("0", digits-len(s)))
		b.WriteString(s)
	}
	return b.String()
}

// shuffledKinds lays out counts[b] terminals of each behaviour b in an
// order drawn from seed.
func shuffledKinds(counts [NumBehaviours]int, seed uint64) []Behaviour {
	var kinds []Behaviour
	for b, n := range counts {
		for range n {
			kinds = append(kinds, Behaviour(b))
		}
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	return kinds
}

// Len returns the number of terminals.
func (f *Fleet) Len() int { return len(f.units) }

// Start returns the time of the first fix.
func (f *Fleet) Start() time.Time { return f.start }

// Interval returns how often each terminal reports.
func (f *Fleet) Interval() time.Duration { return time.Duration(f.interval) * time.Second }

// Counts returns how many terminals of each behaviour the fleet has.
func (f *Fleet) Counts() [NumBehaviours]int { return f.counts }

// ID returns terminal i's id: IDPrefix and i, zero-padded to the width of
// the largest index. It does not allocate.
func (f *Fleet) ID(i int) string { return f.ids[i*f.idWidth : (i+1)*f.idWidth] }

// Index returns the index of the terminal with the id, if it is one of
// the fleet's.
func (f *Fleet) Index(id string) (int, bool) {
	if len(id) != f.idWidth || !strings.HasPrefix(id, IDPrefix) {
		return 0, false
	}
	i, err := strconv.Atoi(id[len(IDPrefix):])
	if err != nil || i < 0 || i >= len(f.units) {
		return 0, false
	}
	return i, true
}

// Behaviour returns terminal i's behaviour.
func (f *Fleet) Behaviour(i int) Behaviour { return f.units[i].kind }

// Terminal returns terminal i's registry record, new at each call: active,
// on its behaviour's plan, registered in its home country, and verified by
// that country's authority if it has one (see Config.Authorities).
func (f *Fleet) Terminal(i int) *skyfence.Terminal {
	u := &f.units[i]
	t := &skyfence.Terminal{ID: f.ID(i), AccountID: Account, Plan: u.kind.Plan(), Country: f.homes[u.home], Status: skyfence.Active}
	if u.class > 0 {
		t.Verifications = []skyfence.Verification{{Region: t.Country, Authority: f.auth[t.Country],
			Class: skyfence.VerificationClass(u.class - 1), VerifiedAt: f.verAt}}
	}
	return t
}

// Label is the truth about one terminal, for scoring detection.
type Label struct {
	ID        string
	Behaviour Behaviour
	// Bad is true for a bad actor, and BadFrom the time its bad
	// behaviour starts (zero for the others).
	Bad     bool
	BadFrom time.Time
	Plan    string
	Country string // registered
}

// Label returns terminal i's label.
func (f *Fleet) Label(i int) Label {
	u := &f.units[i]
	l := Label{ID: f.ID(i), Behaviour: u.kind, Bad: u.kind.Bad(), Plan: u.kind.Plan(), Country: f.homes[u.home]}
	if u.bad >= 0 {
		l.BadFrom = f.start.Add(time.Duration(u.bad) * time.Second)
	}
	return l
}

// hash01 returns a number in [0, 1) drawn from a seed and a counter: the
// randomness of a terminal at fix time, without state.
func hash01(seed uint32, k uint64) float64 {
	x := uint64(seed)<<32 ^ k*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// uniform returns a number drawn uniformly in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// Home returns terminal i's home, as (lat, lon): where it was bought and
// registered, and where it would be activated. That is where a fixed
// terminal is, where a traveller, vehicle or airliner sets out from, the
// anchorage a ship's lane starts at, a drone's base, a smuggled terminal's
// town, a spoof-jumper's own position, and the town a spoof-clone's group
// pretends to be in.
func (f *Fleet) Home(i int) [2]float64 {
	u := &f.units[i]
	p := u.a
	if u.kind == SpoofClone {
		p = f.clones[u.lane]
	}
	lat, lon := p.f64()
	return [2]float64{lat, lon}
}

// At returns the fleet with its simulated clock started at start instead:
// the same terminals making the same motions, each bad actor turning bad as
// long after start as before. (Where terminals were placed was decided
// with the policy at the original start.) A replay into a server whose
// verifications are dated as they are recorded starts the fleet after it
// has registered it.
func (f *Fleet) At(start time.Time) *Fleet {
	g := *f
	g.start = start
	return &g
}
