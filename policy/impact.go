package policy

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/zone"
)

// This file previews a policy change over a fleet: who gains and who loses
// service (Impact).

// ImpactInput is one terminal of the fleet to preview, where it was last
// seen.
type ImpactInput struct {
	Terminal *skyfence.Terminal
	// Fix is the terminal's last known position. A fix whose Time is zero,
	// or whose Lat or Lon is out of range or NaN, is no known position: the
	// terminal is counted as unlocated and not decided.
	Fix skyfence.Fix
	// Track is the terminal's track (days abroad, coastal days), or nil.
	Track *Track
}

// ImpactOptions tune Impact. The zero value is the default.
type ImpactOptions struct {
	// KeepSpeed decides with each fix's own speed (negative: derived from
	// the track) instead of 0.
	KeepSpeed bool
	// ListLimit is how many terminals that lose service the report lists:
	// 0 means 100, a negative number none.
	ListLimit int
	// PriorityPlans are the plans whose terminals are listed first when
	// they lose service, with verified ones. Nil means ["sponsored"]; an
	// empty slice that is not nil, none.
	PriorityPlans []string
	// Workers is how many goroutines decide: 0 means GOMAXPROCS, fewer for
	// a small fleet.
	Workers int
}

// ImpactReport is what a policy change does to a fleet: how many terminals
// gain service (denied, then allowed), lose it (allowed, then denied) or
// stay denied for another reason, broken down by country, plan,
// verification class and rule, with the terminals that lose service and
// the change itself in words. It marshals to JSON; Text writes it for
// people.
type ImpactReport struct {
	OldVersion string    `json:"old_version"`
	NewVersion string    `json:"new_version"`
	At         time.Time `json:"at"`
	KeepSpeed  bool      `json:"keep_speed"`
	// PriorityPlans are the plans listed first (see ImpactOptions).
	PriorityPlans []string `json:"priority_plans"`

	// Terminals is the size of the fleet, Unlocated how many of them have
	// no known position, Decided the others.
	Terminals int `json:"terminals"`
	Unlocated int `json:"unlocated"`
	Decided   int `json:"decided"`
	// AllowedBefore and AllowedAfter count the terminals decided that may
	// have service under the old and the new policy.
	AllowedBefore int `json:"allowed_before"`
	AllowedAfter  int `json:"allowed_after"`
	Gains         int `json:"gains"`
	Losses        int `json:"losses"`
	// ReasonChanges counts terminals denied on both sides for different
	// reasons.
	ReasonChanges int `json:"reason_changes"`
	// PriorityLosses counts the terminals that lose service and are
	// verified (any verification valid at At) or on a priority plan.
	PriorityLosses int `json:"priority_losses"`

	// ByCountry has the country (or "international") where each terminal
	// is, every one with a terminal, by most losses, then gains, then
	// reason changes, then code.
	ByCountry []ImpactCount `json:"by_country"`
	// ByPlan has each plan of either policy by name, then "(other)" for
	// plans neither defines; those with no terminal are left out.
	ByPlan []ImpactCount `json:"by_plan"`
	// ByClass has the highest verification class each terminal holds, valid
	// at At, for the country where it is: military, government, civil,
	// unverified.
	ByClass []ImpactCount `json:"by_class"`
	// ByRule has what decides the change: for a loss or a reason change
	// the new decision's reason, rule and region; for a gain the old one's
	// (what no longer denies). Ordered as ByCountry.
	ByRule []ImpactRule `json:"by_rule"`

	// Lost lists up to ListLimit terminals that lose service: priority
	// ones (see PriorityLosses) first, then by verification class (highest
	// first), then by terminal id.
	Lost []ImpactTerminal `json:"lost"`
	// Change is what changes in the policy, in words and in area.
	Change *Change `json:"change"`
}

// ImpactCount is how many terminals of one kind there are and how many of
// them gain service, lose it or are denied for another reason.
type ImpactCount struct {
	Key           string `json:"key"`
	Name          string `json:"name,omitempty"` // a country's name
	Terminals     int    `json:"terminals"`
	Gains         int    `json:"gains"`
	Losses        int    `json:"losses"`
	ReasonChanges int    `json:"reason_changes"`
}

// ImpactRule is how many terminals one reason, rule and region turn: see
// ImpactReport.ByRule.
type ImpactRule struct {
	Reason        Reason `json:"reason"`
	Rule          string `json:"rule"`
	Region        string `json:"region,omitempty"`
	Gains         int    `json:"gains"`
	Losses        int    `json:"losses"`
	ReasonChanges int    `json:"reason_changes"`
}

// ImpactTerminal is one terminal that loses service.
type ImpactTerminal struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id,omitempty"`
	Plan      string `json:"plan"`
	// Registered is the terminal's registered country; Country where it
	// is.
	Registered string  `json:"registered"`
	Country    string  `json:"country"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
	// Class is the highest verification class the terminal holds for
	// Country, or "unverified"; Verified is true if it holds any valid
	// verification, for any country.
	Class    string `json:"class"`
	Verified bool   `json:"verified"`
	Priority bool   `json:"priority"`
	// Reason, Rule and Region are the new decision's.
	Reason Reason `json:"reason"`
	Rule   string `json:"rule"`
	Region string `json:"region,omitempty"`
}

// Kinds of change, indexing tally.n.
const (
	gain = iota
	loss
	reasonChange
	numChangeKinds
)

// Verification classes as counted: unverified, then skyfence's classes
// one higher.
var classKeys = [...]string{"unverified", "civil", "government", "military"}

// otherPlan names the plans neither policy defines.
const otherPlan = "(other)"

type tally struct {
	terminals int
	n         [numChangeKinds]int
}

func (t *tally) add(o *tally) {
	t.terminals += o.terminals
	for k := range t.n {
		t.n[k] += o.n[k]
	}
}

type ruleKey struct {
	reason       Reason
	rule, region string
}

// impactRun is what every worker of one Impact shares.
type impactRun struct {
	s             [2]*Snapshot // old, new
	inputs        []ImpactInput
	at            time.Time
	keepSpeed     bool
	shareAtlas    bool // the snapshots share an atlas: locate once
	shareZones    bool // and their zones are the same: look them up once
	same          *sameRegions
	plans         []string
	priorityPlans []string
	limit         int
}

// impactWorker previews a contiguous part of the inputs.
type impactWorker struct {
	r         *impactRun
	unlocated int
	allowed   [2]int
	priority  int
	country   []tally // by atlas index; international last
	plan      []tally // by impactRun.plans; other last
	class     [len(classKeys)]tally
	rules     map[ruleKey]*tally
	lost      []lostTerminal
	// worst is the last lost terminal kept once lost was cut to limit;
	// full says that it was.
	worst lostTerminal
	full  bool
}

// lostTerminal is a terminal that loses service, as a worker keeps it.
type lostTerminal struct {
	index    int // in the inputs
	priority bool
	verified bool
	class    int
	country  int // atlas index or atlas.None
	d        Decision
}

// Impact previews a change from policy old to policy new over a fleet: for
// each terminal it decides under both policies and counts the terminals
// that gain service, lose it, or stay denied for another reason, with
// breakdowns, the terminals that lose service (priority ones first) and
// Diff(old, new, at).
//
// Each terminal is decided at its last known position as if it were there
// at time at (which must not be zero), standing still: the fix's time is
// replaced by at and its speed by 0, unless opts.KeepSpeed. The preview is
// about where terminals are, not how fast they last moved, so a new speed
// cap shows no impact without KeepSpeed. Time windows, licences,
// verifications and days abroad are taken at at; tracks are read, not
// changed.
//
// The snapshots are expected to share an atlas, as Diff expects; if not,
// each locates with its own and countries are new's. Impact decides on
// several goroutines (opts.Workers) without allocating per terminal, and
// the report does not depend on how many.
func Impact(old, new *Snapshot, at time.Time, terminals []ImpactInput, opts ImpactOptions) *ImpactReport {
	r := &impactRun{
		s:          [2]*Snapshot{old, new},
		inputs:     terminals,
		at:         at,
		keepSpeed:  opts.KeepSpeed,
		shareAtlas: old.atlas == new.atlas,
		limit:      opts.ListLimit,
	}
	r.shareZones = r.shareAtlas && sameZones(old.Source.Zones, new.Source.Zones)
	r.same = newSameRegions(old, new)
	r.priorityPlans = opts.PriorityPlans
	if r.priorityPlans == nil {
		r.priorityPlans = []string{"sponsored"}
	}
	if r.limit == 0 {
		r.limit = 100
	}
	for _, s := range r.s {
		for _, p := range s.Source.Doc.Plans {
			r.plans = append(r.plans, p.Name)
		}
	}
	slices.Sort(r.plans)
	r.plans = slices.Compact(r.plans)

	workers := r.split(opts.Workers)
	var wg sync.WaitGroup
	per := (len(terminals) + len(workers) - 1) / len(workers)
	per = (per + batchChunk - 1) / batchChunk * batchChunk
	for i, w := range workers {
		lo, hi := min(i*per, len(terminals)), min((i+1)*per, len(terminals))
		wg.Go(func() { w.run(lo, hi) })
	}
	wg.Wait()
	return r.report(workers, Diff(old, new, at))
}

// split makes the workers: n, or GOMAXPROCS but at most one per 16,384
// terminals.
func (r *impactRun) split(n int) []*impactWorker {
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), len(r.inputs)/16384)
	}
	ws := make([]*impactWorker, max(n, 1))
	for i := range ws {
		ws[i] = &impactWorker{
			r:       r,
			country: make([]tally, len(r.s[1].atlas.Countries())+1),
			plan:    make([]tally, len(r.plans)+1),
			rules:   map[ruleKey]*tally{},
		}
	}
	return ws
}

// sameZones reports whether two policies have the same zones in the same
// order, so that their zone indexes number the sets of zones alike.
func sameZones(a, b []zone.Zone) bool {
	return slices.EqualFunc(a, b, func(x, y zone.Zone) bool {
		return x.ID == y.ID && slices.EqualFunc(x.Polygons, y.Polygons, func(p, q geoindex.Polygon) bool {
			return slices.EqualFunc(p, q, func(r, s geoindex.Ring) bool { return slices.Equal(r, s) })
		})
	})
}

// run previews inputs[lo:hi], locating batchChunk fixes at a time.
func (w *impactWorker) run(lo, hi int) {
	var pts [batchChunk]geoindex.Point
	var places [batchChunk]atlas.Place
	var ids, zs [batchChunk]geoindex.SetID
	var locs [2][batchChunk]Location
	for base := lo; base < hi; base += batchChunk {
		in := w.r.inputs[base:min(base+batchChunk, hi)]
		n := len(in)
		for i := range in {
			pts[i] = geoindex.Point{Lon: in[i].Fix.Lon, Lat: in[i].Fix.Lat}
		}
		for k, s := range w.r.s {
			if k == 1 && w.r.shareZones {
				locs[1] = locs[0]
				break
			}
			if k == 0 || !w.r.shareAtlas {
				_ = s.atlas.LocateBatch(pts[:n], places[:n], ids[:n])
			}
			if s.zoneIndex != nil {
				_ = s.zoneIndex.LookupBatch(pts[:n], zs[:n])
			}
			for i := range n {
				z := zs[i]
				if s.zoneIndex == nil || z == geoindex.NoSet {
					z = 0
				}
				locs[k][i] = Location{Place: places[i], Zones: z}
			}
		}
		for i := range in {
			w.one(base+i, &in[i], &locs[0][i], &locs[1][i])
		}
	}
}

// located reports whether a fix is a known position.
func located(f *skyfence.Fix) bool {
	return !f.Time.IsZero() && f.Lat >= -90 && f.Lat <= 90 && f.Lon >= -180 && f.Lon <= 180
}

// one previews one terminal, located under the old and the new policy.
func (w *impactWorker) one(index int, in *ImpactInput, lo, ln *Location) {
	if !located(&in.Fix) {
		w.unlocated++
		return
	}
	r := w.r
	f := in.Fix
	f.Time = r.at
	if !r.keepSpeed {
		f.SpeedKmh = 0
	}
	country, code := ln.Place.Country, International
	ci := len(w.country) - 1
	if country != atlas.None {
		ci, code = country, r.s[1].countries[country].name
	}
	t := in.Terminal
	do := r.s[0].DecideAt(t, in.Track, f, *lo)
	dn := do
	if !r.same.alike(ci, lo, ln) {
		dn = r.s[1].DecideAt(t, in.Track, f, *ln)
	}
	class, verified := verification(t, code, r.at)
	pi := r.planIndex(t)
	w.country[ci].terminals++
	w.plan[pi].terminals++
	w.class[class].terminals++
	if do.Allow {
		w.allowed[0]++
	}
	if dn.Allow {
		w.allowed[1]++
	}
	kind, why := reasonChange, &dn
	switch {
	case do.Allow == dn.Allow && (do.Allow || do.Reason == dn.Reason):
		return
	case dn.Allow:
		kind, why = gain, &do
	case do.Allow:
		kind = loss
	}
	w.country[ci].n[kind]++
	w.plan[pi].n[kind]++
	w.class[class].n[kind]++
	key := ruleKey{why.Reason, why.Rule, why.Region}
	rt := w.rules[key]
	if rt == nil {
		rt = &tally{}
		w.rules[key] = rt
	}
	rt.n[kind]++
	if kind != loss {
		return
	}
	priority := verified || (t != nil && slices.Contains(r.priorityPlans, t.Plan))
	if priority {
		w.priority++
	}
	if r.limit > 0 {
		w.keep(lostTerminal{index: index, priority: priority, verified: verified, class: class, country: country, d: dn})
	}
}

// verification returns the highest class (an index of classKeys) of the
// verifications of t valid at at for country, and whether any verification
// of t is valid at at.
func verification(t *skyfence.Terminal, country string, at time.Time) (class int, anyValid bool) {
	if t == nil {
		return 0, false
	}
	for i := range t.Verifications {
		v := &t.Verifications[i]
		if !v.ValidAt(at) {
			continue
		}
		anyValid = true
		if v.Region == country {
			class = max(class, int(v.Class)+1)
		}
	}
	return min(class, len(classKeys)-1), anyValid
}

// planIndex is the index of t's plan in r.plans, or len(r.plans) for
// another plan (or no terminal).
func (r *impactRun) planIndex(t *skyfence.Terminal) int {
	if t != nil {
		for i, p := range r.plans {
			if p == t.Plan {
				return i
			}
		}
	}
	return len(r.plans)
}

// keep adds a lost terminal to those the worker may list, keeping no more
// than twice the limit: when it has that many it sorts them and drops all
// but the first limit.
func (w *impactWorker) keep(l lostTerminal) {
	if w.full && w.r.compareLost(&l, &w.worst) >= 0 {
		return
	}
	w.lost = append(w.lost, l)
	if len(w.lost) >= 2*w.r.limit {
		w.r.sortLost(w.lost)
		w.lost = w.lost[:w.r.limit]
		w.worst, w.full = w.lost[len(w.lost)-1], true
	}
}

// compareLost orders lost terminals as they are listed: priority first,
// then by class, highest first, terminal id and place in the input.
func (r *impactRun) compareLost(a, b *lostTerminal) int {
	if a.priority != b.priority {
		if a.priority {
			return -1
		}
		return 1
	}
	if a.class != b.class {
		return b.class - a.class
	}
	if c := strings.Compare(terminalID(r.inputs[a.index].Terminal), terminalID(r.inputs[b.index].Terminal)); c != 0 {
		return c
	}
	return a.index - b.index
}

func (r *impactRun) sortLost(ls []lostTerminal) {
	slices.SortFunc(ls, func(a, b lostTerminal) int { return r.compareLost(&a, &b) })
}

func terminalID(t *skyfence.Terminal) string {
	if t == nil {
		return ""
	}
	return t.ID
}

// report merges the workers' counts into the report.
func (r *impactRun) report(ws []*impactWorker, change *Change) *ImpactReport {
	rep := &ImpactReport{
		OldVersion: r.s[0].Version, NewVersion: r.s[1].Version, At: r.at.UTC(), KeepSpeed: r.keepSpeed,
		PriorityPlans: r.priorityPlans, Terminals: len(r.inputs), Change: change,
	}
	country := make([]tally, len(ws[0].country))
	plan := make([]tally, len(ws[0].plan))
	var class [len(classKeys)]tally
	rules := map[ruleKey]*tally{}
	var lost []lostTerminal
	for _, w := range ws {
		rep.Unlocated += w.unlocated
		rep.AllowedBefore += w.allowed[0]
		rep.AllowedAfter += w.allowed[1]
		rep.PriorityLosses += w.priority
		for i := range country {
			country[i].add(&w.country[i])
		}
		for i := range plan {
			plan[i].add(&w.plan[i])
		}
		for i := range class {
			class[i].add(&w.class[i])
		}
		for k, t := range w.rules {
			if rules[k] == nil {
				rules[k] = &tally{}
			}
			rules[k].add(t)
		}
		lost = append(lost, w.lost...)
	}
	rep.Decided = rep.Terminals - rep.Unlocated
	countries := r.s[1].atlas.Countries()
	for i, t := range country {
		if t.terminals == 0 {
			continue
		}
		c := count(International, t)
		if i < len(countries) {
			c.Key, c.Name = countries[i].Code, countries[i].Name
		}
		rep.ByCountry = append(rep.ByCountry, c)
		rep.Gains += t.n[gain]
		rep.Losses += t.n[loss]
		rep.ReasonChanges += t.n[reasonChange]
	}
	slices.SortFunc(rep.ByCountry, func(a, b ImpactCount) int {
		return byImpact(a.Losses, b.Losses, a.Gains, b.Gains, a.ReasonChanges, b.ReasonChanges, strings.Compare(a.Key, b.Key))
	})
	for i, t := range plan {
		if t.terminals > 0 {
			name := otherPlan
			if i < len(r.plans) {
				name = r.plans[i]
			}
			rep.ByPlan = append(rep.ByPlan, count(name, t))
		}
	}
	for i := len(class) - 1; i >= 0; i-- {
		rep.ByClass = append(rep.ByClass, count(classKeys[i], class[i]))
	}
	for k, t := range rules {
		rep.ByRule = append(rep.ByRule, ImpactRule{Reason: k.reason, Rule: k.rule, Region: k.region,
			Gains: t.n[gain], Losses: t.n[loss], ReasonChanges: t.n[reasonChange]})
	}
	slices.SortFunc(rep.ByRule, func(a, b ImpactRule) int {
		tie := cmp.Or(cmp.Compare(a.Reason, b.Reason), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Region, b.Region))
		return byImpact(a.Losses, b.Losses, a.Gains, b.Gains, a.ReasonChanges, b.ReasonChanges, tie)
	})
	r.sortLost(lost)
	for _, l := range lost[:min(len(lost), max(r.limit, 0))] {
		rep.Lost = append(rep.Lost, r.lostTerminal(&l))
	}
	return rep
}

func count(key string, t tally) ImpactCount {
	return ImpactCount{Key: key, Terminals: t.terminals, Gains: t.n[gain], Losses: t.n[loss], ReasonChanges: t.n[reasonChange]}
}

// byImpact orders by most losses, then gains, then reason changes, then
// tie.
func byImpact(la, lb, ga, gb, ca, cb, tie int) int {
	switch {
	case la != lb:
		return lb - la
	case ga != gb:
		return gb - ga
	case ca != cb:
		return cb - ca
	}
	return tie
}

func (r *impactRun) lostTerminal(l *lostTerminal) ImpactTerminal {
	in := &r.inputs[l.index]
	it := ImpactTerminal{Country: International, Lat: in.Fix.Lat, Lon: in.Fix.Lon, Class: classKeys[l.class],
		Verified: l.verified, Priority: l.priority, Reason: l.d.Reason, Rule: l.d.Rule, Region: l.d.Region}
	if t := in.Terminal; t != nil {
		it.ID, it.AccountID, it.Plan, it.Registered = t.ID, t.AccountID, t.Plan, t.Country
	}
	if l.country != atlas.None {
		it.Country = r.s[1].atlas.Code(l.country)
	}
	return it
}
