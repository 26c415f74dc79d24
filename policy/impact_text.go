package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file writes an ImpactReport for people.

// Text returns the report for people: the totals, the countries most
// affected, the breakdowns by plan, class and rule, the terminals that
// lose service, and the policy change in words.
func (rep *ImpactReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "impact of policy %s -> %s at %s\n", rep.OldVersion, rep.NewVersion, rep.At.Format(time.RFC3339))
	speed := "standing still"
	if rep.KeepSpeed {
		speed = "at their last speed"
	}
	fmt.Fprintf(&b, "(each terminal decided where it was last seen, as if there now, %s)\n\n", speed)
	fmt.Fprintf(&b, "terminals:        %s (%s decided, %s unlocated: no known position, not decided)\n",
		num(rep.Terminals), num(rep.Decided), num(rep.Unlocated))
	fmt.Fprintf(&b, "allowed:          %s -> %s\n", num(rep.AllowedBefore), num(rep.AllowedAfter))
	fmt.Fprintf(&b, "lose service:     %s (%s verified or on a priority plan: %s)\n",
		num(rep.Losses), num(rep.PriorityLosses), strings.Join(rep.PriorityPlans, ", "))
	fmt.Fprintf(&b, "gain service:     %s\n", num(rep.Gains))
	fmt.Fprintf(&b, "another reason:   %s (denied before and after, for a different reason)\n", num(rep.ReasonChanges))

	affected := 0
	for _, c := range rep.ByCountry {
		if c.Losses+c.Gains+c.ReasonChanges > 0 {
			affected++
		}
	}
	if affected > 0 {
		shown := min(affected, 10)
		fmt.Fprintf(&b, "\ncountries most affected (%d of %d):\n", shown, affected)
		countTable(&b, rep.ByCountry[:shown], true)
	}
	b.WriteString("\nby plan:\n")
	countTable(&b, rep.ByPlan, false)
	b.WriteString("\nby verification class (for the country where the terminal is):\n")
	countTable(&b, rep.ByClass, false)
	if len(rep.ByRule) > 0 {
		b.WriteString("\nby rule (what denies now; for gains, what denied before):\n")
		fmt.Fprintf(&b, "  %10s %10s %10s  %s\n", "lose", "gain", "reason", "reason, rule (region)")
		for _, r := range rep.ByRule {
			fmt.Fprintf(&b, "  %10s %10s %10s  %s\n", num(r.Losses), num(r.Gains), num(r.ReasonChanges), ruleWords(r.Reason, r.Rule, r.Region))
		}
	}
	if len(rep.Lost) > 0 {
		fmt.Fprintf(&b, "\nterminals that lose service (%d of %s; * verified or on a priority plan, listed first):\n",
			len(rep.Lost), num(rep.Losses))
		const row = "  %1s %-16s %-10s %-11s %-10s %-13s %9s %10s  %s\n"
		fmt.Fprintf(&b, row, "", "terminal", "class", "plan", "registered", "where", "lat", "lon", "denied by")
		for _, t := range rep.Lost {
			mark := ""
			if t.Priority {
				mark = "*"
			}
			fmt.Fprintf(&b, row, mark, t.ID, t.Class, t.Plan, t.Registered, t.Country,
				strconv.FormatFloat(t.Lat, 'f', 4, 64), strconv.FormatFloat(t.Lon, 'f', 4, 64), ruleWords(t.Reason, t.Rule, t.Region))
		}
	}
	if rep.Change != nil {
		b.WriteString("\n")
		b.WriteString(rep.Change.Text())
	}
	return b.String()
}

// countTable writes counts as a table; named adds a country's name to its
// key.
func countTable(b *strings.Builder, cs []ImpactCount, named bool) {
	fmt.Fprintf(b, "  %-28s %12s %10s %10s %10s\n", "", "terminals", "lose", "gain", "reason")
	for _, c := range cs {
		key := c.Key
		if named && c.Name != "" {
			key += " " + c.Name
		}
		if r := []rune(key); len(r) > 28 {
			key = string(r[:27]) + "…"
		}
		fmt.Fprintf(b, "  %-28s %12s %10s %10s %10s\n", key, num(c.Terminals), num(c.Losses), num(c.Gains), num(c.ReasonChanges))
	}
}

func ruleWords(reason Reason, rule, region string) string {
	s := reason.String()
	if rule != "" {
		s += " by " + rule
	}
	if region != "" {
		s += " (" + region + ")"
	}
	return s
}

// num writes a count (not negative) with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
