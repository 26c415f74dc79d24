package policy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/zone"
)

// Default priorities of regions that do not set one.
const (
	DefaultCountryPriority = 0
	DefaultZonePriority    = 10
	everywherePriority     = -1 << 31
)

// Source is a policy with everything it refers to, as read from files: the
// document, its zones, and the bytes they came from (for the version hash).
type Source struct {
	File     string
	Doc      *Document
	Zones    []zone.Zone
	Raw      []byte   // the policy file
	ZoneRaws [][]byte // each zone file, in Doc.Zones order
	Warnings Problems // from parsing the zone files
}

// Load reads a policy file and the zone files it names (relative to it).
// Problems of form come back as Problems; I/O errors as they are.
func Load(file string) (*Source, error) { return LoadWith(file, os.ReadFile) }

// LoadWith is Load reading files with read: from an fs.FS (the embedded
// example), or from the files of a stored policy change.
func LoadWith(file string, read func(name string) ([]byte, error)) (*Source, error) {
	raw, err := read(file)
	if err != nil {
		return nil, err
	}
	doc, err := Parse(raw, file)
	if err != nil {
		return nil, err
	}
	src := &Source{File: file, Doc: doc, Raw: raw}
	probs, err := src.readZones(read)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, append(probs, src.Warnings...)
	}
	return src, nil
}

// readZones reads the zone files that src.Doc names (relative to src.File)
// into src.Zones, src.ZoneRaws and src.Warnings. It returns the errors in
// them, and a file it cannot read as an error at its entry in the policy;
// other errors as they are.
func (src *Source) readZones(read func(string) ([]byte, error)) (Problems, error) {
	var probs Problems
	for _, zf := range src.Doc.Zones {
		path := zf.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(src.File), path)
		}
		zraw, err := read(path)
		if err != nil {
			probs = append(probs, Problem{File: src.File, Pos: zf.Pos, Msg: fmt.Sprintf("zone file: %v", err)})
			continue
		}
		zs, warns, err := zone.Parse(zraw, path)
		for _, w := range warns {
			src.Warnings = append(src.Warnings, Problem{File: w.File, Pointer: w.Pointer, Msg: w.Msg, Warning: true})
		}
		if errs, ok := err.(zone.Errors); ok {
			for _, e := range errs {
				probs = append(probs, Problem{File: e.File, Pointer: e.Pointer, Msg: e.Msg})
			}
			continue
		} else if err != nil {
			return nil, err
		}
		src.Zones = append(src.Zones, zs...)
		src.ZoneRaws = append(src.ZoneRaws, zraw)
	}
	return probs, nil
}

// Validate checks a document against the world and its zones: unknown
// countries, zones and plans, countries available without a licence, rules
// that can never apply, and zones of equal priority whose rules conflict
// (a warning). It returns every problem, errors and warnings.
func Validate(src *Source, a *atlas.Atlas) Problems {
	v := &validator{src: src, atlas: a, zones: map[string]int{}, plans: map[string]bool{}}
	return v.run()
}

type validator struct {
	src      *Source
	atlas    *atlas.Atlas
	zones    map[string]int
	plans    map[string]bool
	problems Problems
}

func (v *validator) errorf(at Pos, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.src.File, Pos: at, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warnf(at Pos, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.src.File, Pos: at, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// region checks a region name; it returns false if it names nothing.
func (v *validator) region(name string, at Pos, what string, everywhere bool) bool {
	switch {
	case name == International:
		return true
	case name == Everywhere:
		if !everywhere {
			v.errorf(at, "%s: %q is for rules only", what, name)
		}
		return everywhere
	case strings.HasPrefix(name, ZonePrefix):
		if _, ok := v.zones[strings.TrimPrefix(name, ZonePrefix)]; !ok {
			v.errorf(at, "%s: no zone %q in the zone files", what, strings.TrimPrefix(name, ZonePrefix))
			return false
		}
		return true
	}
	if _, ok := v.atlas.Lookup(name); !ok {
		v.errorf(at, "%s: unknown region %q (want an ISO 3166-1 alpha-2 code of the built-in boundaries, %q, or %q+zone id)", what, name, International, ZonePrefix)
		return false
	}
	return true
}

func (v *validator) planList(plans []string, at Pos, what string) {
	for _, p := range plans {
		if !v.plans[p] {
			v.errorf(at, "%s: unknown plan %q", what, p)
		}
	}
}

func (v *validator) run() Problems {
	src, doc := v.src, v.src.Doc
	v.problems = append(v.problems, src.Warnings...)
	for i, z := range src.Zones {
		if _, dup := v.zones[z.ID]; dup {
			v.errorf(Pos{1, 1}, "zone id %q appears in more than one zone file", z.ID)
		}
		v.zones[z.ID] = i
	}
	for _, p := range doc.Plans {
		v.plans[p.Name] = true
	}
	if doc.DefaultStatus == Available {
		v.errorf(Pos{1, 1}, "default_status: available would serve every country without a licence; list the countries that are available, each with its licence")
	}
	if len(doc.Plans) == 0 {
		v.errorf(Pos{1, 1}, "plans: a policy needs at least one plan")
	}
	priorities := map[string]int{}
	for _, r := range doc.Regions {
		what := "regions." + r.Region
		if !v.region(r.Region, r.Pos, what, false) {
			continue
		}
		isCountry := r.Region != International && !strings.HasPrefix(r.Region, ZonePrefix)
		if r.Status == "" && isCountry {
			v.errorf(r.Pos, "%s: a country needs a status", what)
		}
		if r.Status == Available && isCountry && r.Licence == nil {
			v.errorf(r.Pos, "%s: available needs a licence (authority, reference, valid_from, valid_until)", what)
		}
		if r.Licence != nil && r.Status != Available && r.Status != Waitlist {
			v.warnf(r.Licence.Pos, "%s: a licence with status %s: the map shows the status, not the licence", what, r.Status)
		}
		if r.Position != "" && r.Position != PositionClaimed && strings.HasPrefix(r.Region, ZonePrefix) {
			v.errorf(r.Pos, "%s: position %s is for countries and %s (the country a claim is in decides how it is located; zones are found at the claim and at the cell alike)", what, r.Position, International)
		}
		if r.WithoutCell != "" && (r.Position == "" || r.Position == PositionClaimed) {
			v.warnf(r.Pos, "%s: without_cell says nothing unless position is network or both", what)
		}
		priorities[r.Region] = regionPriority(r)
	}
	byRegionAspect := map[string][]*Rule{}
	for i := range doc.Rules {
		r := &doc.Rules[i]
		what := fmt.Sprintf("rule %q", r.ID)
		v.region(r.Region, r.Pos, what, true)
		aspect, _ := r.Aspect()
		switch aspect {
		case AspectPlans:
			v.planList(r.AllowedPlans, r.Pos, what+" allowed_plans")
			if len(r.AllowedPlans) == 0 {
				v.warnf(r.Pos, "%s: allowed_plans is empty, so no plan may be used there", what)
			}
		case AspectRoaming:
			v.planList(r.Roaming.Plans, r.Pos, what+" roaming.plans")
		case AspectCoastal:
			v.planList(r.Coastal.Plans, r.Pos, what+" coastal.plans")
		}
		v.planList(r.Exempt.Plans, r.Pos, what+" exempt.plans")
		if aspect == AspectVerification && len(r.Exempt.Classes) > 0 {
			v.warnf(r.Pos, "%s: exempting verification classes from a verification rule is unusual; say which classes the rule accepts instead", what)
		}
		switch {
		case aspect == AspectService && r.Region == International:
			v.warnf(r.Pos, "%s: no_service over all international waters and airspace", what)
		case aspect == AspectService && r.Region == Everywhere:
			v.warnf(r.Pos, "%s: can never apply: every country and international waters have a status, at a higher priority than %q", what, Everywhere)
		}
		key := aspect.String() + "\x00"
		if strings.HasPrefix(r.Region, ZonePrefix) {
			key += r.Region
		}
		byRegionAspect[key] = append(byRegionAspect[key], r)
	}
	v.conflicts(byRegionAspect, priorities)
	v.authorities()
	return v.problems
}

// conflicts warns about zones of equal priority that overlap and carry
// rules of the same aspect that disagree: there, deny wins, which the
// author may not have meant.
func (v *validator) conflicts(rules map[string][]*Rule, priorities map[string]int) {
	zonePrio := func(region string) int {
		if p, ok := priorities[region]; ok {
			return p
		}
		return DefaultZonePriority
	}
	var keys []string
	for k := range rules {
		if strings.Contains(k, "\x00"+ZonePrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, ka := range keys {
		for _, kb := range keys[i+1:] {
			aa, za, _ := strings.Cut(ka, "\x00")
			ab, zb, _ := strings.Cut(kb, "\x00")
			if aa != ab || zonePrio(za) != zonePrio(zb) {
				continue
			}
			ia, oka := v.zones[strings.TrimPrefix(za, ZonePrefix)]
			ib, okb := v.zones[strings.TrimPrefix(zb, ZonePrefix)]
			if !oka || !okb {
				continue // an unknown zone, reported already
			}
			a, b := v.src.Zones[ia], v.src.Zones[ib]
			if !overlaps(a, b) {
				continue
			}
			ra, rb := rules[ka][0], rules[kb][0]
			if sameEffect(ra, rb) {
				continue
			}
			v.warnf(rb.Pos, "rule %q in %s overlaps rule %q in %s at equal priority %d with a different %s rule; where they overlap the more restrictive wins",
				rb.ID, zb, ra.ID, za, zonePrio(za), aa)
		}
	}
}

// sameEffect reports whether two rules of one aspect say the same.
func sameEffect(a, b *Rule) bool {
	ja, _ := json.Marshal(ruleEffect(a))
	jb, _ := json.Marshal(ruleEffect(b))
	return string(ja) == string(jb)
}

func ruleEffect(r *Rule) any {
	return []any{r.NoService, r.RequireVerification, r.SpeedCapKmh, r.AllowedPlans, r.Roaming, r.Coastal, r.Exempt, r.From, r.Until}
}

// overlaps reports whether two zones share area, by their bounding boxes
// and, if those meet, by testing each one's vertices against the other.
func overlaps(a, b zone.Zone) bool {
	ba, bb := bbox(a), bbox(b)
	if ba[0] > bb[2] || bb[0] > ba[2] || ba[1] > bb[3] || bb[1] > ba[3] {
		return false
	}
	ix, err := geoindex.Build([]geoindex.Shape{a.Shape(), b.Shape()}, geoindex.Options{GridLevels: 2})
	if err != nil {
		return true
	}
	for _, z := range []zone.Zone{a, b} {
		for _, p := range z.Polygons {
			for _, r := range p {
				for _, pt := range r {
					if id, err := ix.Lookup(pt.Lon, pt.Lat); err == nil && len(ix.Regions(id)) == 2 {
						return true
					}
				}
			}
		}
	}
	return false
}

func bbox(z zone.Zone) [4]float64 {
	b := [4]float64{180, 90, -180, -90}
	for _, p := range z.Polygons {
		for _, r := range p {
			for _, pt := range r {
				b[0], b[1] = min(b[0], pt.Lon), min(b[1], pt.Lat)
				b[2], b[3] = max(b[2], pt.Lon), max(b[3], pt.Lat)
			}
		}
	}
	return b
}

func regionPriority(r Region) int {
	if r.Priority != nil {
		return *r.Priority
	}
	if strings.HasPrefix(r.Region, ZonePrefix) {
		return DefaultZonePriority
	}
	return DefaultCountryPriority
}

// Version returns the content hash that names a compiled policy: SHA-256
// over the policy file, its zone files and the world data's source, as
// "sha256:" and the first 16 hex digits.
func Version(src *Source, a *atlas.Atlas) string {
	h := sha256.New()
	for _, b := range append([][]byte{src.Raw}, src.ZoneRaws...) {
		fmt.Fprintf(h, "%d\n", len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "world %d\n", len(a.Countries()))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// sortRegions orders region rules by priority, highest first, then by name
// so that the order is deterministic.
func sortRegions(rs []*regionRules) {
	slices.SortStableFunc(rs, func(a, b *regionRules) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
}
