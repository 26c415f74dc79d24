package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
)

// Snapshot is a compiled policy: immutable, safe for any number of
// concurrent readers, and able to decide for a fix without allocating or
// locking. Compile makes one; a server swaps snapshots atomically.
type Snapshot struct {
	// Version names the snapshot by content (see Version).
	Version string
	// Source is what the snapshot was compiled from. Do not modify it.
	Source *Source

	atlas         *atlas.Atlas
	zoneIndex     *geoindex.Index  // nil if the policy has no zones
	zoneIDs       [][]string       // zone ids of each zone set
	zoneRegions   [][]*regionRules // zones of each zone set, by priority
	countries     []*regionRules   // by atlas country index
	international *regionRules     //
	everywhere    *regionRules     // rules for region "*"
	plans         map[string]*planInfo
	airAboveM     float64 //
	byName        map[string]*regionRules
	// failOpen is set if any region allows unknown terminals: only then
	// are their fixes located.
	failOpen bool
	// network is set if any country decides by the network's position.
	network bool
}

// regionRules is what one region says, compiled.
type regionRules struct {
	name        string
	priority    int
	isCountry   bool
	hasStatus   bool
	status      Status
	statusRule  string // "status:UA", "default_status"
	licence     *Licence
	licenceRule string
	note        string
	unknown     Fallback // "" if the region says nothing
	unknownRule string   // "unknown_terminal:UA"
	position    PositionMode
	withoutCell bool   // deny a fix without a cell of the grid
	cellRule    string // "without_cell:UA"
	rules       [numAspects][]*compiledRule
}

// statusAt is the region's status at t. Licences are data: a country
// listed as available without a licence valid at t, or on a waitlist with a
// licence that is not valid at t, is not licensed, by its licence's rule.
func (r *regionRules) statusAt(t time.Time) (Status, string) {
	lapsed := r.licence != nil && !r.licence.ValidAt(t)
	switch {
	case !r.isCountry:
	case r.status == Available && r.licence == nil:
		return NotLicensed, r.statusRule
	case (r.status == Available || r.status == Waitlist) && lapsed:
		return NotLicensed, r.licenceRule
	}
	return r.status, r.statusRule
}

// says reports whether the region can say anything about aspect a.
func (r *regionRules) says(a Aspect) bool {
	return len(r.rules[a]) > 0 || (a == AspectService && r.hasStatus)
}

type planInfo struct {
	*Plan
	rule string // "plan:NAME"
}

type compiledRule struct {
	*Rule
	hasExemptions   bool
	exemptTerminals map[string]bool
}

// Compile validates src against the atlas and compiles it. It fails with
// Problems holding every error; warnings do not stop it (Validate returns
// them for callers that show them).
func Compile(src *Source, a *atlas.Atlas) (*Snapshot, error) {
	if errs := Validate(src, a).Errors(); len(errs) > 0 {
		return nil, errs
	}
	doc := src.Doc
	s := &Snapshot{
		Version:   Version(src, a),
		Source:    src,
		atlas:     a,
		plans:     map[string]*planInfo{},
		airAboveM: doc.AirAboveM,
		byName:    map[string]*regionRules{},
	}
	if s.airAboveM == 0 {
		s.airAboveM = 1000
	}
	for i := range doc.Plans {
		s.plans[doc.Plans[i].Name] = &planInfo{Plan: &doc.Plans[i], rule: "plan:" + doc.Plans[i].Name}
	}
	def := doc.DefaultStatus
	if def == "" {
		def = NotLicensed
	}
	// Every country has a status: its own or the default.
	s.countries = make([]*regionRules, len(a.Countries()))
	for i, c := range a.Countries() {
		r := &regionRules{name: c.Code, isCountry: true, hasStatus: true, status: def, statusRule: "default_status"}
		s.countries[i] = r
		s.byName[c.Code] = r
	}
	s.international = &regionRules{name: International, hasStatus: true, status: Available, statusRule: "default:international"}
	s.byName[International] = s.international
	s.everywhere = &regionRules{name: Everywhere, priority: everywherePriority}
	s.byName[Everywhere] = s.everywhere
	zoneRules := make([]*regionRules, len(src.Zones))
	for i, z := range src.Zones {
		r := &regionRules{name: ZonePrefix + z.ID, priority: DefaultZonePriority}
		zoneRules[i] = r
		s.byName[r.name] = r
	}
	for _, reg := range doc.Regions {
		r := s.byName[reg.Region]
		r.priority = regionPriority(reg)
		if reg.Status != "" {
			r.hasStatus, r.status, r.statusRule = true, reg.Status, "status:"+reg.Region
		}
		r.note = reg.Note
		if reg.Licence != nil {
			r.licence, r.licenceRule = reg.Licence, "licence:"+reg.Region
		}
		if reg.Position == PositionNetwork || reg.Position == PositionBoth {
			r.position, r.withoutCell, r.cellRule = reg.Position, reg.WithoutCell == "deny", "without_cell:"+reg.Region
			s.network = true
		}
		if reg.UnknownTerminal != "" {
			r.unknown, r.unknownRule = reg.UnknownTerminal, "unknown_terminal:"+reg.Region
			s.failOpen = s.failOpen || reg.UnknownTerminal == FailOpen
		}
	}
	for i := range doc.Rules {
		rule := &doc.Rules[i]
		r := s.byName[rule.Region]
		aspect, _ := rule.Aspect()
		ex := &rule.Exempt
		c := &compiledRule{Rule: rule, hasExemptions: len(ex.Classes)+len(ex.Plans)+len(ex.Terminals)+len(ex.Groups) > 0}
		if len(rule.Exempt.Terminals) > 0 {
			c.exemptTerminals = map[string]bool{}
			for _, t := range rule.Exempt.Terminals {
				c.exemptTerminals[t] = true
			}
		}
		r.rules[aspect] = append(r.rules[aspect], c)
	}
	if len(src.Zones) > 0 {
		shapes := make([]geoindex.Shape, len(src.Zones))
		for i, z := range src.Zones {
			shapes[i] = z.Shape()
		}
		ix, err := geoindex.Build(shapes, geoindex.Options{})
		if err != nil {
			return nil, fmt.Errorf("policy: indexing zones: %w", err)
		}
		s.zoneIndex = ix
		s.zoneIDs = make([][]string, ix.NumSets())
		s.zoneRegions = make([][]*regionRules, ix.NumSets())
		for id := range s.zoneIDs {
			regs := ix.Regions(geoindex.SetID(id))
			ids := make([]string, len(regs))
			rs := make([]*regionRules, len(regs))
			for i, z := range regs {
				ids[i] = src.Zones[z].ID
				rs[i] = zoneRules[z]
			}
			slices.Sort(ids)
			sortRegions(rs)
			s.zoneIDs[id], s.zoneRegions[id] = ids, rs
		}
	} else {
		s.zoneIDs = [][]string{{}}
		s.zoneRegions = [][]*regionRules{nil}
	}
	return s, nil
}

// HasPlan reports whether the policy defines the plan.
func (s *Snapshot) HasPlan(name string) bool { return s.plans[name] != nil }

// ActivatesAbroad reports whether terminals on the plan may be activated
// outside their registered country.
func (s *Snapshot) ActivatesAbroad(plan string) bool {
	p := s.plans[plan]
	return p != nil && p.ActivateAbroad
}

// Atlas returns the atlas the snapshot decides with.
func (s *Snapshot) Atlas() *atlas.Atlas { return s.atlas }

// RegionStatus is the public availability of a region at a time.
type RegionStatus struct {
	Region    string `json:"region"`
	Status    Status `json:"status"`
	Rule      string `json:"rule"` // what set it: "status:UA", "licence:UA", "default_status"
	Note      string `json:"note,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// StatusAt returns the public status of a country (by code), International
// or a zone ("zone:id") at t: a country listed as available whose licence
// is not valid at t shows as not_licensed. ok is false for an unknown region
// or a zone without a status.
func (s *Snapshot) StatusAt(region string, t time.Time) (RegionStatus, bool) {
	r := s.byName[region]
	if r == nil || !r.hasStatus {
		return RegionStatus{}, false
	}
	st := RegionStatus{Region: region, Status: r.status, Rule: r.statusRule, Note: r.note}
	for _, reg := range s.Source.Doc.Regions {
		if reg.Region == region {
			st.Reference = reg.Reference
		}
	}
	st.Status, st.Rule = r.statusAt(t)
	return st, true
}

// Regions returns the names of every country, International and every
// zone, sorted.
func (s *Snapshot) Regions() []string {
	var names []string
	for n := range s.byName {
		if n != Everywhere {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, strings.Compare)
	return names
}
