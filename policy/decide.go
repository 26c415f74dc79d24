package policy

import (
	"math"
	"slices"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
)

// Decision is the verdict for one fix: allow or deny, why, and by which
// rule. The zero value denies.
type Decision struct {
	Allow  bool   `json:"allow"`
	Reason Reason `json:"reason"`
	// Rule names what decided: a rule id, "status:XX" or "licence:XX" for a
	// region's status, "default_status", "plan:NAME" for a plan's speed
	// cap, "terminal" for the terminal's own status (or an unknown terminal
	// where no region says what to do with one), "unknown_terminal:XX" for
	// region XX's unknown_terminal setting (also when it allowed),
	// "without_cell:XX" for country XX's without_cell setting,
	// "position" for an invalid position, "" when everything allowed.
	Rule string `json:"rule"`
	// Region is the region of the deciding rule, if any.
	Region string `json:"region,omitempty"`
	// Country is the country or territory at the position (land or
	// territorial sea), or "international"; "" if the position was not
	// located (see Located).
	Country string `json:"country"`
	// CountryIndex is Country's index in the atlas, or atlas.None.
	CountryIndex int `json:"-"`
	// Land is true on land, false at sea.
	Land bool `json:"land"`
	// Zones are the custom zones at the position, sorted. Shared: do not
	// modify.
	Zones []string `json:"zones"`
	// SpeedKmh is the speed the decision used: reported, or derived from
	// the track beyond what position errors explain (Track.derivedSpeed).
	SpeedKmh float64 `json:"speed_kmh"`
	// ExemptRule and ExemptBy name the last exemption that lifted a rule
	// that would have denied: the rule and the kind of exemption (class,
	// plan, terminal, group).
	ExemptRule string `json:"exempt_rule,omitempty"`
	ExemptBy   string `json:"exempt_by,omitempty"`
	// PolicyVersion is the version of the snapshot that decided.
	PolicyVersion string `json:"policy_version"`
	// Located is true if the position was located (Country, Land and Zones
	// are set); decisions on the terminal's status or an invalid position
	// do not locate, nor do those on an unknown terminal unless a region of
	// the policy allows unknown terminals.
	Located bool `json:"located"`
}

// Message returns the decision in words the terminal's owner can read.
func (d *Decision) Message() string { return d.Reason.Message() }

// eval is the state of one decision.
type eval struct {
	s     *Snapshot
	t     *skyfence.Terminal
	tr    *Track
	f     *skyfence.Fix
	d     *Decision
	place atlas.Place
}

// Decide decides whether terminal t may have service at fix f, given the
// terminal's track tr (its previous fix and usage; nil for none). The same
// inputs always give the same decision. It does not change tr: call
// tr.Observe with the decision to record the fix.
//
// Checks run in this order and the first that denies decides: the
// position, the terminal's own status, then the aspects service (statuses
// and no_service rules), verification, plans, speed (regions' caps, then
// the plan's), roaming and coastal. For each aspect, the regions at the
// position are taken by priority, highest first; the first priority level
// at which a region says something about the aspect decides it, and within
// a level deny wins over allow. A rule whose time window does not hold, or
// from which the terminal is exempt, says nothing.
func (s *Snapshot) Decide(t *skyfence.Terminal, tr *Track, f skyfence.Fix) Decision {
	d, done := s.precheck(t, &f)
	if done {
		return d
	}
	place, _ := s.atlas.Locate(f.Lon, f.Lat)
	var zs geoindex.SetID
	if s.zoneIndex != nil {
		zs, _ = s.zoneIndex.Lookup(f.Lon, f.Lat)
	}
	s.decideAt(&d, t, tr, &f, place, zs)
	return d
}

// batchChunk is how many fixes DecideBatch locates together.
const batchChunk = 64

// Location is where a fix is, as Decide needs it: its place in the atlas
// and the set of zones containing it.
type Location struct {
	Place atlas.Place
	Zones geoindex.SetID
}

// Locate locates fixes into out (as long as fs), faster per fix than one at a
// time by overlapping the index lookups. Invalid positions get a Location
// that DecideAt never uses (it denies them first).
func (s *Snapshot) Locate(fs []skyfence.Fix, out []Location) {
	var pts [batchChunk]geoindex.Point
	var places [batchChunk]atlas.Place
	var ids, zs [batchChunk]geoindex.SetID
	for base := 0; base < len(fs); base += batchChunk {
		n := min(batchChunk, len(fs)-base)
		for i := 0; i < n; i++ {
			pts[i] = geoindex.Point{Lon: fs[base+i].Lon, Lat: fs[base+i].Lat}
		}
		_ = s.atlas.LocateBatch(pts[:n], places[:n], ids[:n])
		if s.zoneIndex != nil {
			_ = s.zoneIndex.LookupBatch(pts[:n], zs[:n])
		}
		for i := 0; i < n; i++ {
			z := zs[i]
			if z == geoindex.NoSet {
				z = 0
			}
			out[base+i] = Location{Place: places[i], Zones: z}
		}
	}
}

// DecideAt is Decide for a fix already located by Locate.
func (s *Snapshot) DecideAt(t *skyfence.Terminal, tr *Track, f skyfence.Fix, loc Location) Decision {
	d, done := s.precheck(t, &f)
	if !done {
		s.decideAt(&d, t, tr, &f, loc.Place, loc.Zones)
	}
	return d
}

// DecideBatch decides fs[i] for terminal ts[i] with track trs[i] (trs may
// be nil, or hold nil tracks) into out[i], which must be as long as fs. It
// gives the same decisions as Decide, faster, by locating the fixes
// together; like Decide it does not allocate and does not change the
// tracks.
func (s *Snapshot) DecideBatch(ts []*skyfence.Terminal, trs []*Track, fs []skyfence.Fix, out []Decision) {
	var locs [batchChunk]Location
	for base := 0; base < len(fs); base += batchChunk {
		n := min(batchChunk, len(fs)-base)
		s.Locate(fs[base:base+n], locs[:n])
		for i := 0; i < n; i++ {
			var tr *Track
			if trs != nil {
				tr = trs[base+i]
			}
			out[base+i] = s.DecideAt(ts[base+i], tr, fs[base+i], locs[i])
		}
	}
}

// precheck starts a decision and settles it if the fix or the terminal's
// own status decides.
func (s *Snapshot) precheck(t *skyfence.Terminal, f *skyfence.Fix) (Decision, bool) {
	d := Decision{PolicyVersion: s.Version, CountryIndex: atlas.None, Zones: s.zoneIDs[0], SpeedKmh: f.SpeedKmh}
	deny := func(r Reason, rule string) (Decision, bool) {
		d.Reason, d.Rule, d.SpeedKmh = r, rule, max(d.SpeedKmh, 0)
		return d, true
	}
	if !(f.Lat >= -90 && f.Lat <= 90 && f.Lon >= -180 && f.Lon <= 180) || f.Time.IsZero() || math.IsNaN(f.SpeedKmh) || math.IsInf(f.SpeedKmh, 0) {
		return deny(PositionInvalid, "position")
	}
	switch {
	case t == nil && !s.failOpen:
		return deny(UnknownTerminal, "terminal")
	case t == nil:
		return d, false // the regions at the position say (decideAt)
	case t.Status == skyfence.Deactivated:
		return deny(TerminalDeactivated, "terminal")
	case t.Status == skyfence.Suspended:
		return deny(TerminalSuspended, "terminal")
	case t.Status != skyfence.Active:
		return deny(TerminalInactive, "terminal")
	}
	return d, false
}

// decideAt finishes a decision for a located fix, by its claimed position
// and, where the claimed country or international says so (Region.Position), by its serving
// cell: when the claim lies outside the cell, the fix is also (both) or
// instead (network) decided at each distinct place among the cell's sample
// points, and the first of those that denies decides, as network_position.
func (s *Snapshot) decideAt(d *Decision, t *skyfence.Terminal, tr *Track, f *skyfence.Fix, place atlas.Place, zs geoindex.SetID) {
	claimed := s.international
	if place.Country != atlas.None {
		claimed = s.countries[place.Country]
	}
	if !s.network || claimed.position == "" {
		s.decideHere(d, t, tr, f, place, zs)
		return
	}
	row, col, ok := parseCell(f.ServingCell)
	if !ok {
		s.decideHere(d, t, tr, f, place, zs)
		if claimed.withoutCell && d.Allow {
			d.Allow, d.Reason, d.Rule, d.Region = false, CellUnknown, claimed.cellRule, claimed.name
		}
		return
	}
	if r, c := cellIndex(f.Lat, f.Lon); r == row && c == col {
		s.decideHere(d, t, tr, f, place, zs) // the cell holds the claim: nothing to add
		return
	}
	base := *d
	if claimed.position == PositionBoth {
		if s.decideHere(d, t, tr, f, place, zs); !d.Allow {
			return
		}
	}
	minLat := float64(row)*skyfence.CellDegrees - 90
	minLon := float64(col)*skyfence.CellDegrees - 180
	var seen [cellSamples]Location
	n := 0
	for i := range cellSamples {
		// The centre first, then a grid over the cell, edges included.
		k := (i + cellSamples/2) % cellSamples
		lat := minLat + cellFrac(k/cellSide)*skyfence.CellDegrees
		lon := minLon + cellFrac(k%cellSide)*skyfence.CellDegrees
		var loc Location
		loc.Place, _ = s.atlas.Locate(lon, lat)
		if s.zoneIndex != nil {
			if z, err := s.zoneIndex.Lookup(lon, lat); err == nil && z != geoindex.NoSet {
				loc.Zones = z
			}
		}
		if slices.Contains(seen[:n], loc) {
			continue
		}
		seen[n] = loc
		n++
		c := base
		s.decideHere(&c, t, tr, f, loc.Place, loc.Zones)
		if !c.Allow {
			c.Reason = NetworkPosition
			*d = c
			return
		}
		if n == 1 && claimed.position == PositionNetwork {
			*d = c
		}
	}
}

// The cell's sample points: a cellSide x cellSide grid over the cell.
const (
	cellSide    = 5
	cellSamples = cellSide * cellSide
)

// cellFrac is how far across the cell sample row or column k lies: from
// just inside one edge to just inside the other.
func cellFrac(k int) float64 {
	const inside = 1e-9
	return min(max(float64(k)/(cellSide-1), inside), 1-inside)
}

// cellIndex is the row and column of the capacity cell holding a position,
// as skyfence.CellOf names it.
func cellIndex(lat, lon float64) (row, col int) {
	rows, cols := int(180/skyfence.CellDegrees), int(360/skyfence.CellDegrees)
	if lon == 180 {
		lon = -180
	}
	row = max(min(int(math.Floor((lat+90)/skyfence.CellDegrees)), rows-1), 0)
	col = max(min(int(math.Floor((lon+180)/skyfence.CellDegrees)), cols-1), 0)
	return row, col
}

// parseCell parses a cell id of skyfence.CellOf ("c" row "." column, in
// the canonical form CellOf writes) without allocating.
func parseCell(id string) (row, col int, ok bool) {
	if len(id) < 4 || id[0] != 'c' {
		return 0, 0, false
	}
	row, rest, ok := cellNumber(id[1:])
	if !ok || len(rest) < 2 || rest[0] != '.' {
		return 0, 0, false
	}
	col, rest, ok = cellNumber(rest[1:])
	if !ok || rest != "" || row >= int(180/skyfence.CellDegrees) || col >= int(360/skyfence.CellDegrees) {
		return 0, 0, false
	}
	return row, col, true
}

// cellNumber parses the decimal number at the start of s: at most 4
// digits, no leading zero.
func cellNumber(s string) (n int, rest string, ok bool) {
	i := 0
	for ; i < len(s) && i < 5 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 || i == 5 || (i > 1 && s[0] == '0') {
		return 0, s, false
	}
	return n, s[i:], true
}

// decideHere finishes a decision for a fix at one place.
func (s *Snapshot) decideHere(d *Decision, t *skyfence.Terminal, tr *Track, f *skyfence.Fix, place atlas.Place, zs geoindex.SetID) {
	d.CountryIndex, d.Land, d.Zones, d.Located = place.Country, place.Land, s.zoneIDs[zs], true
	d.Country = International
	country := s.international
	if place.Country != atlas.None {
		country = s.countries[place.Country]
		d.Country = country.name
	}
	if d.SpeedKmh < 0 { // not reported: a reported speed is the receiver's Doppler, used as it is
		d.SpeedKmh = tr.derivedSpeed(f)
	}
	e := eval{s: s, t: t, tr: tr, f: f, d: d, place: place}
	zones := s.zoneRegions[zs]
	var openRule, openRegion string // the region that let an unknown terminal through
	if t == nil {
		allow, rule, region := unknownAt(zones, country)
		if !allow {
			d.Reason, d.Rule, d.Region = UnknownTerminal, rule, region
			return
		}
		openRule, openRegion = rule, region
	}
	for a := Aspect(0); a < numAspects; a++ {
		if t == nil && a != AspectService && a != AspectSpeed {
			continue // the terminal's own record decides these
		}
		if r, rule, region := e.aspect(a, zones, country); r != Ok {
			d.Reason, d.Rule, d.Region = r, rule, region
			return
		}
		if a == AspectSpeed && t != nil {
			if r, rule := e.planSpeed(); r != Ok {
				d.Reason, d.Rule = r, rule
				return
			}
		}
	}
	d.Allow, d.Reason, d.Rule, d.Region = true, Ok, openRule, openRegion
}

// aspect resolves one aspect over the regions at the position: zones (by
// priority), the country, and the rules for everywhere.
func (e *eval) aspect(a Aspect, zones []*regionRules, country *regionRules) (Reason, string, string) {
	i := 0
	countryDone, everyDone := !country.says(a), !e.s.everywhere.says(a)
	for {
		// The next priority level: the highest priority among what is left.
		for i < len(zones) && !zones[i].says(a) {
			i++
		}
		level, any := math.MinInt, false
		if i < len(zones) {
			level, any = zones[i].priority, true
		}
		if !countryDone {
			level, any = max(level, country.priority), true
		}
		if !any {
			if everyDone {
				return Ok, "", ""
			}
			level = everywherePriority
		}
		said, reason := false, Ok
		var rule, region string
		for ; i < len(zones) && zones[i].priority == level; i++ {
			if s, rr, ru := e.judge(zones[i], a); s {
				said = true
				if rr != Ok && reason == Ok {
					reason, rule, region = rr, ru, zones[i].name
				}
			}
		}
		if !countryDone && country.priority == level {
			countryDone = true
			if s, rr, ru := e.judge(country, a); s {
				said = true
				if rr != Ok && reason == Ok {
					reason, rule, region = rr, ru, country.name
				}
			}
		}
		if !everyDone && level == everywherePriority {
			everyDone = true
			if s, rr, ru := e.judge(e.s.everywhere, a); s {
				said = true
				if rr != Ok && reason == Ok {
					reason, rule, region = rr, ru, Everywhere
				}
			}
		}
		if said {
			return reason, rule, region
		}
	}
}

// unknownAt resolves the regions' unknown_terminal settings at a position
// as an aspect is resolved: the highest priority level at which a region
// says something decides, and within a level deny wins. It returns whether
// an unknown terminal may go on to the position's checks, and the rule and
// region that said so; where no region says anything, it denies by rule
// "terminal", as when no region allows unknown terminals at all.
func unknownAt(zones []*regionRules, country *regionRules) (allow bool, rule, region string) {
	level, said := math.MinInt, false
	for _, z := range zones { // by priority, highest first
		if z.unknown != "" {
			level, said = z.priority, true
			break
		}
	}
	if country.unknown != "" && (!said || country.priority > level) {
		level, said = country.priority, true
	}
	if !said {
		return false, "terminal", ""
	}
	allow = true
	pick := func(r *regionRules) {
		if r.unknown == "" || r.priority != level {
			return
		}
		if rule == "" || allow && r.unknown == FailClosed {
			allow, rule, region = r.unknown == FailOpen, r.unknownRule, r.name
		}
	}
	for _, z := range zones {
		pick(z)
	}
	pick(country)
	return allow, rule, region
}

// judge returns whether region r says something about aspect a for this
// fix and, if it denies, why and by which rule.
func (e *eval) judge(r *regionRules, a Aspect) (said bool, reason Reason, rule string) {
	reason = Ok
	if a == AspectService && r.hasStatus {
		said = true
		switch st, srule := r.statusAt(e.f.Time); st {
		case ComingSoon, Waitlist:
			reason, rule = RegionNotAvailable, srule
		case NotLicensed:
			reason, rule = RegionNotLicensed, srule
		case Embargoed:
			reason, rule = RegionEmbargoed, srule
		}
	}
	for _, c := range r.rules[a] {
		if !c.ActiveAt(e.f.Time) {
			continue
		}
		applies, rr := e.apply(c, r)
		if !applies {
			continue
		}
		if rr != Ok {
			if by := e.exemption(c); by != "" {
				e.d.ExemptRule, e.d.ExemptBy = c.ID, by
				continue
			}
		} else if e.exemption(c) != "" {
			continue
		}
		said = true
		if rr != Ok && reason == Ok {
			reason, rule = rr, c.ID
		}
	}
	return said, reason, rule
}

// apply evaluates one active rule: whether it applies to this terminal at
// all (roaming and coastal rules name their plans) and its verdict.
func (e *eval) apply(c *compiledRule, r *regionRules) (bool, Reason) {
	switch {
	case c.NoService:
		return true, NoServiceZone
	case c.RequireVerification != nil:
		region := r.name
		if !r.isCountry {
			region = e.d.Country
		}
		if e.verified(c.RequireVerification, region) {
			return true, Ok
		}
		return true, VerificationRequired
	case c.AllowedPlans != nil:
		if contains(c.AllowedPlans, e.t.Plan) {
			return true, Ok
		}
		return true, PlanNotAllowed
	case c.SpeedCapKmh != nil:
		if e.d.SpeedKmh > *c.SpeedCapKmh {
			return true, SpeedLimit
		}
		return true, Ok
	case c.Roaming != nil:
		if len(c.Roaming.Plans) > 0 && !contains(c.Roaming.Plans, e.t.Plan) {
			return false, Ok
		}
		if e.d.Country == e.t.Country {
			return true, Ok
		}
		if e.tr.daysAbroad(e.f.Time) > c.Roaming.MaxDaysAbroad {
			return true, RoamingLimit
		}
		return true, Ok
	case c.Coastal != nil:
		if len(c.Coastal.Plans) > 0 && !contains(c.Coastal.Plans, e.t.Plan) {
			return false, Ok
		}
		if e.place.Country == atlas.None || e.place.Land {
			return true, Ok
		}
		run, year := e.tr.coastalDays(e.f.Time)
		if (c.Coastal.MaxConsecutiveDays > 0 && run > c.Coastal.MaxConsecutiveDays) ||
			(c.Coastal.MaxDaysPerYear > 0 && year > c.Coastal.MaxDaysPerYear) {
			return true, RoamingLimit
		}
		return true, Ok
	}
	return false, Ok
}

// verified reports whether the terminal holds a verification valid now for
// region by the rule's authority, of one of its classes, that counts.
func (e *eval) verified(v *VerificationRule, region string) bool {
	for i := range e.t.Verifications {
		tv := &e.t.Verifications[i]
		if tv.Authority == v.Authority && tv.Region == region && tv.ValidAt(e.f.Time) &&
			(len(v.Classes) == 0 || containsClass(v.Classes, tv.Class)) && e.s.counts(tv) {
			return true
		}
	}
	return false
}

// exemption returns how the terminal is exempt from rule c ("terminal",
// "group", "plan", "class"), or "".
func (e *eval) exemption(c *compiledRule) string {
	if !c.hasExemptions || e.t == nil { // an unknown terminal is exempt from nothing
		return ""
	}
	ex := &c.Exempt
	switch {
	case c.exemptTerminals[e.t.ID]:
		return "terminal"
	case len(ex.Groups) > 0 && anyGroup(e.t, ex.Groups):
		return "group"
	case contains(ex.Plans, e.t.Plan):
		return "plan"
	}
	for i := range e.t.Verifications {
		tv := &e.t.Verifications[i]
		if tv.Region == e.d.Country && tv.ValidAt(e.f.Time) && containsClass(ex.Classes, tv.Class) && e.s.counts(tv) {
			return "class"
		}
	}
	return ""
}

// planSpeed applies the plan's speed cap for where the terminal is.
func (e *eval) planSpeed() (Reason, string) {
	p := e.s.plans[e.t.Plan]
	if p == nil {
		return PlanNotAllowed, "plans"
	}
	limit := p.LandKmh
	if !e.place.Land {
		limit = p.SeaKmh
	}
	if e.f.AltM > e.s.airAboveM && p.AirKmh != nil {
		limit = p.AirKmh
	}
	if limit != nil && e.d.SpeedKmh > *limit {
		return SpeedLimit, p.rule
	}
	return Ok, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsClass(list []skyfence.VerificationClass, c skyfence.VerificationClass) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func anyGroup(t *skyfence.Terminal, groups []string) bool {
	for _, g := range groups {
		if t.InGroup(g) {
			return true
		}
	}
	return false
}
