package control

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
)

// MaxAlerts is how many alerts the service keeps; beyond it the alerts
// seen least recently are forgotten (counted in AlertStats).
const MaxAlerts = 100_000

// alertBook keeps the latest version of each alert, by id.
type alertBook struct {
	mu      sync.Mutex
	byID    map[string]detect.Alert
	evicted uint64
}

// RecordAlert keeps an alert the detection engine raised or updated: the
// sink of a detect.Queue. Alerts are kept in memory only (the store does
// not hold them yet), at most MaxAlerts.
func (s *Service) RecordAlert(a detect.Alert) {
	b := &s.alerts
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byID == nil {
		b.byID = map[string]detect.Alert{}
	}
	if _, ok := b.byID[a.ID]; !ok && len(b.byID) >= MaxAlerts {
		oldest := ""
		for id, x := range b.byID {
			if oldest == "" || x.LastSeen.Before(b.byID[oldest].LastSeen) {
				oldest = id
			}
		}
		delete(b.byID, oldest)
		b.evicted++
	}
	b.byID[a.ID] = a
}

// AlertFilter selects alerts; zero fields match everything.
type AlertFilter struct {
	TerminalID string
	Detector   string
	Limit      int // 0 means 100; at most 1000
}

// Alerts returns the alerts kept, most recently seen first.
func (s *Service) Alerts(ctx context.Context, f AlertFilter) ([]detect.Alert, error) {
	if _, err := require(ctx, ReadAlerts); err != nil {
		return nil, err
	}
	if f.Detector != "" {
		if _, err := detect.ParseDetector(f.Detector); err != nil {
			return nil, skyfence.FieldErrorf(skyfence.EINVALID, "detector", "%v", err)
		}
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	b := &s.alerts
	b.mu.Lock()
	out := make([]detect.Alert, 0, min(len(b.byID), limit))
	for _, a := range b.byID {
		if (f.TerminalID == "" || a.TerminalID == f.TerminalID) && (f.Detector == "" || a.Detector.String() == f.Detector) {
			out = append(out, a)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y detect.Alert) int {
		if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out[:min(len(out), limit)], nil
}

// AlertStats counts the alerts kept and forgotten, and the detection
// queue's work (zero if the service has no detection).
type AlertStats struct {
	Kept    int
	Evicted uint64
	Queue   detect.QueueStats
}

// AlertStats returns the detection figures, for metrics.
func (s *Service) AlertStats() AlertStats {
	b := &s.alerts
	b.mu.Lock()
	st := AlertStats{Kept: len(b.byID), Evicted: b.evicted}
	b.mu.Unlock()
	if s.detect != nil {
		st.Queue = s.detect.Stats()
	}
	return st
}
