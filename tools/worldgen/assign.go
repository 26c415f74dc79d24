package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/skyfence/skyfence/world"
)

// readNumericCodes reads i18n-iso-countries's codes.json (rows of alpha-2,
// alpha-3, numeric, ...) into a map from numeric to alpha-2.
func readNumericCodes(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m := make(map[string]string, len(rows))
	for i, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("%s: row %d has %d columns", path, i, len(r))
		}
		m[r[2]] = r[0]
	}
	return m, nil
}

// split records one polygon moved by the territory table, for the summary.
type split struct {
	Sovereign, Code, Name string
	Parts                 int
}

// assign turns features into regions sorted by code: it codes every
// feature (nameRules first, then the numeric id), merges, splits out the
// territories and sets sovereigns. With strict, as for the 1:10m data, every
// rule and territory row must match something; at 1:110m small features are
// missing and unmatched rows are allowed.
func assign(feats []feature, numeric map[string]string, tr world.Transform, strict bool) ([]world.Region, []split, error) {
	rules := make(map[string]nameRule, len(nameRules))
	for _, r := range nameRules {
		rules[r.Name] = r
	}
	used := make(map[string]bool)
	regions := make(map[string]*world.Region)
	var merges []feature
	var mergeInto []string
	for _, f := range feats {
		if len(f.Polygons) == 0 {
			return nil, nil, fmt.Errorf("feature %q (id %q) has no polygon left after cleaning", f.Name, f.ID)
		}
		code, sov := "", ""
		if r, ok := rules[f.Name]; ok {
			used[f.Name] = true
			if r.Merge {
				merges = append(merges, f)
				mergeInto = append(mergeInto, r.Code)
				continue
			}
			code, sov = r.Code, r.Sovereign
		} else if c, ok := numeric[f.ID]; ok && f.ID != "" {
			code, sov = c, c
			if s, ok := dependencies[c]; ok {
				sov = s
			}
		} else {
			return nil, nil, fmt.Errorf("feature %q (id %q): no code for it; add a row to nameRules in codes.go", f.Name, f.ID)
		}
		if prev, ok := regions[code]; ok {
			return nil, nil, fmt.Errorf("features %q and %q both have code %s; add a merge rule to codes.go", prev.Name, f.Name, code)
		}
		regions[code] = &world.Region{Code: code, Name: f.Name, Sovereign: sov, Polygons: f.Polygons}
	}
	for i, f := range merges {
		g, ok := regions[mergeInto[i]]
		if !ok {
			return nil, nil, fmt.Errorf("feature %q: merge target %s does not exist", f.Name, mergeInto[i])
		}
		g.Polygons = append(g.Polygons, f.Polygons...)
	}
	if strict {
		for _, r := range nameRules {
			if !used[r.Name] {
				return nil, nil, fmt.Errorf("nameRules: no feature named %q", r.Name)
			}
		}
	}
	splits, err := splitTerritories(regions, tr, strict)
	if err != nil {
		return nil, nil, err
	}
	out := make([]world.Region, 0, len(regions))
	for _, r := range regions {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b world.Region) int { return strings.Compare(a.Code, b.Code) })
	for _, r := range out {
		if _, ok := regions[r.Sovereign]; !ok {
			return nil, nil, fmt.Errorf("region %s: sovereign %s has no region", r.Code, r.Sovereign)
		}
	}
	return out, splits, nil
}

// splitTerritories moves every polygon that lies inside a territory row's
// box from the sovereign's region to the territory's. A polygon inside two
// rows' boxes is an error, and so (with strict) is a row that moves nothing.
func splitTerritories(regions map[string]*world.Region, tr world.Transform, strict bool) ([]split, error) {
	var out []split
	for _, t := range territories {
		if g, ok := regions[t.Code]; ok {
			return nil, fmt.Errorf("territory %s: the data already has a feature %q with that code", t.Code, g.Name)
		}
	}
	for i, t := range territories {
		sov, ok := regions[t.Sovereign]
		if !ok && !strict {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("territory %s: sovereign %s has no region", t.Code, t.Sovereign)
		}
		var keep, move []world.QPolygon
		for _, p := range sov.Polygons {
			if !inBox(p[0], tr, t.BBox) {
				keep = append(keep, p)
				continue
			}
			for _, u := range territories[i+1:] {
				if u.Sovereign == t.Sovereign && inBox(p[0], tr, u.BBox) {
					return nil, fmt.Errorf("territory %s: a polygon of %s lies in its box and in %s's", t.Code, t.Sovereign, u.Code)
				}
			}
			move = append(move, p)
		}
		if len(move) == 0 {
			if strict {
				return nil, fmt.Errorf("territory %s (%s): no polygon of %s inside %v", t.Code, t.Name, t.Sovereign, t.BBox)
			}
			continue
		}
		if len(keep) == 0 {
			return nil, fmt.Errorf("territory %s: it would take every polygon of %s", t.Code, t.Sovereign)
		}
		sov.Polygons = keep
		g, ok := regions[t.Code]
		if !ok {
			g = &world.Region{Code: t.Code, Name: t.Name, Sovereign: t.Sovereign}
			regions[t.Code] = g
		}
		g.Polygons = append(g.Polygons, move...)
		out = append(out, split{Sovereign: t.Sovereign, Code: t.Code, Name: t.Name, Parts: len(move)})
	}
	return out, nil
}

// inBox reports whether every vertex of r lies inside box.
func inBox(r world.QRing, tr world.Transform, box [4]float64) bool {
	for _, q := range r {
		lon, lat := tr.Lon(q.X), tr.Lat(q.Y)
		if lon < box[0] || lat < box[1] || lon > box[2] || lat > box[3] {
			return false
		}
	}
	return true
}
