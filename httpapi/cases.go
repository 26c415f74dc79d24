package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// caseRoutes are the investigations: cases, their actions and appeals,
// bulk cut-offs and the regulator's report.
func (s *Server) caseRoutes() []route {
	return []route{
		{"POST", "/v1/cases", false, false, s.openCase},
		{"GET", "/v1/cases", false, false, s.listCases},
		{"GET", "/v1/cases/{id}", false, false, s.getCase},
		{"POST", "/v1/cases/{id}/assign", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.AssignCase(r.Context(), id, in.Assignee)
		})},
		{"POST", "/v1/cases/{id}/notes", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.NoteCase(r.Context(), id, in.Text)
		})},
		{"POST", "/v1/cases/{id}/actions", false, false, s.caseAction},
		{"POST", "/v1/cases/{id}/cancel", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.CancelAction(r.Context(), id, in.Reason)
		})},
		{"POST", "/v1/cases/{id}/review", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.ReviewAction(r.Context(), id, in.Approve, in.Comment)
		})},
		{"POST", "/v1/cases/{id}/appeal", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.FileAppeal(r.Context(), id, in.Statement)
		})},
		{"POST", "/v1/cases/{id}/appeal/decision", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.DecideAppeal(r.Context(), id, in.Grant, in.Reason)
		})},
		{"POST", "/v1/cases/{id}/close", false, false, s.caseStep(func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error) {
			return s.svc.CloseCase(r.Context(), id, in.Reason)
		})},
		{"POST", "/v1/cutoffs/preview", false, false, s.previewBulk},
		{"POST", "/v1/cutoffs", false, false, s.proposeBulk},
		{"GET", "/v1/reports/cutoffs", false, false, s.cutoffReport},
	}
}

func (s *Server) openCase(w http.ResponseWriter, r *http.Request) error {
	var in control.CaseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.svc.OpenCase(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := skyfence.ParseCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	f := skyfence.CaseFilter{State: skyfence.CaseState(q.Get("state")), Assignee: q.Get("assignee"), TerminalID: q.Get("terminal_id"),
		AccountID: q.Get("account_id"), Label: skyfence.Label(q.Get("label")), After: after}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	cs, next, err := s.svc.Cases(r.Context(), f)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []*skyfence.Case{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"cases": cs, "next_cursor": next.String()})
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// caseStepInput is the body of the small steps of a case; each step reads
// the fields it needs.
type caseStepInput struct {
	Assignee  string `json:"assignee"`
	Text      string `json:"text"`
	Reason    string `json:"reason"`
	Statement string `json:"statement"`
	Grant     bool   `json:"grant"`
	Approve   bool   `json:"approve"`
	Comment   string `json:"comment"`
}

func (s *Server) caseStep(fn func(r *http.Request, id string, in *caseStepInput) (*skyfence.Case, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in caseStepInput
		if err := decode(r, &in); err != nil {
			return err
		}
		c, err := fn(r, r.PathValue("id"), &in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) caseAction(w http.ResponseWriter, r *http.Request) error {
	var in control.ActionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.svc.ActOnCase(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) previewBulk(w http.ResponseWriter, r *http.Request) error {
	var sel skyfence.BulkSelection
	if err := decode(r, &sel); err != nil {
		return err
	}
	imp, err := s.svc.PreviewBulk(r.Context(), sel)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imp)
}

func (s *Server) proposeBulk(w http.ResponseWriter, r *http.Request) error {
	var in control.BulkInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, imp, err := s.svc.ProposeBulkCutoff(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"case": c, "impact": imp})
}

func (s *Server) cutoffReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	to := time.Now().UTC()
	from := to.AddDate(0, 0, -30)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badQuery(p.name, "%s must be an RFC 3339 time, got %q", p.name, v)
			}
			*p.t = t
		}
	}
	rep, err := s.svc.CutoffReport(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
