package control

import (
	"context"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
)

// incidentBook holds the GNSS interference incidents detection opened,
// extended or closed since they were last written to the store, by id
// (the latest version of each).
type incidentBook struct {
	mu      sync.Mutex
	pending map[string]*skyfence.Incident
}

// RecordIncident takes an incident the detection engine opened, extended
// or closed: the incident sink of a detect.Queue (New sets it on
// Config.Detect). Like alerts, incidents are written to the store behind,
// with the terminals' states and before any listing of incidents; it never
// waits on the store, so it never slows ingest.
func (s *Service) RecordIncident(x detect.Incident) {
	b := &s.incs
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[string]*skyfence.Incident{}
	}
	b.pending[x.ID] = IncidentRecord(&x)
	b.mu.Unlock()
}

// IncidentRecord is how incident x is stored (Store.SaveIncidents upserts
// it by id): by the service, and by a cluster's detector workers.
func IncidentRecord(x *detect.Incident) *skyfence.Incident {
	state := skyfence.IncidentClosed
	if x.Open {
		state = skyfence.IncidentOpen
	}
	return &skyfence.Incident{ID: x.ID, Kind: x.Kind, State: state, Start: x.Start, End: x.End, Opened: x.Opened,
		MinLat: x.MinLat, MinLon: x.MinLon, MaxLat: x.MaxLat, MaxLon: x.MaxLon, Cells: x.Cells, Terminals: x.Terminals}
}

// flushIncidents writes the pending incidents to the store; on failure
// they stay pending (a newer version recorded meanwhile wins).
func (s *Service) flushIncidents(ctx context.Context) error {
	b := &s.incs
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	recs := make([]*skyfence.Incident, 0, len(pending))
	for _, x := range pending {
		recs = append(recs, x)
	}
	err := s.store.SaveIncidents(ctx, recs)
	if err != nil {
		b.mu.Lock()
		if b.pending == nil {
			b.pending = map[string]*skyfence.Incident{}
		}
		for id, x := range pending {
			if _, newer := b.pending[id]; !newer {
				b.pending[id] = x
			}
		}
		b.mu.Unlock()
	}
	return err
}

// Incidents returns a page of the GNSS interference incidents detection
// raised, newest first, from the store (after writing those still
// pending), and where the next page starts. Reading them takes the
// permission to read alerts.
func (s *Service) Incidents(ctx context.Context, f skyfence.IncidentFilter) ([]*skyfence.Incident, skyfence.Cursor, error) {
	if _, err := require(ctx, ReadAlerts); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	if err := s.flushIncidents(ctx); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	return s.store.FindIncidents(ctx, f)
}

// IncidentView is an incident with the alerts that carry it.
type IncidentView struct {
	Incident *skyfence.Incident `json:"incident"`
	// Alerts are the alerts raised during the incident where it was, most
	// recently seen first: the first 1,000 (AlertsMore says whether there
	// are more; GET /v1/alerts?incident= pages through all).
	Alerts     []detect.Alert `json:"alerts"`
	AlertsMore bool           `json:"alerts_more"`
}

// Incident returns an incident with the alerts that carry it: ENOTFOUND
// if there is none of that id.
func (s *Service) Incident(ctx context.Context, id string) (*IncidentView, error) {
	if _, err := require(ctx, ReadAlerts); err != nil {
		return nil, err
	}
	if err := s.flushIncidents(ctx); err != nil {
		return nil, err
	}
	x, err := s.store.FindIncidentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	as, next, err := s.Alerts(ctx, AlertFilter{Incident: id, Limit: 1000})
	if err != nil {
		return nil, err
	}
	return &IncidentView{Incident: x, Alerts: as, AlertsMore: !next.IsZero()}, nil
}
