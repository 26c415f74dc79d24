package httpapi

import (
	"net/http"
	"strconv"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// changeFile is a file of a change on the wire: text, since policies and
// zones are YAML and GeoJSON.
type changeFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

func (s *Server) draftChange(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		control.ChangeInput
		Files []changeFile `json:"files"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	for _, f := range in.Files {
		in.ChangeInput.Files = append(in.ChangeInput.Files, skyfence.PolicyFile{Name: f.Name, Data: []byte(f.Content)})
	}
	c, err := s.svc.DraftChange(r.Context(), in.ChangeInput)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.svc.View(c))
}

func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) error {
	after, err := skyfence.ParseCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	f := skyfence.ChangeFilter{State: skyfence.ChangeState(r.URL.Query().Get("state")), After: after}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	cs, next, err := s.svc.Changes(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]control.ChangeView, len(cs))
	for i, c := range cs {
		c.Files = []skyfence.PolicyFile{} // the list is a summary ([], never null); GET one change for its files
		views[i] = s.svc.View(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"changes": views, "next_cursor": next.String()})
}

func (s *Server) getChange(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Change(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.svc.View(c))
}

// changeAction handles the POST /v1/changes/{id}/<action> routes.
func (s *Server) changeAction(action string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Approve       *bool  `json:"approve"`
			Comment       string `json:"comment"`
			Reason        string `json:"reason"`
			Justification string `json:"justification"`
		}
		if err := decodeOptional(r, &in); err != nil {
			return err
		}
		ctx, id := r.Context(), r.PathValue("id")
		var c *skyfence.PolicyChange
		var err error
		switch action {
		case "propose":
			c, err = s.svc.ProposeChange(ctx, id)
		case "review":
			if in.Approve == nil {
				return skyfence.FieldErrorf(skyfence.EINVALID, "approve", "say true (approve) or false (reject)")
			}
			c, err = s.svc.ReviewChange(ctx, id, *in.Approve, in.Comment)
		case "activate":
			c, err = s.svc.ActivateChange(ctx, id)
		case "emergency":
			c, err = s.svc.EmergencyActivate(ctx, id, in.Justification)
		case "withdraw":
			c, err = s.svc.WithdrawChange(ctx, id, in.Reason)
		}
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, s.svc.View(c))
	}
}

// rollback drafts the rollback of the change in force (it puts nothing in
// force: the answer says what comes next).
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	var in control.RollbackInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.svc.DraftRollback(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, rollbackView{s.svc.View(c),
		"The rollback is a draft: it is in force only once proposed (POST /v1/changes/" + c.ID + "/propose), approved by two persons other than its author and activated, or activated at once through the emergency path (POST /v1/changes/" + c.ID + "/emergency)."})
}

// rollbackView is a drafted rollback with what comes next.
type rollbackView struct {
	control.ChangeView
	Next string `json:"next"`
}
