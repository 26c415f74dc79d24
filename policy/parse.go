package policy

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/skyfence/skyfence"
)

// Problem is an error or a warning at a place in a policy or zone file.
type Problem struct {
	File    string
	Pos     Pos    // in a policy file
	Pointer string // in a zone file (JSON pointer), if Pos is zero
	Msg     string
	Warning bool
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	at := p.Pos.String()
	if p.Pos == (Pos{}) {
		at = p.Pointer
		if at == "" {
			at = "(document)"
		}
	}
	return fmt.Sprintf("%s:%s: %s: %s", p.File, at, kind, p.Msg)
}

// Problems is a list of problems; as an error it holds at least one error
// (warnings may come with it).
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Parse reads a policy document (YAML, or JSON, which is YAML too). It
// reports every problem of form it finds at once, each with its line and
// column: syntax, unknown keys, values of the wrong type or out of range.
// Problems that need the world and the zones (unknown countries, rules that
// can never apply) are found by Validate.
func Parse(data []byte, file string) (*Document, error) {
	doc, _, probs := parse(data, file)
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	return doc, nil
}

// parse is Parse that also returns, when the YAML itself can be read, the
// document's node and the document as far as it could be read despite its
// problems (for Check).
func parse(data []byte, file string) (*Document, *yaml.Node, Problems) {
	p := &parser{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, Problems{{File: file, Pos: yamlErrorPos(err), Msg: cleanYAMLError(err)}}
	}
	if root.Kind == 0 {
		return nil, nil, Problems{{File: file, Pos: Pos{1, 1}, Msg: "empty document"}}
	}
	doc := p.document(root.Content[0])
	return doc, root.Content[0], p.problems
}

type parser struct {
	file     string
	problems Problems
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Pos: pos(n), Msg: fmt.Sprintf(format, args...)})
}

// fields walks a mapping node, calling f for each known key and reporting
// unknown and repeated keys.
func (p *parser) fields(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping", what)
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.errorf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(known, ", "))
		case seen[k.Value]:
			p.errorf(k, "%s: %q given twice", what, k.Value)
		default:
			seen[k.Value] = true
			f(k.Value, k, v)
		}
	}
	return true
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s: want a string", what)
		return ""
	}
	return n.Value
}

func (p *parser) number(n *yaml.Node, what string, min float64) *float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, "%s: want a number", what)
		return nil
	}
	if v < min {
		p.errorf(n, "%s: %v is below %v", what, v, min)
		return nil
	}
	return &v
}

func (p *parser) integer(n *yaml.Node, what string, min int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		p.errorf(n, "%s: want a whole number", what)
		return 0
	}
	if v < min {
		p.errorf(n, "%s: %d is below %d", what, v, min)
		return 0
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s: want true or false", what)
		return false
	}
	return n.Value == "true"
}

func (p *parser) strings(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list", what)
		return nil
	}
	out := []string{}
	for _, c := range n.Content {
		if s := p.str(c, what); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) classes(n *yaml.Node, what string) []skyfence.VerificationClass {
	var out []skyfence.VerificationClass
	for _, s := range p.strings(n, what) {
		c, err := skyfence.ParseVerificationClass(s)
		if err != nil {
			p.errorf(n, "%s: %s", what, skyfence.ErrorMessage(err))
			continue
		}
		out = append(out, c)
	}
	return out
}

// date accepts 2026-01-31 (midnight UTC) or an RFC 3339 time.
func (p *parser) date(n *yaml.Node, what string) time.Time {
	s := p.str(n, what)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.errorf(n, "%s: want a date (2026-01-31) or an RFC 3339 time, got %q", what, s)
	}
	return t.UTC()
}

func (p *parser) status(n *yaml.Node, what string) Status {
	s := Status(p.str(n, what))
	if s != "" && !s.Valid() {
		p.errorf(n, "%s: unknown status %q (want one of %s)", what, s, joinStatuses())
		return ""
	}
	return s
}

func joinStatuses() string {
	var names []string
	for _, s := range Statuses {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func (p *parser) document(n *yaml.Node) *Document {
	d := &Document{}
	format := ""
	p.fields(n, "policy", []string{"skyfence", "name", "description", "default_status", "air_above_m", "zones", "plans", "regions", "authorities", "rules"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "skyfence":
			format = p.str(v, "skyfence")
			if format != "" && format != Format {
				p.errorf(v, "skyfence: unsupported format %q (this version reads %q)", format, Format)
			}
		case "name":
			d.Name = p.str(v, "name")
		case "description":
			d.Description = p.str(v, "description")
		case "default_status":
			d.DefaultStatus = p.status(v, "default_status")
		case "air_above_m":
			if f := p.number(v, "air_above_m", 0); f != nil {
				d.AirAboveM = *f
			}
		case "zones":
			d.Zones = p.zones(v)
		case "plans":
			d.Plans = p.plans(v)
		case "regions":
			d.Regions = p.regions(v)
		case "authorities":
			d.Authorities = p.authorities(v)
		case "rules":
			d.Rules = p.rules(v)
		}
	})
	if format == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, "policy: missing \"skyfence: %s\" (the format this document is written in)", Format)
	}
	return d
}

func (p *parser) zones(n *yaml.Node) []ZoneFile {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "zones: want a list of {file: ...}")
		return nil
	}
	var out []ZoneFile
	for _, c := range n.Content {
		z := ZoneFile{Pos: pos(c)}
		p.fields(c, "zones[]", []string{"file"}, func(_ string, _, v *yaml.Node) { z.File = p.str(v, "file") })
		if z.File == "" {
			p.errorf(c, "zones[]: missing file")
		}
		out = append(out, z)
	}
	return out
}

// entries walks a mapping keyed by names (plans, regions), reporting
// repeated names.
func (p *parser) entries(n *yaml.Node, what string, f func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping of names to entries", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errorf(k, "%s: %q given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		f(k, v)
	}
}

func (p *parser) plans(n *yaml.Node) []Plan {
	var out []Plan
	p.entries(n, "plans", func(k, v *yaml.Node) {
		pl := Plan{Name: k.Value, Pos: pos(k)}
		what := "plans." + k.Value
		p.fields(v, what, []string{"description", "max_kmh", "activate_abroad"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "description":
				pl.Description = p.str(v, what+".description")
			case "activate_abroad":
				pl.ActivateAbroad = p.boolean(v, what+".activate_abroad")
			case "max_kmh":
				p.fields(v, what+".max_kmh", []string{"land", "sea", "air"}, func(key string, _, v *yaml.Node) {
					f := p.number(v, what+".max_kmh."+key, 0)
					switch key {
					case "land":
						pl.LandKmh = f
					case "sea":
						pl.SeaKmh = f
					case "air":
						pl.AirKmh = f
					}
				})
			}
		})
		out = append(out, pl)
	})
	return out
}

func (p *parser) regions(n *yaml.Node) []Region {
	var out []Region
	p.entries(n, "regions", func(k, v *yaml.Node) {
		r := Region{Region: k.Value, Pos: pos(k)}
		what := "regions." + k.Value
		p.fields(v, what, []string{"status", "priority", "note", "reference", "licence", "unknown_terminal", "position", "without_cell"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "status":
				r.Status = p.status(v, what+".status")
			case "priority":
				pr := p.integer(v, what+".priority", math.MinInt32)
				r.Priority = &pr
			case "note":
				r.Note = p.str(v, what+".note")
			case "reference":
				r.Reference = p.str(v, what+".reference")
			case "licence":
				r.Licence = p.licence(v, what+".licence")
			case "unknown_terminal":
				switch u := Fallback(p.str(v, what+".unknown_terminal")); u {
				case FailOpen, FailClosed:
					r.UnknownTerminal = u
				default:
					p.errorf(v, "%s.unknown_terminal: want allow or deny, not %q", what, u)
				}
			case "position":
				switch m := PositionMode(p.str(v, what+".position")); m {
				case PositionClaimed, PositionNetwork, PositionBoth:
					r.Position = m
				default:
					p.errorf(v, "%s.position: want claimed, network or both, not %q", what, m)
				}
			case "without_cell":
				switch c := p.str(v, what+".without_cell"); c {
				case "claimed", "deny":
					r.WithoutCell = c
				default:
					p.errorf(v, "%s.without_cell: want claimed or deny, not %q", what, c)
				}
			}
		})
		out = append(out, r)
	})
	return out
}

func (p *parser) licence(n *yaml.Node, what string) *Licence {
	l := &Licence{Pos: pos(n)}
	p.fields(n, what, []string{"authority", "reference", "valid_from", "valid_until"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "authority":
			l.Authority = p.str(v, what+".authority")
		case "reference":
			l.Reference = p.str(v, what+".reference")
		case "valid_from":
			l.ValidFrom = p.date(v, what+".valid_from")
		case "valid_until":
			l.ValidUntil = p.date(v, what+".valid_until")
		}
	})
	if l.Authority == "" || l.ValidFrom.IsZero() {
		p.errorf(n, "%s: needs at least an authority and valid_from", what)
	}
	if !l.ValidUntil.IsZero() && !l.ValidUntil.After(l.ValidFrom) {
		p.errorf(n, "%s: valid_until is not after valid_from", what)
	}
	return l
}

var ruleKeys = []string{"id", "region", "description", "from", "until", "no_service", "require_verification",
	"speed_cap_kmh", "allowed_plans", "roaming", "coastal", "exempt"}

func (p *parser) rules(n *yaml.Node) []Rule {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "rules: want a list")
		return nil
	}
	var out []Rule
	seen := map[string]Pos{}
	for i, c := range n.Content {
		r := Rule{Pos: pos(c)}
		what := fmt.Sprintf("rules[%d]", i)
		p.fields(c, what, ruleKeys, func(key string, _, v *yaml.Node) {
			switch key {
			case "id":
				r.ID = p.str(v, what+".id")
				what = "rule " + strconv.Quote(r.ID)
			case "region":
				r.Region = p.str(v, what+".region")
			case "description":
				r.Description = p.str(v, what+".description")
			case "from":
				r.From = p.date(v, what+".from")
			case "until":
				r.Until = p.date(v, what+".until")
			case "no_service":
				r.NoService = p.boolean(v, what+".no_service")
				if !r.NoService {
					p.errorf(v, "%s.no_service: only true means something; leave the key out instead", what)
				}
			case "require_verification":
				r.RequireVerification = p.verification(v, what+".require_verification")
			case "speed_cap_kmh":
				r.SpeedCapKmh = p.number(v, what+".speed_cap_kmh", 0)
			case "allowed_plans":
				r.AllowedPlans = p.strings(v, what+".allowed_plans")
			case "roaming":
				r.Roaming = p.roaming(v, what+".roaming")
			case "coastal":
				r.Coastal = p.coastal(v, what+".coastal")
			case "exempt":
				r.Exempt = p.exempt(v, what+".exempt")
			}
		})
		switch {
		case r.ID == "":
			p.errorf(c, "%s: missing id", what)
		case seen[r.ID] != Pos{}:
			p.errorf(c, "%s: id given twice (also at line %d)", what, seen[r.ID].Line)
		default:
			seen[r.ID] = r.Pos
		}
		if r.Region == "" {
			p.errorf(c, "%s: missing region", what)
		}
		if _, k := r.Aspect(); k != 1 {
			p.errorf(c, "%s: set exactly one of no_service, require_verification, speed_cap_kmh, allowed_plans, roaming, coastal (found %d)", what, k)
		}
		if !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From) {
			p.errorf(c, "%s: until is not after from", what)
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) verification(n *yaml.Node, what string) *VerificationRule {
	v := &VerificationRule{}
	p.fields(n, what, []string{"authority", "classes"}, func(key string, _, c *yaml.Node) {
		switch key {
		case "authority":
			v.Authority = p.str(c, what+".authority")
		case "classes":
			v.Classes = p.classes(c, what+".classes")
		}
	})
	if v.Authority == "" {
		p.errorf(n, "%s: missing authority", what)
	}
	return v
}

func (p *parser) roaming(n *yaml.Node, what string) *RoamingRule {
	r := &RoamingRule{}
	p.fields(n, what, []string{"plans", "max_days_abroad"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "plans":
			r.Plans = p.strings(v, what+".plans")
		case "max_days_abroad":
			r.MaxDaysAbroad = p.integer(v, what+".max_days_abroad", 1)
		}
	})
	if r.MaxDaysAbroad == 0 {
		p.errorf(n, "%s: missing max_days_abroad", what)
	}
	return r
}

func (p *parser) coastal(n *yaml.Node, what string) *CoastalRule {
	r := &CoastalRule{}
	p.fields(n, what, []string{"plans", "max_consecutive_days", "max_days_per_year"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "plans":
			r.Plans = p.strings(v, what+".plans")
		case "max_consecutive_days":
			r.MaxConsecutiveDays = p.integer(v, what+".max_consecutive_days", 1)
		case "max_days_per_year":
			r.MaxDaysPerYear = p.integer(v, what+".max_days_per_year", 1)
		}
	})
	if r.MaxConsecutiveDays == 0 && r.MaxDaysPerYear == 0 {
		p.errorf(n, "%s: set max_consecutive_days, max_days_per_year or both", what)
	}
	return r
}

func (p *parser) exempt(n *yaml.Node, what string) Exemptions {
	var e Exemptions
	p.fields(n, what, []string{"classes", "plans", "terminals", "groups"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "classes":
			e.Classes = p.classes(v, what+".classes")
		case "plans":
			e.Plans = p.strings(v, what+".plans")
		case "terminals":
			e.Terminals = p.strings(v, what+".terminals")
		case "groups":
			e.Groups = p.strings(v, what+".groups")
		}
	})
	return e
}

// yamlErrorPos extracts "line N" from a YAML syntax error.
func yamlErrorPos(err error) Pos {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		j := i + len("line ")
		k := j
		for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
			k++
		}
		if n, err := strconv.Atoi(msg[j:k]); err == nil {
			return Pos{n, 1}
		}
	}
	return Pos{1, 1}
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
