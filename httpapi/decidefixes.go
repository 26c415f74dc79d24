package httpapi

import (
	"context"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
)

// decideFixes decides fixes with the authorizer, in every form of POST
// /v1/fixes, once control has said that the principal of ctx may send
// fixes.
func (s *Server) decideFixes(ctx context.Context, fixes []skyfence.Fix, out []authorizer.Result) error {
	if err := control.MayIngest(ctx); err != nil {
		return err
	}
	return s.auth.Ingest(fixes, out)
}
