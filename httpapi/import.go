package httpapi

import (
	"net/http"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// MaxImport is the most terminals one import request registers.
const MaxImport = 10000

func (s *Server) importRoutes() []route {
	return []route{
		{"POST", "/v1/terminals/import", false, false, s.importTerminals},
	}
}

// importInput is a batch of terminals registered at once: a migration from
// another registry, or a fleet to try skyfence with. Their verifications
// go through POST /v1/verifications, the authorities' own route.
type importInput struct {
	Reason    string `json:"reason"`
	Terminals []struct {
		terminalInput
		Status skyfence.TerminalStatus `json:"status"` // inactive if not given
	} `json:"terminals"`
}

// importTerminals registers up to MaxImport terminals in one transaction
// (control.Service.ImportTerminals): all or none.
func (s *Server) importTerminals(w http.ResponseWriter, r *http.Request) error {
	// Only who may import learns what is wrong with a batch.
	if !control.PrincipalFrom(r.Context()).Can(control.ManageKeys) {
		return skyfence.Errorf(skyfence.EFORBIDDEN, "importing terminals is for admins")
	}
	var in importInput
	if err := decode(r, &in); err != nil {
		return err
	}
	switch {
	case in.Reason == "":
		return skyfence.FieldErrorf(skyfence.EINVALID, "reason", "missing reason: why these terminals are imported")
	case len(in.Terminals) == 0:
		return skyfence.FieldErrorf(skyfence.EINVALID, "terminals", "no terminals to import")
	case len(in.Terminals) > MaxImport:
		return skyfence.Errorf(skyfence.ETOOLARGE, "an import holds at most %d terminals, got %d", MaxImport, len(in.Terminals))
	}
	ts := make([]*skyfence.Terminal, len(in.Terminals))
	for i, t := range in.Terminals {
		ts[i] = &skyfence.Terminal{ID: t.ID, AccountID: t.AccountID, Plan: t.Plan, Country: t.Country, Groups: t.Groups, Status: t.Status}
	}
	if err := s.svc.ImportTerminals(r.Context(), ts, in.Reason); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]int{"imported": len(ts)})
}
