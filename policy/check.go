package policy

import (
	"cmp"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/skyfence/skyfence/atlas"
)

// Check reads a policy file and its zone files and checks them as far as it
// can in one pass, for an author who wants every problem at once: problems
// of form (as Parse finds them), errors in the zone files (as Load finds
// them) and problems of meaning (as Validate finds them), errors and
// warnings. Unlike Load and Compile it goes on after the first two kinds,
// validating what could be read, but leaves out of validation the rules and
// regions that have problems of form, and those that name zones of a zone
// file with errors, whose problems of meaning would only repeat those in
// other words. Problems in the policy file come first, by position; those
// in zone files follow in the order found.
//
// It returns the Source if there is no error, ready to compile. I/O errors
// other than a zone file that cannot be read come back as the error.
func Check(file string, a *atlas.Atlas) (*Source, Problems, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	doc, node, probs := parse(raw, file)
	if doc == nil {
		return nil, probs, nil
	}
	src := &Source{File: file, Doc: doc, Raw: raw}
	zprobs, err := src.readZones(os.ReadFile)
	if err != nil {
		return nil, nil, err
	}
	formErrs := len(probs.Errors()) > 0
	if formErrs || len(zprobs) > 0 {
		// Validate a copy that leaves out what cannot be checked.
		pruned := *doc
		pruned.Rules, pruned.Regions = prune(doc, node, probs, src, len(zprobs) > 0)
		src = &Source{File: file, Doc: &pruned, Zones: src.Zones, Warnings: src.Warnings}
	}
	probs = append(probs, zprobs...)
	probs = append(probs, Validate(src, a)...)
	inPolicy := func(p Problem) int {
		if p.File == file {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(probs, func(p, q Problem) int {
		if c := cmp.Compare(inPolicy(p), inPolicy(q)); c != 0 || p.File != file {
			return c
		}
		return cmp.Or(cmp.Compare(p.Pos.Line, q.Pos.Line), cmp.Compare(p.Pos.Col, q.Pos.Col))
	})
	if len(probs.Errors()) > 0 {
		return nil, probs, nil
	}
	return src, probs, nil
}

// prune returns the rules and regions of doc without those whose entries
// hold a problem of form and, if some zone file could not be read, without
// those that name zones it does not know.
func prune(doc *Document, node *yaml.Node, probs Problems, src *Source, zonesMissing bool) ([]Rule, []Region) {
	bad := map[Pos]bool{}
	for _, p := range probs.Errors() {
		bad[p.Pos] = true
	}
	// Mark each rule and region entry, by the position Parse gave it, that
	// holds a problem anywhere inside.
	broken := map[Pos]bool{}
	for i := 0; node.Kind == yaml.MappingNode && i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		switch {
		case k.Value == "rules" && v.Kind == yaml.SequenceNode:
			for _, c := range v.Content {
				broken[pos(c)] = holds(c, bad)
			}
		case k.Value == "regions" && v.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				broken[pos(v.Content[j])] = holds(v.Content[j], bad) || holds(v.Content[j+1], bad)
			}
		}
	}
	known := map[string]bool{}
	for _, z := range src.Zones {
		known[ZonePrefix+z.ID] = true
	}
	checkable := func(region string, at Pos) bool {
		return !broken[at] && !(zonesMissing && strings.HasPrefix(region, ZonePrefix) && !known[region])
	}
	var rules []Rule
	for _, r := range doc.Rules {
		if checkable(r.Region, r.Pos) {
			rules = append(rules, r)
		}
	}
	var regions []Region
	for _, r := range doc.Regions {
		if checkable(r.Region, r.Pos) {
			regions = append(regions, r)
		}
	}
	return rules, regions
}

// holds reports whether n or a node under it is at one of the positions.
func holds(n *yaml.Node, at map[Pos]bool) bool {
	if at[pos(n)] {
		return true
	}
	for _, c := range n.Content {
		if holds(c, at) {
			return true
		}
	}
	return false
}
