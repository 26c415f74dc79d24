package httpapi_test

import (
	"strings"
	"testing"

	"github.com/skyfence/skyfence/httpapi"
)

// An admin imports terminals in one request; they are registered, and
// decided from the next fix on.
func TestImportTerminals(t *testing.T) {
	e := newEnv(t)
	e.must("admin", "POST", "/v1/accounts", map[string]string{"id": "acct-imp"}, 201, nil)
	batch := map[string]any{"reason": "migration from the old registry", "terminals": []map[string]any{
		{"id": "imp-1", "account_id": "acct-imp", "plan": "residential", "country": "PL", "status": "active"},
		{"id": "imp-2", "account_id": "acct-imp", "plan": "roam", "country": "DE", "groups": []string{"press"}},
	}}
	var got struct{ Imported int }
	e.must("admin", "POST", "/v1/terminals/import", batch, 201, &got)
	if got.Imported != 2 {
		t.Errorf("imported %d, want 2", got.Imported)
	}
	var term struct {
		Status string
		Groups []string
	}
	e.must("operator", "GET", "/v1/terminals/imp-2", nil, 200, &term)
	if term.Status != "inactive" || len(term.Groups) != 1 || term.Groups[0] != "press" {
		t.Errorf("imp-2 is %+v, want inactive in group press", term)
	}
	rs := e.send(fix("imp-1", testNow, 52.23, 21.01, 0), fix("imp-2", testNow, 52.52, 13.40, 0))
	if !rs[0].Allow || rs[1].Reason != "terminal_inactive" {
		t.Errorf("decisions after the import: %+v", rs)
	}

	// All or none: a batch with one bad terminal registers nothing.
	bad := map[string]any{"reason": "r", "terminals": []map[string]any{
		{"id": "imp-3", "account_id": "acct-imp", "plan": "residential", "country": "PL"},
		{"id": "imp-4", "account_id": "acct-imp", "plan": "no-such-plan", "country": "PL"},
	}}
	e.wantError("admin", "POST", "/v1/terminals/import", bad, 400, "invalid", "terminals/1/plan")
	e.wantError("operator", "GET", "/v1/terminals/imp-3", nil, 404, "not_found", "")
	// Ids are checked as at registration, each named by its place.
	for _, id := range []string{"imp\a5", "imp 5", "imp\u200b5", "imp\xff5", strings.Repeat("i", 129)} {
		badID := map[string]any{"reason": "r", "terminals": []map[string]any{
			{"id": "imp-3", "account_id": "acct-imp", "plan": "residential", "country": "PL"},
			{"id": id, "account_id": "acct-imp", "plan": "residential", "country": "PL"},
		}}
		e.wantError("admin", "POST", "/v1/terminals/import", badID, 400, "invalid", "terminals/1/id")
	}
	e.wantError("operator", "GET", "/v1/terminals/imp-3", nil, 404, "not_found", "")
	e.wantError("admin", "POST", "/v1/terminals/import", map[string]any{"terminals": []any{}}, 400, "invalid", "reason")
	e.wantError("admin", "POST", "/v1/terminals/import", map[string]any{"reason": "r", "terminals": []any{}}, 400, "invalid", "terminals")
	many := make([]map[string]any, httpapi.MaxImport+1)
	for i := range many {
		many[i] = map[string]any{"id": "x", "account_id": "acct-imp", "plan": "roam", "country": "PL"}
	}
	e.wantError("admin", "POST", "/v1/terminals/import", map[string]any{"reason": "r", "terminals": many}, 413, "too_large", "")
	// Only admins: an operator learns nothing about the batch.
	e.wantError("operator", "POST", "/v1/terminals/import", bad, 403, "forbidden", "")
}
