package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/zone"
)

// This file compares the zones of two policies and estimates the area whose
// service changes (see AreaChange).

func diffZones(old, new *Source) []EntryChange {
	return diffEntries(old.Zones, new.Zones, func(z zone.Zone) string { return z.ID }, describeZone, diffZone)
}

func describeZone(z *zone.Zone) []string {
	var out []string
	if z.Name != "" {
		out = append(out, quote(z.Name))
	}
	return append(out, "area "+km2(shapeAreaKm2(z.Polygons)))
}

func diffZone(a, b *zone.Zone) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "name "+quote(a.Name)+" -> "+quote(b.Name))
	}
	same := slices.EqualFunc(a.Polygons, b.Polygons, func(p, q geoindex.Polygon) bool {
		return slices.EqualFunc(p, q, func(r, s geoindex.Ring) bool { return slices.Equal(r, s) })
	})
	if !same {
		out = append(out, "reshaped: area "+km2(shapeAreaKm2(a.Polygons))+" -> "+km2(shapeAreaKm2(b.Polygons)))
	}
	return out
}

// shapeAreaKm2 is AreaKm2 for polygons that have already been indexed
// (countries by the atlas, zones by zone.Parse), which Normalize accepts,
// so it cannot fail.
func shapeAreaKm2(polys []geoindex.Polygon) float64 {
	a, _ := AreaKm2(polys)
	return a
}

func diffArea(old, new *Snapshot, at time.Time) AreaChange {
	var ac AreaChange
	for _, region := range unionRegions(old, new) {
		oOpen, oWhy := openAt(old, region, at)
		nOpen, nWhy := openAt(new, region, at)
		if oOpen == nOpen {
			continue
		}
		// The area that changes is the region as it is where it is
		// closed.
		closed := new
		if nOpen {
			closed = old
		}
		km := regionAreaKm2(closed, region)
		ac.Regions = append(ac.Regions, AreaRegion{Region: region, Km2: km, Gains: nOpen, Old: oWhy, New: nWhy})
		if nOpen {
			ac.GainedKm2 += km
		} else {
			ac.LostKm2 += km
		}
	}
	return ac
}

// openAt reports whether a region lets service through by itself at t (see
// AreaChange) and says why in words.
func openAt(s *Snapshot, region string, t time.Time) (bool, string) {
	r := s.byName[region]
	if r == nil {
		return true, "no such zone"
	}
	st, hasStatus := s.StatusAt(region, t)
	if hasStatus && st.Status != Available {
		return false, statusWord(st.Status, st.Rule)
	}
	var ids []string
	for _, c := range r.rules[AspectService] {
		if c.ActiveAt(t) {
			ids = append(ids, c.ID)
		}
	}
	switch {
	case len(ids) > 0:
		return false, "no_service " + strings.Join(ids, ", ")
	case hasStatus:
		return true, string(st.Status)
	}
	return true, "no status or no_service rule"
}

// regionAreaKm2 is the area of a country, of a zone, or of international
// (the globe less every country).
func regionAreaKm2(s *Snapshot, region string) float64 {
	countries := s.atlas.Countries()
	switch {
	case region == International:
		a := earthAreaKm2
		for _, c := range countries {
			a -= shapeAreaKm2(c.Polygons)
		}
		return a
	case strings.HasPrefix(region, ZonePrefix):
		id := strings.TrimPrefix(region, ZonePrefix)
		for _, z := range s.Source.Zones {
			if z.ID == id {
				return shapeAreaKm2(z.Polygons)
			}
		}
	}
	if i, ok := s.atlas.Lookup(region); ok {
		return shapeAreaKm2(countries[i].Polygons)
	}
	return 0
}
