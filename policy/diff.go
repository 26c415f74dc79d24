package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is what changes from one compiled policy to another, in words a
// person can review (Text) and in a form a program can read (it marshals to
// JSON). Diff makes one. Every list is sorted by name.
type Change struct {
	OldVersion string `json:"old_version"`
	NewVersion string `json:"new_version"`
	// At is the time at which public statuses, licences and the time
	// windows of no_service rules are compared.
	At time.Time `json:"at"`
	// Settings are the document's own keys: name, description,
	// default_status, air_above_m.
	Settings []EntryChange  `json:"settings,omitempty"`
	Statuses []StatusChange `json:"statuses,omitempty"`
	// Regions are the entries of the document's regions section.
	Regions []EntryChange `json:"regions,omitempty"`
	Rules   []EntryChange `json:"rules,omitempty"`
	Plans   []EntryChange `json:"plans,omitempty"`
	// Authorities are the partner authorities: who may grant which
	// verification classes for which country.
	Authorities []EntryChange `json:"authorities,omitempty"`
	Zones       []EntryChange `json:"zones,omitempty"`
	Area        AreaChange    `json:"area"`
}

// ChangeKind says whether an entry is added, removed or changed.
type ChangeKind string

// Kinds of change.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

var kindMarks = map[ChangeKind]string{Added: "+", Removed: "-", Changed: "~"}

// EntryChange is one entry of a document that is added, removed or
// changed: a setting, a region entry, a rule, a plan or a zone.
type EntryChange struct {
	Kind ChangeKind `json:"kind"`
	// Name is the setting's key, the region, the rule's id, the plan's
	// name or the zone's id.
	Name string `json:"name"`
	// Region is a rule's region: the new one, or the old one for a rule
	// removed.
	Region string `json:"region,omitempty"`
	// Details say in words what the entry is (added, removed) or what
	// changed in it.
	Details []string `json:"details,omitempty"`
}

// StatusChange is a region whose public status at Change.At differs. A
// status is "" where the region has none: a zone without a status, or a
// zone that does not exist on that side.
type StatusChange struct {
	Region string `json:"region"`
	// Name is a country's name, for people.
	Name string `json:"name,omitempty"`
	Old  Status `json:"old"`
	New  Status `json:"new"`
	// OldRule and NewRule say what set each status: "status:UA",
	// "licence:UA", "default_status", "default:international".
	OldRule string `json:"old_rule,omitempty"`
	NewRule string `json:"new_rule,omitempty"`
}

// AreaChange estimates the area whose service turns off (Lost) or on
// (Gained). It is an approximation, by regions: a region counts with its
// whole area when it turns from open to closed or back, where a country or
// international is open if its public status is available, and a zone is
// open unless it has a status other than available or a no_service rule
// in force at Change.At. Overlaps between regions, priorities, exemptions
// and the other aspects are not taken into account, nor the change of area
// of a zone reshaped (its zone entry gives both areas). International's
// area is the globe's less every country's.
type AreaChange struct {
	LostKm2   float64      `json:"lost_km2"`
	GainedKm2 float64      `json:"gained_km2"`
	Regions   []AreaRegion `json:"regions,omitempty"`
}

// AreaRegion is one region whose service turns off or on.
type AreaRegion struct {
	Region string  `json:"region"`
	Km2    float64 `json:"km2"`
	// Gains is true if service turns on, false if it turns off.
	Gains bool `json:"gains"`
	// Old and New say in words why the region is open or closed on each
	// side.
	Old string `json:"old"`
	New string `json:"new"`
}

// Empty reports whether nothing changes.
func (c *Change) Empty() bool {
	return len(c.Settings)+len(c.Statuses)+len(c.Regions)+len(c.Rules)+len(c.Plans)+len(c.Authorities)+len(c.Zones)+len(c.Area.Regions) == 0
}

// Diff compares two compiled policies: their settings, the public status of
// every region at t, their region entries, rules (by id), plans and zones
// (by id), and estimates the area whose service changes (see AreaChange).
// Countries are those of new's atlas; both snapshots are expected to share
// one.
func Diff(old, new *Snapshot, at time.Time) *Change {
	c := &Change{OldVersion: old.Version, NewVersion: new.Version, At: at.UTC()}
	od, nd := old.Source.Doc, new.Source.Doc
	c.Settings = diffSettings(od, nd)
	c.Statuses = diffStatuses(old, new, c.At)
	c.Regions = diffEntries(od.Regions, nd.Regions, func(r Region) string { return r.Region }, describeRegion, diffRegion)
	c.Rules = diffEntries(od.Rules, nd.Rules, func(r Rule) string { return r.ID }, describeRule, diffRule)
	for i, rc := range c.Rules {
		c.Rules[i].Region = ruleRegion(od, nd, rc)
	}
	c.Plans = diffEntries(od.Plans, nd.Plans, func(p Plan) string { return p.Name }, describePlan, diffPlan)
	c.Authorities = diffEntries(od.Authorities, nd.Authorities, func(a Authority) string { return a.Name }, describeAuthority, diffAuthority)
	c.Zones = diffZones(old.Source, new.Source)
	c.Area = diffArea(old, new, c.At)
	return c
}

func ruleRegion(od, nd *Document, rc EntryChange) string {
	doc := nd
	if rc.Kind == Removed {
		doc = od
	}
	for _, r := range doc.Rules {
		if r.ID == rc.Name {
			return r.Region
		}
	}
	return ""
}

// diffEntries pairs the entries of two lists by name and describes those
// added or removed (describe) and what changed in the others (compare,
// which returns nothing for entries that are the same).
func diffEntries[T any](old, new []T, name func(T) string, describe func(*T) []string, compare func(a, b *T) []string) []EntryChange {
	byName := map[string]*T{}
	for i := range old {
		byName[name(old[i])] = &old[i]
	}
	var out []EntryChange
	seen := map[string]bool{}
	for i := range new {
		n := name(new[i])
		seen[n] = true
		o, ok := byName[n]
		switch {
		case !ok:
			out = append(out, EntryChange{Kind: Added, Name: n, Details: describe(&new[i])})
		default:
			if d := compare(o, &new[i]); len(d) > 0 {
				out = append(out, EntryChange{Kind: Changed, Name: n, Details: d})
			}
		}
	}
	for i := range old {
		if n := name(old[i]); !seen[n] {
			out = append(out, EntryChange{Kind: Removed, Name: n, Details: describe(&old[i])})
		}
	}
	sortEntries(out)
	return out
}

func sortEntries(es []EntryChange) {
	slices.SortStableFunc(es, func(a, b EntryChange) int { return strings.Compare(a.Name, b.Name) })
}

func diffSettings(od, nd *Document) []EntryChange {
	var out []EntryChange
	set := func(key string, o, n string) {
		if o != n {
			out = append(out, EntryChange{Kind: Changed, Name: key, Details: []string{o + " -> " + n}})
		}
	}
	set("name", quote(od.Name), quote(nd.Name))
	if od.Description != nd.Description {
		out = append(out, EntryChange{Kind: Changed, Name: "description", Details: []string{"description changed"}})
	}
	set("default_status", string(defaultStatus(od)), string(defaultStatus(nd)))
	set("air_above_m", number(airAbove(od))+" m", number(airAbove(nd))+" m")
	return out
}

func defaultStatus(d *Document) Status {
	if d.DefaultStatus == "" {
		return NotLicensed
	}
	return d.DefaultStatus
}

func airAbove(d *Document) float64 {
	if d.AirAboveM == 0 {
		return 1000
	}
	return d.AirAboveM
}

// diffStatuses compares the public status of every region either side
// knows.
func diffStatuses(old, new *Snapshot, at time.Time) []StatusChange {
	var out []StatusChange
	for _, region := range unionRegions(old, new) {
		os, _ := old.StatusAt(region, at)
		ns, _ := new.StatusAt(region, at)
		if os.Status == ns.Status {
			continue
		}
		out = append(out, StatusChange{Region: region, Name: countryName(new, region),
			Old: os.Status, New: ns.Status, OldRule: os.Rule, NewRule: ns.Rule})
	}
	return out
}

func unionRegions(old, new *Snapshot) []string {
	names := append(old.Regions(), new.Regions()...)
	slices.Sort(names)
	return slices.Compact(names)
}

func countryName(s *Snapshot, code string) string {
	if i, ok := s.atlas.Lookup(code); ok {
		return s.atlas.Countries()[i].Name
	}
	return ""
}

// Text returns the change in words, one line per entry, under a heading
// per section; sections without changes are left out.
func (c *Change) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s -> %s, compared at %s\n", c.OldVersion, c.NewVersion, c.At.Format(time.RFC3339))
	if c.Empty() {
		b.WriteString("no changes\n")
		return b.String()
	}
	section := func(title string, es []EntryChange) {
		if len(es) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, e := range es {
			fmt.Fprintf(&b, "  %s %s", kindMarks[e.Kind], e.Name)
			if e.Region != "" {
				fmt.Fprintf(&b, " (%s)", e.Region)
			}
			if len(e.Details) > 0 {
				fmt.Fprintf(&b, ": %s", strings.Join(e.Details, "; "))
			}
			b.WriteByte('\n')
		}
	}
	section("settings", c.Settings)
	if len(c.Statuses) > 0 {
		b.WriteString("\npublic status:\n")
		for _, s := range c.Statuses {
			name := s.Region
			if s.Name != "" {
				name += " (" + s.Name + ")"
			}
			fmt.Fprintf(&b, "  ~ %s: %s -> %s\n", name, statusWord(s.Old, s.OldRule), statusWord(s.New, s.NewRule))
		}
	}
	section("regions", c.Regions)
	section("rules", c.Rules)
	section("plans", c.Plans)
	section("authorities", c.Authorities)
	section("zones", c.Zones)
	c.Area.text(&b)
	return b.String()
}

// statusWord names a status and, where a licence set it, the licence.
func statusWord(s Status, rule string) string {
	switch {
	case s == "":
		return "none"
	case strings.HasPrefix(rule, "licence:"):
		return string(s) + " (" + rule + ")"
	}
	return string(s)
}

func (a *AreaChange) text(b *strings.Builder) {
	if len(a.Regions) == 0 {
		return
	}
	b.WriteString("\nservice area (approximate: each region whose own service turns off or on counts whole; overlaps, priorities and exemptions are not considered):\n")
	for _, gains := range []bool{false, true} {
		verb, total := "loses", a.LostKm2
		if gains {
			verb, total = "gains", a.GainedKm2
		}
		fmt.Fprintf(b, "  %s service: %s\n", verb, km2(total))
		for _, r := range a.Regions {
			if r.Gains == gains {
				fmt.Fprintf(b, "    %s %s: %s -> %s\n", r.Region, km2(r.Km2), r.Old, r.New)
			}
		}
	}
}
