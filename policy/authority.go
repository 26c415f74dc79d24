package policy

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/skyfence/skyfence"
)

// Authority is a partner authority of the policy: the region its
// verifications are for and the classes it may grant. A partner key is
// bound to one authority, and records only verifications of that
// authority, for its region, of one of its classes (docs/POLICY.md,
// docs/API.md).
type Authority struct {
	Name        string // e.g. "UA-MOD"
	Region      string // the ISO 3166-1 alpha-2 code of its territory
	Description string
	Classes     []skyfence.VerificationClass
	Pos         Pos
}

// Grants reports whether the authority may grant class c.
func (a *Authority) Grants(c skyfence.VerificationClass) bool { return slices.Contains(a.Classes, c) }

// Authority returns the document's authority of that name, or nil.
func (d *Document) Authority(name string) *Authority {
	for i := range d.Authorities {
		if d.Authorities[i].Name == name {
			return &d.Authorities[i]
		}
	}
	return nil
}

// counts reports whether a terminal's verification counts in decisions:
// if the policy lists authorities, only a verification by one of them,
// for its region, of a class it may grant. A verification the service
// would refuse to record today (one recorded before partners were bound,
// or written around the service) then lifts no rule. A policy without
// authorities counts every verification, as before they existed. It reads
// a few entries and does not allocate.
func (s *Snapshot) counts(v *skyfence.Verification) bool {
	doc := s.Source.Doc
	if len(doc.Authorities) == 0 {
		return true
	}
	a := doc.Authority(v.Authority)
	return a != nil && a.Region == v.Region && a.Grants(v.Class)
}

func (p *parser) authorities(n *yaml.Node) []Authority {
	var out []Authority
	p.entries(n, "authorities", func(k, v *yaml.Node) {
		a := Authority{Name: k.Value, Pos: pos(k)}
		what := "authorities." + k.Value
		if k.Value == "" {
			p.errorf(k, "authorities: an authority needs a name")
		}
		classes := false
		p.fields(v, what, []string{"region", "classes", "description"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "region":
				a.Region = p.str(v, what+".region")
			case "classes":
				classes = true
				a.Classes = p.classes(v, what+".classes")
				if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
					p.errorf(v, "%s.classes: an authority grants at least one class", what)
				}
			case "description":
				a.Description = p.str(v, what+".description")
			}
		})
		if v.Kind == yaml.MappingNode {
			if a.Region == "" {
				p.errorf(v, "%s: missing region (the country it verifies for)", what)
			}
			if !classes {
				p.errorf(v, "%s: missing classes (which of civil, government, military it may grant)", what)
			}
		}
		out = append(out, a)
	})
	return out
}

// authorities checks that each authority is for a country, and warns about
// verification rules that no authority of the policy can satisfy.
func (v *validator) authorities() {
	doc := v.src.Doc
	for _, a := range doc.Authorities {
		what := "authorities." + a.Name
		if _, ok := v.atlas.Lookup(a.Region); a.Region != "" && !ok {
			v.errorf(a.Pos, "%s: unknown region %q (want the ISO 3166-1 alpha-2 code of a country of the built-in boundaries)", what, a.Region)
		}
	}
	for _, r := range doc.Rules {
		if r.RequireVerification == nil {
			continue
		}
		what := fmt.Sprintf("rule %q", r.ID)
		a := doc.Authority(r.RequireVerification.Authority)
		if a == nil {
			v.warnf(r.Pos, "%s: authority %q is not in authorities, so no partner key can record the verifications it requires", what, r.RequireVerification.Authority)
			continue
		}
		if len(r.RequireVerification.Classes) > 0 && !slices.ContainsFunc(r.RequireVerification.Classes, a.Grants) {
			v.warnf(r.Pos, "%s: authority %q may grant none of the classes the rule accepts", what, a.Name)
		}
	}
}

// describeAuthority says what an authority added or removed grants.
func describeAuthority(a *Authority) []string {
	return []string{fmt.Sprintf("verifies for %s, may grant %s", a.Region, strings.Join(classStrings(a.Classes), ", "))}
}

// diffAuthority says what changes in what an authority may grant.
func diffAuthority(a, b *Authority) []string {
	var out []string
	if a.Region != b.Region {
		out = append(out, fmt.Sprintf("region %s -> %s", a.Region, b.Region))
	}
	if d := listDiff("class", classStrings(a.Classes), classStrings(b.Classes)); len(d) > 0 {
		out = append(out, "classes "+strings.Join(d, ", "))
	}
	if a.Description != b.Description {
		out = append(out, "description changed")
	}
	return out
}

func classStrings(cs []skyfence.VerificationClass) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}
