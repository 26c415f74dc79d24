package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/internal/jsonstr"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/world"
)

// AvailabilityMap is the public availability map: every country and zone
// with a status, as GeoJSON, and its entity tag.
type AvailabilityMap struct {
	GeoJSON []byte
	ETag    string
	Policy  string
	Date    string // the day the statuses hold for (licences lapse by day)
}

// mapCache keeps the encoded map of the current policy and day.
type mapCache struct {
	mu     sync.Mutex
	key    string
	m      *AvailabilityMap
	shapes []mapShape
}

type mapShape struct {
	code, name string
	rings      []geoindex.Ring
}

// Availability returns the public availability map for today. It needs no
// permission: the map is public. Shapes are Natural Earth 1:110m, with the
// 1:10m shape of any country too small for 1:110m, coordinates rounded to
// 4 decimals (about 10 m); statuses are those of the active policy. Capacity
// cells that are full show as features of kind "cell" with status
// "sold_out". The map is rebuilt at most once a minute.
func (s *Service) Availability(ctx context.Context) (*AvailabilityMap, error) {
	snap := s.auth.Snapshot()
	now := s.now().UTC()
	day := now.Format(time.DateOnly)
	key := snap.Version + " " + now.Truncate(time.Minute).Format(time.RFC3339)
	s.maps.mu.Lock()
	defer s.maps.mu.Unlock()
	if s.maps.key == key {
		return s.maps.m, nil
	}
	if s.maps.shapes == nil {
		shapes, err := s.mapShapes()
		if err != nil {
			return nil, err
		}
		s.maps.shapes = shapes
	}
	full, err := s.fullCells(ctx)
	if err != nil {
		return nil, err
	}
	at, _ := time.Parse(time.DateOnly, day)
	b := encodeMap(snap, s.maps.shapes, full, at.Add(12*time.Hour))
	sum := sha256.Sum256(b)
	m := &AvailabilityMap{GeoJSON: b, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, Policy: snap.Version, Date: day}
	s.maps.key, s.maps.m = key, m
	return m, nil
}

func (s *Service) mapShapes() ([]mapShape, error) {
	coarse, err := world.Load(world.Res110m)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	var out []mapShape
	add := func(c world.Country) error {
		rings, err := geoindex.Normalize(geoindex.Shape{Name: c.Code, Polygons: c.Polygons})
		if err != nil {
			return err
		}
		out = append(out, mapShape{c.Code, c.Name, rings})
		have[c.Code] = true
		return nil
	}
	for _, c := range coarse.Countries {
		if err := add(c); err != nil {
			return nil, err
		}
	}
	for _, c := range s.atlas.Countries() {
		if !have[c.Code] {
			if err := add(c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// encodeMap writes the FeatureCollection by hand: the rings are long and
// their numbers short, which encoding/json would make slow and large.
func encodeMap(snap *policy.Snapshot, shapes []mapShape, full []string, at time.Time) []byte {
	b := []byte(`{"type":"FeatureCollection","policy":`)
	b = jsonstr.Append(b, snap.Version)
	b = append(b, `,"features":[`...)
	first := true
	feature := func(id, name, kind string, st policy.RegionStatus, rings []geoindex.Ring) {
		if !first {
			b = append(b, ',')
		}
		first = false
		props, _ := json.Marshal(map[string]string{"code": id, "name": name, "kind": kind, "status": string(st.Status), "note": st.Note, "rule": st.Rule})
		b = append(b, `{"type":"Feature","id":`...)
		b = jsonstr.Append(b, id)
		b = append(b, `,"properties":`...)
		b = append(b, props...)
		b = append(b, `,"geometry":{"type":"MultiPolygon","coordinates":[`...)
		for i, r := range rings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "[["...)
			for j := 0; j <= len(r); j++ {
				p := r[j%len(r)]
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				b = appendCoord(b, p.Lon)
				b = append(b, ',')
				b = appendCoord(b, p.Lat)
				b = append(b, ']')
			}
			b = append(b, "]]"...)
		}
		b = append(b, "]}}"...)
	}
	for _, sh := range shapes {
		if st, ok := snap.StatusAt(sh.code, at); ok {
			feature(sh.code, sh.name, "country", st, sh.rings)
		}
	}
	for _, z := range snap.Source.Zones {
		if st, ok := snap.StatusAt(policy.ZonePrefix+z.ID, at); ok {
			rings, err := geoindex.Normalize(z.Shape())
			if err == nil {
				feature(policy.ZonePrefix+z.ID, z.Name, "zone", st, rings)
			}
		}
	}
	for _, id := range full {
		minLat, minLon, maxLat, maxLon, ok := skyfence.CellBounds(id)
		if !ok {
			continue
		}
		ring := geoindex.Ring{{Lon: minLon, Lat: minLat}, {Lon: maxLon, Lat: minLat}, {Lon: maxLon, Lat: maxLat}, {Lon: minLon, Lat: maxLat}}
		feature(id, "capacity cell "+id, "cell", policy.RegionStatus{Status: "sold_out", Note: "Every place in this area is taken; new orders wait in line."}, []geoindex.Ring{ring})
	}
	return append(b, "]}"...)
}

// fullCells lists the capacity cells that are sold out.
func (s *Service) fullCells(ctx context.Context) ([]string, error) {
	var ids []string
	after := ""
	for {
		cells, err := s.store.FindCells(ctx, skyfence.CellFilter{Full: true, After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, c := range cells {
			ids = append(ids, c.ID)
		}
		if len(cells) < 1000 {
			return ids, nil
		}
		after = cells[len(cells)-1].ID
	}
}

func appendCoord(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// PolicyInfo is the active policy as the API shows it.
type PolicyInfo struct {
	Version  string                `json:"version"`
	Name     string                `json:"name"`
	Previous string                `json:"previous,omitempty"`
	Source   string                `json:"source"` // the policy document as written
	Statuses []policy.RegionStatus `json:"statuses"`
}

// Policy returns the active policy: its version, text and every region's
// status today.
func (s *Service) Policy(ctx context.Context) (*PolicyInfo, error) {
	if _, err := require(ctx, ReadPolicy); err != nil {
		return nil, err
	}
	snap := s.auth.Snapshot()
	info := &PolicyInfo{Version: snap.Version, Name: snap.Source.Doc.Name, Source: string(snap.Source.Raw), Statuses: []policy.RegionStatus{}}
	if prev := s.auth.Previous(); prev != nil {
		info.Previous = prev.Version
	}
	now := s.now()
	for _, r := range snap.Regions() {
		if st, ok := snap.StatusAt(r, now); ok {
			info.Statuses = append(info.Statuses, st)
		}
	}
	return info, nil
}
