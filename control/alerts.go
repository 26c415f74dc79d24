package control

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/detect"
)

// alertBook holds the alerts detection raised or updated since they were
// last written to the store, by id (the latest version of each).
type alertBook struct {
	mu       sync.Mutex
	pending  map[string]detect.Alert
	recorded uint64
}

// RecordAlert takes an alert the detection engine raised or updated: the
// sink of a detect.Queue. Alerts are written to the store behind, with the
// terminals' states (and before any listing of alerts), latest version
// first: an alert updated many times is written once per flush.
func (s *Service) RecordAlert(a detect.Alert) {
	b := &s.alerts
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[string]detect.Alert{}
	}
	b.pending[a.ID] = a
	b.recorded++
	b.mu.Unlock()
	if a.Count <= 1 {
		s.emit(bus.AlertRaised, a.TerminalID, a)
	}
}

// flushAlerts writes the pending alerts to the store; on failure they stay
// pending (a newer version recorded meanwhile wins).
func (s *Service) flushAlerts(ctx context.Context) error {
	b := &s.alerts
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	recs := make([]*skyfence.AlertRecord, 0, len(pending))
	for _, a := range pending {
		r, err := AlertRecord(&a)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	err := s.store.SaveAlerts(ctx, recs)
	if err != nil {
		b.mu.Lock()
		if b.pending == nil {
			b.pending = map[string]detect.Alert{}
		}
		for id, a := range pending {
			if _, newer := b.pending[id]; !newer {
				b.pending[id] = a
			}
		}
		b.mu.Unlock()
	}
	return err
}

// AlertRecord is how alert a is stored (Store.SaveAlerts upserts it by
// id): by the service, and by a cluster's detector workers.
func AlertRecord(a *detect.Alert) (*skyfence.AlertRecord, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return &skyfence.AlertRecord{ID: a.ID, TerminalID: a.TerminalID, Detector: a.Detector.String(),
		Severity: int(a.Severity), Score: a.Score, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen,
		Region: a.Region, Incident: a.Incident, Explained: a.Explained, Data: data}, nil
}

// AlertFilter selects alerts; zero fields match everything.
type AlertFilter = skyfence.AlertFilter

// Alerts returns a page of the alerts detection raised, most recently seen
// first, from the store (after writing those still pending), and where the
// next page starts (the zero cursor after the last). EINVALID, naming the
// field, for an unknown detector or severity.
func (s *Service) Alerts(ctx context.Context, f AlertFilter) ([]detect.Alert, skyfence.Cursor, error) {
	if _, err := require(ctx, ReadAlerts); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	if f.Detector != "" {
		if _, err := detect.ParseDetector(f.Detector); err != nil {
			return nil, skyfence.Cursor{}, skyfence.FieldErrorf(skyfence.EINVALID, "detector", "%v", err)
		}
	}
	for _, v := range f.Severities {
		if v < int(detect.Low) || v > int(detect.High) {
			return nil, skyfence.Cursor{}, skyfence.FieldErrorf(skyfence.EINVALID, "severity", "unknown severity %d", v)
		}
	}
	if err := s.flushAlerts(ctx); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	recs, next, err := s.store.FindAlerts(ctx, f)
	if err != nil {
		return nil, skyfence.Cursor{}, err
	}
	out, err := decodeAlerts(recs)
	return out, next, err
}

// decodeAlerts returns the stored alerts as detection raised them.
func decodeAlerts(recs []*skyfence.AlertRecord) ([]detect.Alert, error) {
	out := make([]detect.Alert, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Data, &out[i]); err != nil {
			return nil, skyfence.Errorf(skyfence.EINTERNAL, "alert %s: %v", r.ID, err)
		}
	}
	return out, nil
}

// AlertStats counts the alerts recorded and detection's queue (zero if the
// service has no detection).
type AlertStats struct {
	Recorded uint64
	Queue    detect.QueueStats
}

// AlertStats returns the detection figures, for metrics.
func (s *Service) AlertStats() AlertStats {
	b := &s.alerts
	b.mu.Lock()
	st := AlertStats{Recorded: b.recorded}
	b.mu.Unlock()
	if s.detect != nil {
		st.Queue = s.detect.Stats()
	}
	return st
}
