package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
)

// alertRoutes are detection's findings: alerts and GNSS interference
// incidents, paged with a cursor.
func (s *Server) alertRoutes() []route {
	return []route{
		{"GET", "/v1/alerts", false, false, s.listAlerts},
		{"GET", "/v1/incidents", false, false, s.listIncidents},
		{"GET", "/v1/incidents/{id}", false, false, s.getIncident},
	}
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := skyfence.ParseCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	f := control.AlertFilter{TerminalID: q.Get("terminal_id"), Detector: q.Get("detector"), Region: q.Get("region"),
		Incident: q.Get("incident"), After: after}
	if v := q.Get("severity"); v != "" {
		for name := range strings.SplitSeq(v, ",") {
			var sev detect.Severity
			if err := sev.UnmarshalText([]byte(name)); err != nil {
				return badQuery("severity", "severity must be low, medium or high (or a comma-separated list of them), got %q", v)
			}
			f.Severities = append(f.Severities, int(sev))
		}
	}
	switch v := q.Get("explained"); v {
	case "":
	case "true", "false":
		explained := v == "true"
		f.Explained = &explained
	default:
		return badQuery("explained", "explained must be true or false, got %q", v)
	}
	if f.From, f.To, err = timeWindow(q); err != nil {
		return err
	}
	if f.Limit, err = pageLimit(q); err != nil {
		return err
	}
	as, next, err := s.svc.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"alerts": as, "next_cursor": next.String()})
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := skyfence.ParseCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	f := skyfence.IncidentFilter{State: skyfence.IncidentState(q.Get("state")), After: after}
	if f.From, f.To, err = timeWindow(q); err != nil {
		return err
	}
	if f.Limit, err = pageLimit(q); err != nil {
		return err
	}
	is, next, err := s.svc.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	if is == nil {
		is = []*skyfence.Incident{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incidents": is, "next_cursor": next.String()})
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// timeWindow reads the from and to of a listing: RFC 3339 times, zero if
// absent.
func timeWindow(q url.Values) (from, to time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			if *p.t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return time.Time{}, time.Time{}, badQuery(p.name, "%s must be an RFC 3339 time, got %q", p.name, v)
			}
		}
	}
	return from, to, nil
}

// pageLimit reads the page size of a listing: 0 (the default) if absent.
func pageLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
	}
	return n, nil
}
