package httpapi

import (
	"net/http"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// personRoutes are the person registry and what admins do with grants:
// approve another admin's, bind an old partner key to its authority.
func (s *Server) personRoutes() []route {
	return []route{
		{"POST", "/v1/persons", false, false, s.createPerson},
		{"GET", "/v1/persons", false, false, s.listPersons},
		{"GET", "/v1/persons/{id}", false, false, s.getPerson},
		{"POST", "/v1/keys/{id}/approve", false, false, s.approveKey},
		{"POST", "/v1/keys/{id}/authority", false, false, s.bindKey},
	}
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) error {
	var in control.PersonInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.svc.CreatePerson(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) listPersons(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.svc.Persons(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*skyfence.Person{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"persons": ps})
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	p, keys, err := s.svc.Person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []*skyfence.APIKey{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"person": p, "keys": keys})
}

func (s *Server) approveKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Comment string `json:"comment"`
	}
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	k, err := s.svc.ApproveKey(r.Context(), r.PathValue("id"), in.Comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (s *Server) bindKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Authority string `json:"authority"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.svc.BindKey(r.Context(), r.PathValue("id"), in.Authority)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}
