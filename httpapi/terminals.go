package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var a skyfence.Account
	if err := decode(r, &struct {
		ID   *string `json:"id"`
		Name *string `json:"name"`
	}{&a.ID, &a.Name}); err != nil {
		return err
	}
	if err := s.svc.CreateAccount(r.Context(), &a); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a)
}

// terminalInput is what a client may set when registering a terminal.
type terminalInput struct {
	ID        string   `json:"id"`
	AccountID string   `json:"account_id"`
	Plan      string   `json:"plan"`
	Country   string   `json:"country"`
	Groups    []string `json:"groups"`
}

func (s *Server) createTerminal(w http.ResponseWriter, r *http.Request) error {
	var in terminalInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t := &skyfence.Terminal{ID: in.ID, AccountID: in.AccountID, Plan: in.Plan, Country: in.Country, Groups: in.Groups}
	if err := s.svc.CreateTerminal(r.Context(), t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) getTerminal(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.Terminal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) listTerminals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := skyfence.TerminalFilter{AccountID: q.Get("account_id"), Country: q.Get("country"), Plan: q.Get("plan"), After: q.Get("cursor")}
	if v := q.Get("status"); v != "" {
		st, err := skyfence.ParseTerminalStatus(v)
		if err != nil {
			return badQuery("status", "%s", skyfence.ErrorMessage(err))
		}
		f.Status = &st
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	ts, next, err := s.svc.Terminals(r.Context(), f)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []*skyfence.Terminal{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"terminals": ts, "next_cursor": next})
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.State(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Status skyfence.TerminalStatus `json:"status"`
		Reason string                  `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.svc.SetStatus(r.Context(), r.PathValue("id"), in.Status, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Lat *float64 `json:"lat"`
		Lon *float64 `json:"lon"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	switch {
	case in.Lat == nil:
		return skyfence.FieldErrorf(skyfence.EINVALID, "lat", "missing lat: the position to activate at")
	case in.Lon == nil:
		return skyfence.FieldErrorf(skyfence.EINVALID, "lon", "missing lon: the position to activate at")
	}
	a, err := s.svc.Activate(r.Context(), r.PathValue("id"), *in.Lat, *in.Lon)
	if err != nil {
		return err
	}
	status := http.StatusOK
	switch a.Outcome {
	case "waitlisted":
		status = http.StatusAccepted
	case "refused":
		status = http.StatusConflict
	}
	return writeJSON(w, status, a)
}

func (s *Server) createVerification(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		TerminalID string                     `json:"terminal_id"`
		Region     string                     `json:"region"`
		Authority  string                     `json:"authority"`
		Class      skyfence.VerificationClass `json:"class"`
		ExpiresAt  time.Time                  `json:"expires_at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	v := &skyfence.Verification{TerminalID: in.TerminalID, Region: in.Region, Authority: in.Authority, Class: in.Class, ExpiresAt: in.ExpiresAt}
	if err := s.svc.CreateVerification(r.Context(), v); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listVerifications(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	vs, err := s.svc.Verifications(r.Context(), skyfence.VerificationFilter{TerminalID: q.Get("terminal_id"), Region: q.Get("region")})
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []*skyfence.Verification{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"verifications": vs})
}

func (s *Server) revokeVerification(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := s.svc.RevokeVerification(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) setCell(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Capacity *int `json:"capacity"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Capacity == nil {
		return skyfence.FieldErrorf(skyfence.EINVALID, "capacity", "missing capacity")
	}
	if err := s.svc.SetCellCapacity(r.Context(), r.PathValue("id"), *in.Capacity); err != nil {
		return err
	}
	return s.getCell(w, r)
}

func (s *Server) getCell(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Cell(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in control.KeyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	k, secret, err := s.svc.CreateKey(r.Context(), in)
	if err != nil {
		return err
	}
	note := "The secret is shown only now: store it safely."
	if k.Pending {
		note += " The key works once another admin approves it: POST /v1/keys/" + k.ID + "/approve."
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"key": k, "secret": secret, "note": note})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.svc.Keys(r.Context())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []*skyfence.APIKey{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": ks})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.svc.RevokeKey(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (s *Server) availability(w http.ResponseWriter, r *http.Request) error {
	m, err := s.svc.Availability(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("ETag", m.ETag)
	w.Header().Set("Cache-Control", "public, max-age=300")
	if match := r.Header.Get("If-None-Match"); match == m.ETag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, err = w.Write(m.GeoJSON)
	return err
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Policy(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
