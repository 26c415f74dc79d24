package httpapi

import (
	"net/http"
	"strconv"

	"github.com/skyfence/skyfence/control"
)

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := control.AlertFilter{TerminalID: q.Get("terminal_id"), Detector: q.Get("detector")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	as, err := s.svc.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"alerts": as})
}
