package policy

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
)

// edit replaces one piece of the example policy.
type edit struct{ old, new string }

var (
	// The occupied zone without its no_service rule.
	dropOccupiedRule = edit{`  - id: occupied-no-service
    region: zone:occupied-ua
    description: No service in occupied territory, except humanitarian missions.
    no_service: true
    exempt: {groups: [humanitarian], terminals: [UT-ICRC-0001]}
`, ""}
	// No occupied zone at all.
	dropOccupiedRegion = edit{`  zone:occupied-ua:
    priority: 20
    note: Occupied territory; no service.
`, ""}
	// Taiwan available, with a licence.
	licenceTaiwan = edit{`  TW:
    status: coming_soon
    note: Foreign satellite operators are not licensed to serve Taiwan.
`, `  TW:
    status: available
    licence: {authority: NCC-TW, reference: NCC-TW/2026/1, valid_from: 2026-01-01}
`}
	embargoPoland = edit{`  PL:
    status: available
    licence: {authority: UKE, reference: UKE/2021/88, valid_from: 2021-06-01}
`, `  PL:
    status: embargoed
`}
	// A speed cap everywhere.
	capEverywhere = edit{`rules:
`, `rules:
  - id: cap-everywhere
    region: "*"
    speed_cap_kmh: 50
`}
)

// variant compiles the example policy with edits, and without the zones
// named in dropZones.
func variant(t testing.TB, edits []edit, dropZones ...string) *Snapshot {
	t.Helper()
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, e := range edits {
		if !strings.Contains(text, e.old) {
			t.Fatalf("the example policy no longer has %q", e.old)
		}
		text = strings.Replace(text, e.old, e.new, 1)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if len(dropZones) > 0 {
		var fc map[string]any
		if err := json.Unmarshal(zones, &fc); err != nil {
			t.Fatal(err)
		}
		fc["features"] = slices.DeleteFunc(fc["features"].([]any), func(f any) bool {
			return slices.Contains(dropZones, f.(map[string]any)["id"].(string))
		})
		if zones, err = json.Marshal(fc); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"policy.yaml": []byte(text), "zones.geojson": zones} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Load(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(src, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func input(t *skyfence.Terminal, lat, lon float64) ImpactInput {
	return ImpactInput{Terminal: t, Fix: skyfence.Fix{Time: now.Add(-time.Hour), Lat: lat, Lon: lon, SpeedKmh: 500}}
}

// handFleet is a small fleet whose every terminal has a known fate under
// a no_service rule for the occupied zone, Taiwan licensed and Poland
// embargoed (see TestImpactHandFleet).
func handFleet() []ImpactInput {
	civil := verifiedBy("UA-MOD", "UA", skyfence.Civil)
	military := verifiedBy("UA-MOD", "UA", skyfence.Military)
	aid := terminal("UT-D-AID", "roam", "UA", civil)
	aid.Groups = []string{"humanitarian"}
	suspended := terminal("UT-K-SUSP", "residential", "PL")
	suspended.Status = skyfence.Suspended
	return []ImpactInput{
		input(terminal("UT-A-CIVIL", "roam", "UA", civil), 48.0, 38.5),          // Donetsk: loses
		input(terminal("UT-B-MIL", "residential", "UA", military), 48.57, 39.3), // Luhansk: loses, listed first
		input(terminal("UT-C-UNVER", "roam", "UA"), 48.0, 38.5),                 // denied before and after, another reason
		input(aid, 48.0, 38.5), // exempt: keeps service
		input(terminal("UT-E-PL", "residential", "PL"), 52.23, 21.01),                          // Warsaw: loses
		input(terminal("UT-F-PLUA", "residential", "PL", civil), 52.23, 21.01),                 // loses, verified (for UA)
		input(terminal("UT-G-TW", "roam", "TW"), 25.03, 121.56),                                // Taipei: gains
		input(terminal("UT-H-DE", "roam", "DE"), 52.52, 13.40),                                 // Berlin: no change
		{Terminal: terminal("UT-I-NOFIX", "roam", "DE")},                                       // unlocated
		{Terminal: terminal("UT-J-BAD", "roam", "DE"), Fix: skyfence.Fix{Time: now, Lat: 200}}, // unlocated
		input(suspended, 52.23, 21.01),                                                         // denied before and after, same reason
	}
}

func TestImpactHandFleet(t *testing.T) {
	t.Parallel()
	old := variant(t, []edit{dropOccupiedRule})
	new := variant(t, []edit{licenceTaiwan, embargoPoland})
	rep := Impact(old, new, now, handFleet(), ImpactOptions{})

	got := [...]int{rep.Terminals, rep.Unlocated, rep.Decided, rep.AllowedBefore, rep.AllowedAfter,
		rep.Losses, rep.Gains, rep.ReasonChanges, rep.PriorityLosses}
	want := [...]int{11, 2, 9, 6, 3, 4, 1, 1, 3}
	if got != want {
		t.Errorf("terminals, unlocated, decided, allowed before, after, losses, gains, reason changes, priority losses\n got %v\nwant %v", got, want)
	}
	var lost []string
	for _, l := range rep.Lost {
		lost = append(lost, l.ID+" "+l.Class+" "+l.Reason.String())
	}
	wantLost := []string{
		"UT-B-MIL military no_service_zone",
		"UT-A-CIVIL civil no_service_zone",
		"UT-F-PLUA unverified region_embargoed", // verified for Ukraine, not Poland
		"UT-E-PL unverified region_embargoed",
	}
	if !slices.Equal(lost, wantLost) {
		t.Errorf("lost\n got %q\nwant %q", lost, wantLost)
	}
	if l := rep.Lost[0]; !l.Priority || !l.Verified || l.Rule != "occupied-no-service" || l.Region != "zone:occupied-ua" ||
		l.Country != "UA" || l.Registered != "UA" || l.Plan != "residential" || l.Lat != 48.57 {
		t.Errorf("first lost %+v", l)
	}
	if l := rep.Lost[3]; l.Priority || l.Verified {
		t.Errorf("an unverified residential terminal is listed as priority: %+v", l)
	}

	wantCountry := []ImpactCount{
		{Key: "UA", Name: "Ukraine", Terminals: 4, Losses: 2, ReasonChanges: 1},
		{Key: "PL", Name: "Poland", Terminals: 3, Losses: 2},
		{Key: "TW", Name: "Taiwan", Terminals: 1, Gains: 1},
		{Key: "DE", Name: "Germany", Terminals: 1},
	}
	if !reflect.DeepEqual(rep.ByCountry, wantCountry) {
		t.Errorf("by country\n got %+v\nwant %+v", rep.ByCountry, wantCountry)
	}
	wantPlan := []ImpactCount{
		{Key: "residential", Terminals: 4, Losses: 3},
		{Key: "roam", Terminals: 5, Losses: 1, Gains: 1, ReasonChanges: 1},
	}
	if !reflect.DeepEqual(rep.ByPlan, wantPlan) {
		t.Errorf("by plan\n got %+v\nwant %+v", rep.ByPlan, wantPlan)
	}
	wantClass := []ImpactCount{
		{Key: "military", Terminals: 1, Losses: 1},
		{Key: "government"},
		{Key: "civil", Terminals: 2, Losses: 1},
		{Key: "unverified", Terminals: 6, Losses: 2, Gains: 1, ReasonChanges: 1},
	}
	if !reflect.DeepEqual(rep.ByClass, wantClass) {
		t.Errorf("by class\n got %+v\nwant %+v", rep.ByClass, wantClass)
	}
	wantRule := []ImpactRule{
		{Reason: NoServiceZone, Rule: "occupied-no-service", Region: "zone:occupied-ua", Losses: 2, ReasonChanges: 1},
		{Reason: RegionEmbargoed, Rule: "status:PL", Region: "PL", Losses: 2},
		{Reason: RegionNotAvailable, Rule: "status:TW", Region: "TW", Gains: 1},
	}
	if !reflect.DeepEqual(rep.ByRule, wantRule) {
		t.Errorf("by rule\n got %+v\nwant %+v", rep.ByRule, wantRule)
	}
	if rep.Change == nil || len(rep.Change.Rules) != 1 || rep.Change.Rules[0].Name != "occupied-no-service" || rep.Change.Area.LostKm2 == 0 {
		t.Errorf("change %+v, want the rule added and an area lost", rep.Change)
	}
}

func TestImpactOptions(t *testing.T) {
	t.Parallel()
	old := variant(t, []edit{dropOccupiedRule})
	new := variant(t, []edit{licenceTaiwan, embargoPoland})
	fleet := handFleet()

	rep := Impact(old, new, now, fleet, ImpactOptions{ListLimit: 2, PriorityPlans: []string{"residential"}})
	if rep.PriorityLosses != 4 {
		t.Errorf("residential as a priority plan: %d priority losses, want 4", rep.PriorityLosses)
	}
	if len(rep.Lost) != 2 || rep.Lost[0].ID != "UT-B-MIL" || rep.Lost[1].ID != "UT-A-CIVIL" {
		t.Errorf("list limit 2: %+v", rep.Lost)
	}
	if rep := Impact(old, new, now, fleet, ImpactOptions{ListLimit: -1}); rep.Lost != nil || rep.Losses != 4 {
		t.Errorf("no list: %d listed of %d", len(rep.Lost), rep.Losses)
	}
	if rep := Impact(old, new, now, nil, ImpactOptions{Workers: 4}); rep.Terminals != 0 || rep.Lost != nil || rep.Change == nil {
		t.Errorf("no fleet: %+v", rep)
	}
	if rep := Impact(old, new, now, fleet, ImpactOptions{PriorityPlans: []string{}}); rep.PriorityLosses != 3 {
		t.Errorf("no priority plans: %d priority losses, want the 3 verified", rep.PriorityLosses)
	}

	// A new speed cap has no impact on terminals standing still, but does
	// at their last speed (500 km/h in every fix of the fleet).
	capped := variant(t, []edit{capEverywhere})
	if rep := Impact(scenario(t), capped, now, fleet, ImpactOptions{}); rep.Losses != 0 {
		t.Errorf("speed cap, standing still: %d losses, want 0", rep.Losses)
	}
	rep = Impact(scenario(t), capped, now, fleet, ImpactOptions{KeepSpeed: true})
	if rep.Losses != 0 || rep.ReasonChanges != 0 {
		// At 500 km/h every plan but aviation is over its own cap
		// already; nothing in the fleet is allowed before.
		t.Errorf("speed cap at 500 km/h: %d losses, %d reason changes, want none", rep.Losses, rep.ReasonChanges)
	}
	fast := slices.Clone(fleet)
	for i := range fast {
		fast[i].Fix.SpeedKmh = 8
	}
	cap8 := variant(t, []edit{{capEverywhere.old, strings.Replace(capEverywhere.new, "50", "5", 1)}})
	if rep := Impact(scenario(t), cap8, now, fast, ImpactOptions{KeepSpeed: true}); rep.Losses != 3 || rep.ByRule[0].Rule != "cap-everywhere" {
		// Ukraine's own cap of 75 km/h comes before the one everywhere.
		t.Errorf("cap of 5 km/h at 8 km/h: %d losses (%+v), want Berlin and the two in Warsaw", rep.Losses, rep.ByRule)
	}
}

// TestImpactGainsWhenCountryOpens: every terminal in Taiwan gains when it
// becomes available, and the change says so.
func TestImpactGainsWhenCountryOpens(t *testing.T) {
	t.Parallel()
	old, new := scenario(t), variant(t, []edit{licenceTaiwan})
	var fleet []ImpactInput
	for i, plan := range []string{"residential", "roam", "maritime", "aviation"} {
		fleet = append(fleet, input(terminal("UT-TW-"+plan, plan, "TW"), 25.03+float64(i)*0.01, 121.56))
	}
	fleet = append(fleet, input(terminal("UT-TW-sponsored", "sponsored", "TW"), 25.03, 121.56))
	rep := Impact(old, new, now, fleet, ImpactOptions{})
	if rep.Gains != 4 || rep.Losses != 0 || rep.ReasonChanges != 1 || rep.AllowedBefore != 0 || rep.AllowedAfter != 4 {
		t.Errorf("gains %d, losses %d, reason changes %d, allowed %d -> %d; want 4, 0, 1 (sponsored: now the plan), 0 -> 4",
			rep.Gains, rep.Losses, rep.ReasonChanges, rep.AllowedBefore, rep.AllowedAfter)
	}
	if len(rep.Change.Statuses) != 1 || rep.Change.Statuses[0].Region != "TW" || rep.Change.Area.GainedKm2 < 30000 {
		t.Errorf("change: %+v", rep.Change)
	}
}

// randomFleet makes n terminals, a third of them in and around Ukraine and
// Taiwan, with mixed plans, statuses and verifications, and a few without
// a position.
func randomFleet(t testing.TB, s *Snapshot, n int) []ImpactInput {
	ts, fs := fleet(t, s, n)
	rng := rand.New(rand.NewPCG(7, 8))
	in := make([]ImpactInput, n)
	for i := range in {
		f := fs[i]
		switch i % 6 {
		case 0:
			f.Lat, f.Lon = 44+rng.Float64()*8.5, 22+rng.Float64()*18.5
		case 1:
			f.Lat, f.Lon = 21.8+rng.Float64()*3.6, 119.5+rng.Float64()*2.6
		}
		switch rng.IntN(50) {
		case 0:
			f = skyfence.Fix{}
		case 1:
			ts[i].Status = skyfence.Suspended
		case 2:
			ts[i] = nil
		}
		in[i] = ImpactInput{Terminal: ts[i], Fix: f}
		if i%5 == 0 {
			in[i].Track = &Track{AbroadDay: dayOf16(dayNumber(now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)))}
		}
	}
	return in
}

// TestImpactMatchesDecide checks the counts against Decide, terminal by
// terminal, for a change of statuses (one lookup serves both policies), of
// zones (each policy looks up its own) and of atlas (each locates with its
// own), and that the report does not depend on the number of workers.
func TestImpactMatchesDecide(t *testing.T) {
	t.Parallel()
	old := scenario(t)
	coarse, err := world.Load(world.Res110m)
	if err != nil {
		t.Fatal(err)
	}
	a110, err := atlas.New(coarse, geoindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old110, err := Compile(old.Source, a110)
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string][2]*Snapshot{
		"statuses":     {old, variant(t, []edit{licenceTaiwan, embargoPoland})},
		"zone removed": {old, variant(t, []edit{dropOccupiedRule, dropOccupiedRegion}, "occupied-ua")},
		"atlas":        {old110, variant(t, []edit{licenceTaiwan})},
	}
	fleet := randomFleet(t, old, 20000)
	for name, pair := range pairs {
		old, new := pair[0], pair[1]
		t.Run(name, func(t *testing.T) {
			var gains, losses, changes, unlocated int
			for _, in := range fleet {
				if !located(&in.Fix) {
					unlocated++
					continue
				}
				f := in.Fix
				f.Time, f.SpeedKmh = now, 0
				do, dn := old.Decide(in.Terminal, in.Track, f), new.Decide(in.Terminal, in.Track, f)
				switch {
				case !do.Allow && dn.Allow:
					gains++
				case do.Allow && !dn.Allow:
					losses++
				case !do.Allow && !dn.Allow && do.Reason != dn.Reason:
					changes++
				}
			}
			rep := Impact(old, new, now, fleet, ImpactOptions{Workers: 1})
			if rep.Gains != gains || rep.Losses != losses || rep.ReasonChanges != changes || rep.Unlocated != unlocated {
				t.Errorf("gains %d, losses %d, reason changes %d, unlocated %d; Decide says %d, %d, %d, %d",
					rep.Gains, rep.Losses, rep.ReasonChanges, rep.Unlocated, gains, losses, changes, unlocated)
			}
			if losses+gains+changes < 100 {
				t.Errorf("the fleet shows too little: %d losses, %d gains, %d reason changes", losses, gains, changes)
			}
			one, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []int{2, 3, 7} {
				more, _ := json.Marshal(Impact(old, new, now, fleet, ImpactOptions{Workers: w}))
				if string(more) != string(one) {
					t.Errorf("%d workers give another report than one", w)
				}
			}
		})
	}
}

// TestImpactAllocations: the work per terminal allocates nothing, so a
// fleet ten times larger allocates no more (once its lost terminals fill
// the list).
func TestImpactAllocations(t *testing.T) {
	old := scenario(t)
	new := variant(t, []edit{licenceTaiwan, embargoPoland})
	fleet := randomFleet(t, old, 50000)
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(3, func() { Impact(old, new, now, fleet[:n], ImpactOptions{Workers: 2}) })
	}
	small, large := allocs(5000), allocs(50000)
	if large > small+20 {
		t.Errorf("%v allocations for 5,000 terminals, %v for 50,000: the work per terminal allocates", small, large)
	}
}

func TestImpactText(t *testing.T) {
	t.Parallel()
	old := variant(t, []edit{dropOccupiedRule})
	new := variant(t, []edit{licenceTaiwan, embargoPoland})
	text := Impact(old, new, now, handFleet(), ImpactOptions{}).Text()
	for _, want := range []string{
		"terminals:        11 (9 decided, 2 unlocated",
		"allowed:          6 -> 3",
		"lose service:     4 (3 verified or on a priority plan: sponsored)",
		"gain service:     1\n",
		"  PL Poland                               3          2          0          0\n",
		"no_service_zone by occupied-no-service (zone:occupied-ua)",
		"* UT-B-MIL ",
		"\npolicy sha256:",
		"+ occupied-no-service (zone:occupied-ua)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "UT-B-MIL") > strings.Index(text, "UT-E-PL") {
		t.Errorf("the military terminal is not listed before the others:\n%s", text)
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10_000_000: "10,000,000", 123456: "123,456"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSameRegions(t *testing.T) {
	t.Parallel()
	old := scenario(t)
	a := old.Atlas()
	ua, _ := a.Lookup("UA")
	tw, _ := a.Lookup("TW")
	intl := len(a.Countries())

	// Licensing Taiwan moves every later line of the file: positions do
	// not count.
	sr := newSameRegions(old, variant(t, []edit{licenceTaiwan}))
	if !sr.global || !sr.country[ua] || sr.country[tw] || !sr.country[intl] {
		t.Errorf("Taiwan licensed: global %v, UA %v, TW %v, international %v; want true, true, false, true",
			sr.global, sr.country[ua], sr.country[tw], sr.country[intl])
	}
	for k := range sr.zones {
		for id, c := range sr.zones[k] {
			if c <= 0 {
				t.Errorf("Taiwan licensed: zone set %d of side %d has class %d", id, k, c)
			}
		}
	}
	if sr := newSameRegions(old, variant(t, []edit{capEverywhere})); sr.global {
		t.Error("a new rule for everywhere: global still alike")
	}

	// Without the occupied zone, sets that hold it differ; the others
	// match those of the same zones on the other side.
	sr = newSameRegions(old, variant(t, []edit{dropOccupiedRule, dropOccupiedRegion}, "occupied-ua"))
	for id, rs := range old.zoneRegions {
		holds := slices.ContainsFunc(rs, func(r *regionRules) bool { return r.name == "zone:occupied-ua" })
		if c := sr.zones[0][id]; holds != (c < 0) {
			t.Errorf("zone set %v: class %d", old.zoneIDs[id], c)
		}
	}
	if c := sr.zones[0][0]; c <= 0 || c != sr.zones[1][0] {
		t.Errorf("no zones: classes %d and %d, want one", c, sr.zones[1][0])
	}
}

func TestAlike(t *testing.T) {
	cap1, cap2, nan := 40.0, 40.0, math.NaN()
	tests := []struct {
		name string
		a, b Rule
		want bool
	}{
		{"positions differ", Rule{ID: "r", Pos: Pos{1, 1}}, Rule{ID: "r", Pos: Pos{9, 3}}, true},
		{"equal caps behind pointers", Rule{SpeedCapKmh: &cap1}, Rule{SpeedCapKmh: &cap2}, true},
		{"NaN", Rule{SpeedCapKmh: &nan}, Rule{SpeedCapKmh: &nan}, true}, // the same pointer
		{"caps differ", Rule{SpeedCapKmh: &cap1}, Rule{SpeedCapKmh: new(50.0)}, false},
		{"no plans allowed or no rule on plans", Rule{AllowedPlans: []string{}}, Rule{}, false},
		{"times", Rule{From: now}, Rule{From: now.Add(time.Second)}, false},
		{"exemptions", Rule{Exempt: Exemptions{Classes: []skyfence.VerificationClass{skyfence.Military}}}, Rule{}, false},
	}
	for _, tc := range tests {
		if got := alike(&tc.a, &tc.b); got != tc.want {
			t.Errorf("%s: alike %v, want %v", tc.name, got, tc.want)
		}
	}
	if alike(math.NaN(), math.NaN()) {
		t.Error("NaN is alike")
	}
	if !alike(map[string]bool{"a": true}, map[string]bool{"a": true}) || alike(map[string]bool{"a": true}, map[string]bool{"b": true}) {
		t.Error("maps")
	}
}
