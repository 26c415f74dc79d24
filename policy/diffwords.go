package policy

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file puts the entries of a policy, and what changes in them, into
// words for Diff.

func describeRegion(r *Region) []string {
	out := []string{"status " + statusOrNone(r.Status)}
	if r.Priority != nil {
		out = append(out, "priority "+strconv.Itoa(*r.Priority))
	}
	if r.Licence != nil {
		out = append(out, "licence "+licenceWords(r.Licence))
	}
	if r.Note != "" {
		out = append(out, "note "+quote(r.Note))
	}
	if r.Reference != "" {
		out = append(out, "reference "+quote(r.Reference))
	}
	if r.UnknownTerminal != "" {
		out = append(out, "unknown_terminal "+string(r.UnknownTerminal))
	}
	if r.Position != "" {
		out = append(out, "position "+string(r.Position))
	}
	if r.WithoutCell != "" {
		out = append(out, "without_cell "+r.WithoutCell)
	}
	return out
}

func diffRegion(a, b *Region) []string {
	var out []string
	changed := func(what, o, n string) {
		if o != n {
			out = append(out, what+" "+o+" -> "+n)
		}
	}
	changed("status", statusOrNone(a.Status), statusOrNone(b.Status))
	changed("priority", strconv.Itoa(regionPriority(*a)), strconv.Itoa(regionPriority(*b)))
	switch {
	case a.Licence == nil && b.Licence != nil:
		out = append(out, "licence added: "+licenceWords(b.Licence))
	case a.Licence != nil && b.Licence == nil:
		out = append(out, "licence removed (was "+licenceWords(a.Licence)+")")
	case a.Licence != nil:
		changed("licence authority", a.Licence.Authority, b.Licence.Authority)
		changed("licence reference", quote(a.Licence.Reference), quote(b.Licence.Reference))
		changed("licence valid_from", dateWord(a.Licence.ValidFrom), dateWord(b.Licence.ValidFrom))
		changed("licence valid_until", dateWord(a.Licence.ValidUntil), dateWord(b.Licence.ValidUntil))
	}
	out = append(out, textChange("note", a.Note, b.Note)...)
	out = append(out, textChange("reference", a.Reference, b.Reference)...)
	changed("unknown_terminal", unknownOrNone(a.UnknownTerminal), unknownOrNone(b.UnknownTerminal))
	changed("position", string(cmp.Or(a.Position, PositionClaimed)), string(cmp.Or(b.Position, PositionClaimed)))
	changed("without_cell", cmp.Or(a.WithoutCell, "claimed"), cmp.Or(b.WithoutCell, "claimed"))
	return out
}

func unknownOrNone(u Fallback) string {
	if u == "" {
		return "none"
	}
	return string(u)
}

// textChange says how a free text changed, if it did.
func textChange(what, a, b string) []string {
	switch {
	case a == b:
		return nil
	case a == "":
		return []string{what + " added: " + quote(b)}
	case b == "":
		return []string{what + " removed (was " + quote(a) + ")"}
	}
	return []string{what + " " + quote(a) + " -> " + quote(b)}
}

func statusOrNone(s Status) string {
	if s == "" {
		return "none"
	}
	return string(s)
}

func licenceWords(l *Licence) string {
	s := l.Authority
	if l.Reference != "" {
		s += " " + l.Reference
	}
	s += ", valid from " + dateWord(l.ValidFrom)
	if !l.ValidUntil.IsZero() {
		s += " until " + dateWord(l.ValidUntil)
	}
	return s
}

func describeRule(r *Rule) []string {
	out := []string{aspectWords(r)}
	if w := windowWords(r); w != "" {
		out = append(out, w)
	}
	if e := exemptWords(&r.Exempt); e != "" {
		out = append(out, e)
	}
	return out
}

func diffRule(a, b *Rule) []string {
	var out []string
	if a.Region != b.Region {
		out = append(out, "region "+a.Region+" -> "+b.Region)
	}
	aa, _ := a.Aspect()
	ab, _ := b.Aspect()
	if aa != ab {
		out = append(out, "now "+aspectWords(b)+" (was "+aspectWords(a)+")")
	} else {
		out = append(out, diffAspect(aa, a, b)...)
	}
	switch wa, wb := windowWords(a), windowWords(b); {
	case wa == wb:
	case wa == "":
		out = append(out, "time window added: "+wb)
	case wb == "":
		out = append(out, "time window removed (was "+wa+")")
	default:
		for _, w := range []struct {
			what string
			a, b time.Time
		}{{"from", a.From, b.From}, {"until", a.Until, b.Until}} {
			if !w.a.Equal(w.b) {
				out = append(out, "time window "+w.what+" "+dateWord(w.a)+" -> "+dateWord(w.b))
			}
		}
	}
	ea, eb := &a.Exempt, &b.Exempt
	ex := slices.Concat(
		listDiff("classes", classNames(ea), classNames(eb)),
		listDiff("plans", ea.Plans, eb.Plans),
		listDiff("terminals", ea.Terminals, eb.Terminals),
		listDiff("groups", ea.Groups, eb.Groups))
	if len(ex) > 0 {
		out = append(out, "exemptions changed: "+strings.Join(ex, " "))
	}
	if a.Description != b.Description {
		out = append(out, "description changed")
	}
	return out
}

// diffAspect says what changed between two rules of aspect x.
func diffAspect(x Aspect, a, b *Rule) []string {
	var out []string
	changed := func(what, o, n string) {
		if o != n {
			out = append(out, what+" "+o+" -> "+n)
		}
	}
	list := func(what string, o, n []string) {
		if d := listDiff("", o, n); len(d) > 0 {
			out = append(out, what+" "+strings.Join(d, " "))
		}
	}
	switch x {
	case AspectVerification:
		changed("verification by", a.RequireVerification.Authority, b.RequireVerification.Authority)
		list("verification classes", classList(a.RequireVerification), classList(b.RequireVerification))
	case AspectPlans:
		list("allowed plans", a.AllowedPlans, b.AllowedPlans)
	case AspectSpeed:
		if *a.SpeedCapKmh != *b.SpeedCapKmh {
			out = append(out, fmt.Sprintf("speed cap %s -> %s km/h", number(*a.SpeedCapKmh), number(*b.SpeedCapKmh)))
		}
	case AspectRoaming:
		list("roaming plans", a.Roaming.Plans, b.Roaming.Plans)
		changed("days abroad per trip", strconv.Itoa(a.Roaming.MaxDaysAbroad), strconv.Itoa(b.Roaming.MaxDaysAbroad))
	case AspectCoastal:
		list("coastal plans", a.Coastal.Plans, b.Coastal.Plans)
		changed("coastal days in a row", limit(a.Coastal.MaxConsecutiveDays), limit(b.Coastal.MaxConsecutiveDays))
		changed("coastal days a year", limit(a.Coastal.MaxDaysPerYear), limit(b.Coastal.MaxDaysPerYear))
	}
	return out
}

// aspectWords says what a rule does, without its window and exemptions.
func aspectWords(r *Rule) string {
	switch a, _ := r.Aspect(); a {
	case AspectVerification:
		s := "requires verification by " + r.RequireVerification.Authority
		if cs := classList(r.RequireVerification); len(cs) > 0 {
			s += " (" + strings.Join(cs, ", ") + ")"
		}
		return s
	case AspectPlans:
		if len(r.AllowedPlans) == 0 {
			return "allows no plan"
		}
		return "allows plans " + strings.Join(r.AllowedPlans, ", ")
	case AspectSpeed:
		return "speed cap " + number(*r.SpeedCapKmh) + " km/h"
	case AspectRoaming:
		return fmt.Sprintf("at most %d days abroad per trip%s", r.Roaming.MaxDaysAbroad, forPlans(r.Roaming.Plans))
	case AspectCoastal:
		return fmt.Sprintf("in coastal waters at most %s days in a row and %s days a year%s",
			limit(r.Coastal.MaxConsecutiveDays), limit(r.Coastal.MaxDaysPerYear), forPlans(r.Coastal.Plans))
	}
	return "no service"
}

func forPlans(plans []string) string {
	if len(plans) == 0 {
		return " for every plan"
	}
	return " for plans " + strings.Join(plans, ", ")
}

func limit(n int) string {
	if n == 0 {
		return "any"
	}
	return strconv.Itoa(n)
}

func windowWords(r *Rule) string {
	var parts []string
	if !r.From.IsZero() {
		parts = append(parts, "from "+dateWord(r.From))
	}
	if !r.Until.IsZero() {
		parts = append(parts, "until "+dateWord(r.Until))
	}
	return strings.Join(parts, " ")
}

func exemptWords(e *Exemptions) string {
	var parts []string
	add := func(what string, list []string) {
		if len(list) > 0 {
			parts = append(parts, what+" "+strings.Join(list, ", "))
		}
	}
	add("classes", classNames(e))
	add("plans", e.Plans)
	add("terminals", e.Terminals)
	add("groups", e.Groups)
	if len(parts) == 0 {
		return ""
	}
	return "exempt: " + strings.Join(parts, " and ")
}

func classNames(e *Exemptions) []string {
	var out []string
	for _, c := range e.Classes {
		out = append(out, c.String())
	}
	return out
}

func classList(v *VerificationRule) []string {
	var out []string
	for _, c := range v.Classes {
		out = append(out, c.String())
	}
	return out
}

// listDiff returns "+what x" for each x in b but not a, then "-what x" for
// each x in a but not b.
func listDiff(what string, a, b []string) []string {
	if what != "" {
		what += " "
	}
	var out []string
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, "+"+what+x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, "-"+what+x)
		}
	}
	return out
}

func describePlan(p *Plan) []string {
	var caps []string
	for _, c := range planCaps(p) {
		if c.kmh != nil {
			caps = append(caps, c.where+" "+number(*c.kmh)+" km/h")
		}
	}
	out := []string{"no speed caps"}
	if len(caps) > 0 {
		out = []string{"speed caps " + strings.Join(caps, ", ")}
	}
	if p.ActivateAbroad {
		out = append(out, "may be activated abroad")
	}
	return out
}

func diffPlan(a, b *Plan) []string {
	var out []string
	ca, cb := planCaps(a), planCaps(b)
	for i := range ca {
		o, n := ca[i].kmh, cb[i].kmh
		switch {
		case o == nil && n == nil:
		case o == nil || n == nil:
			out = append(out, ca[i].where+" cap "+capWord(o)+" -> "+capWord(n))
		case *o != *n:
			out = append(out, ca[i].where+" cap "+number(*o)+" -> "+number(*n)+" km/h")
		}
	}
	if a.ActivateAbroad != b.ActivateAbroad {
		out = append(out, fmt.Sprintf("activate_abroad %t -> %t", a.ActivateAbroad, b.ActivateAbroad))
	}
	if a.Description != b.Description {
		out = append(out, "description changed")
	}
	return out
}

type planCap struct {
	where string
	kmh   *float64
}

func planCaps(p *Plan) []planCap {
	return []planCap{{"land", p.LandKmh}, {"sea", p.SeaKmh}, {"air", p.AirKmh}}
}

func capWord(kmh *float64) string {
	if kmh == nil {
		return "none"
	}
	return number(*kmh) + " km/h"
}

func quote(s string) string { return strconv.Quote(s) }

// number writes a float as briefly as it reads back exactly.
func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// dateWord writes a time as a date if it is midnight UTC, else in RFC
// 3339; the zero time is "none".
func dateWord(t time.Time) string {
	switch {
	case t.IsZero():
		return "none"
	case t.Equal(t.UTC().Truncate(24 * time.Hour)):
		return t.UTC().Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339)
}

// km2 writes an area (never negative) rounded to whole km², with
// thousands separated.
func km2(a float64) string {
	s := strconv.FormatFloat(math.Round(math.Abs(a)), 'f', 0, 64)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String() + " km²"
}
