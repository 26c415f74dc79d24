package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/httpapi"
)

type openapiDoc struct {
	Paths map[string]map[string]struct {
		Security *[]any   `json:"security"`
		Roles    []string `json:"x-roles"`
	} `json:"paths"`
}

func loadOpenAPI(t *testing.T) openapiDoc {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b, httpapi.OpenAPI) {
		t.Fatal("the embedded OpenAPI document differs from openapi.json")
	}
	var doc openapiDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks that the document describes exactly the
// routes the server has, and that /openapi.json serves it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(documented)
	served := httpapi.Routes()
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented routes:\n%s\nserved routes:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	e := newEnv(t)
	code, b := e.do("", "GET", "/openapi.json", nil)
	if code != 200 || !slices.Equal(b, httpapi.OpenAPI) {
		t.Errorf("GET /openapi.json: %d, %d bytes", code, len(b))
	}
}

// TestRolesEndpointByEndpoint sends every route as every role and checks
// that exactly the roles the OpenAPI document lists (and admin) get past
// authorization, and that nobody gets in without a key.
func TestRolesEndpointByEndpoint(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	bodies := map[string]any{
		"POST /v1/accounts":                   map[string]string{"id": "acct-roles"},
		"POST /v1/terminals":                  map[string]string{"id": "t-roles", "account_id": "acct-ut-1", "plan": "roam", "country": "UA"},
		"POST /v1/terminals/{id}/status":      map[string]string{"status": "suspended", "reason": "roles test"},
		"POST /v1/terminals/{id}/activate":    map[string]float64{"lat": 50.45, "lon": 30.52},
		"POST /v1/verifications":              map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "UA-MOD"},
		"POST /v1/verifications/{id}/revoke":  map[string]string{"reason": "roles test"},
		"PUT /v1/cells/{id}":                  map[string]int{"capacity": 5},
		"POST /v1/fixes":                      map[string]any{"fixes": []any{}},
		"POST /v1/keys":                       map[string]string{"name": "k", "role": "viewer"},
		"POST /v1/keys/{id}/revoke":           map[string]string{"reason": "roles test"},
		"POST /v1/keys/{id}/authority":        map[string]string{"authority": "UA-MOD"},
		"POST /v1/persons":                    map[string]string{"name": "roles test"},
		"POST /v1/changes":                    map[string]any{"title": "t", "justification": "j", "requester": "internal", "category": "other", "files": []any{}},
		"POST /v1/changes/{id}/review":        map[string]any{"approve": true},
		"POST /v1/changes/{id}/emergency":     map[string]string{"justification": "roles test"},
		"POST /v1/changes/{id}/withdraw":      map[string]string{"reason": "roles test"},
		"POST /v1/policy/rollback":            map[string]string{"reason": "roles test"},
		"POST /v1/cases":                      map[string]string{"terminal_id": "ut-1", "title": "roles test"},
		"POST /v1/cases/{id}/assign":          map[string]string{"assignee": "ana"},
		"POST /v1/cases/{id}/notes":           map[string]string{"text": "roles test"},
		"POST /v1/cases/{id}/actions":         map[string]string{"action": "warn", "reason": "roles test", "notice": "n"},
		"POST /v1/cases/{id}/cancel":          map[string]string{"reason": "roles test"},
		"POST /v1/cases/{id}/review":          map[string]any{"approve": true},
		"POST /v1/cases/{id}/appeal":          map[string]string{"statement": "roles test"},
		"POST /v1/cases/{id}/appeal/decision": map[string]any{"grant": false, "reason": "roles test"},
		"POST /v1/cases/{id}/close":           map[string]string{"reason": "roles test"},
		"POST /v1/cutoffs/preview":            map[string]string{"country": "UA"},
		"POST /v1/cutoffs":                    map[string]any{"title": "t", "selection": map[string]string{"country": "UA"}, "action": "suspend", "reason": "r", "notice": "n"},
	}
	roles := []string{"admin", "viewer", "operator", "policy_author", "approver", "auditor", "partner-UA", "gateway", "emergency", "investigator"}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			url := strings.ReplaceAll(path, "{id}", "ut-1")
			if op.Security != nil && len(*op.Security) == 0 {
				if code, _ := e.do("", strings.ToUpper(method), url, bodies[route]); code == 401 || code == 403 {
					t.Errorf("%s is public but answered %d without a key", route, code)
				}
				continue
			}
			if code, _ := e.do("", strings.ToUpper(method), url, bodies[route]); code != http.StatusUnauthorized {
				t.Errorf("%s without a key: %d, want 401", route, code)
			}
			for _, role := range roles {
				allowed := role == "admin" || slices.Contains(op.Roles, strings.TrimSuffix(role, "-UA"))
				code, b := e.do(role, strings.ToUpper(method), url, bodies[route])
				if got := code != http.StatusForbidden && code != http.StatusUnauthorized; got != allowed {
					t.Errorf("%s as %s: %d (%s), want allowed=%v", route, role, code, strings.TrimSpace(string(b)), allowed)
				}
			}
		}
	}
}

// TestPartnerStaysInItsRegion: a partner authority verifies, lists and
// revokes in its own region only.
func TestPartnerStaysInItsRegion(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.wantError("partner-PL", "POST", "/v1/verifications", map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "UA-MOD"}, 403, "forbidden", "region")
	e.wantError("partner-PL", "GET", "/v1/verifications?region=UA", nil, 403, "forbidden", "region")
	var list struct {
		Verifications []struct{ ID, Region string }
	}
	e.must("partner-UA", "GET", "/v1/verifications?terminal_id=ut-1", nil, 200, &list)
	if len(list.Verifications) != 1 {
		t.Fatalf("UA partner sees %d verifications, want 1", len(list.Verifications))
	}
	e.must("partner-PL", "GET", "/v1/verifications?terminal_id=ut-1", nil, 200, &list)
	if len(list.Verifications) != 0 {
		t.Errorf("PL partner sees UA verifications: %+v", list.Verifications)
	}
	e.must("partner-UA", "GET", "/v1/verifications?terminal_id=ut-1", nil, 200, &list)
	id := list.Verifications[0].ID
	e.wantError("partner-PL", "POST", "/v1/verifications/"+id+"/revoke", map[string]string{"reason": "not mine"}, 403, "forbidden", "")
	e.must("partner-UA", "POST", "/v1/verifications/"+id+"/revoke", map[string]string{"reason": "expired contract"}, 200, nil)
}
