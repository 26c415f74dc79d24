package httpapi_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// TestChangesPaged: GET /v1/changes says where its next page starts (here
// none: the store holds the initial policy only) and refuses a cursor it
// did not give, naming the field.
func TestChangesPaged(t *testing.T) {
	e := newEnv(t)
	var page struct {
		Changes    []struct{ ID string }
		NextCursor *string `json:"next_cursor"`
	}
	e.must("admin", "GET", "/v1/changes?limit=1", nil, 200, &page)
	if len(page.Changes) != 1 || page.NextCursor == nil || *page.NextCursor != "" {
		t.Errorf("the one change in pages of 1: %+v, want it and an empty next_cursor", page)
	}
	e.wantError("admin", "GET", "/v1/changes?cursor=chg-1", nil, 400, "invalid", "cursor")
}

// personKey makes a key of role held by person (the second admin approves
// the grant where it needs one) and returns its name in e.keys.
func (e *env) personKey(person, role string) string {
	var out struct {
		Secret string
		Key    skyfence.APIKey
	}
	e.must("admin", "POST", "/v1/keys", map[string]string{"name": person + "-" + role, "person": person, "role": role}, 201, &out)
	if out.Key.Pending {
		e.must("admin2", "POST", "/v1/keys/"+out.Key.ID+"/approve", map[string]string{"comment": "second admin"}, 200, nil)
	}
	e.keys[person+"-"+role] = out.Secret
	return person + "-" + role
}

// TestRollbackRouteIsGoverned: POST /v1/policy/rollback drafts the
// rollback and puts nothing in force; it goes into force only with two
// other persons' approvals, or through the emergency path with its role
// and a justification.
func TestRollbackRouteIsGoverned(t *testing.T) {
	e := newEnv(t)
	alice, bob, bobApprover := e.personKey("alice", "policy_author"), e.personKey("bob", "policy_author"), e.personKey("bob", "approver")
	carol, carolAdmin, erin, dave := e.personKey("carol", "approver"), e.personKey("carol", "admin"), e.personKey("erin", "approver"), e.personKey("dave", "emergency")
	initial := e.svc.Authorizer().Snapshot().Version
	text, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ ID, Version, State string }
	e.must(alice, "POST", "/v1/changes", map[string]any{"title": "Taiwan", "justification": "licence", "requester": "NCC", "category": "regulator",
		"files": []map[string]string{
			{"name": "policy.yaml", "content": strings.Replace(string(text), "  TW:\n    status: coming_soon\n", "  TW:\n    status: waitlist\n", 1)},
			{"name": "zones.geojson", "content": string(zones)}}}, 201, &c)
	e.must(alice, "POST", "/v1/changes/"+c.ID+"/propose", nil, 200, nil)
	e.must(carol, "POST", "/v1/changes/"+c.ID+"/review", map[string]any{"approve": true}, 200, nil)
	e.must(erin, "POST", "/v1/changes/"+c.ID+"/review", map[string]any{"approve": true}, 200, nil)
	e.must(alice, "POST", "/v1/changes/"+c.ID+"/activate", nil, 200, nil)
	if c.Version == initial || e.svc.Authorizer().Snapshot().Version != c.Version {
		t.Fatalf("the change %s is not in force (policy %s, initial %s)", c.Version, e.svc.Authorizer().Snapshot().Version, initial)
	}
	inForce := func(what string) {
		t.Helper()
		if got := e.svc.Authorizer().Snapshot().Version; got != c.Version {
			t.Fatalf("%s: policy %s in force, want %s", what, got, c.Version)
		}
	}

	e.wantError(bobApprover, "POST", "/v1/policy/rollback", map[string]string{"reason": "alone"}, 403, "forbidden", "")
	e.wantError(bob, "POST", "/v1/policy/rollback", map[string]string{"reason": "  "}, 400, "invalid", "reason")
	var r struct {
		ID, State, Version, Next string
		RollsBack                string `json:"rolls_back"`
	}
	e.must(bob, "POST", "/v1/policy/rollback", map[string]string{"reason": "the licence was not signed"}, 201, &r)
	if r.State != "draft" || r.RollsBack != c.ID || r.Version != initial || !strings.Contains(r.Next, "/v1/changes/"+r.ID+"/propose") {
		t.Errorf("the rollback: %+v", r)
	}
	inForce("after POST /v1/policy/rollback")
	e.must(bob, "POST", "/v1/changes/"+r.ID+"/propose", nil, 200, nil)
	e.wantError(bobApprover, "POST", "/v1/changes/"+r.ID+"/review", map[string]any{"approve": true}, 403, "forbidden", "")
	e.must(carol, "POST", "/v1/changes/"+r.ID+"/review", map[string]any{"approve": true}, 200, nil)
	e.wantError(carolAdmin, "POST", "/v1/changes/"+r.ID+"/review", map[string]any{"approve": true}, 409, "conflict", "")
	e.wantError(bob, "POST", "/v1/changes/"+r.ID+"/activate", nil, 409, "conflict", "")
	e.wantError(bob, "POST", "/v1/changes/"+r.ID+"/emergency", map[string]string{"justification": "now"}, 403, "forbidden", "")
	e.wantError(dave, "POST", "/v1/changes/"+r.ID+"/emergency", map[string]string{"justification": " "}, 400, "invalid", "justification")
	inForce("after every attempt")

	e.must(dave, "POST", "/v1/changes/"+r.ID+"/emergency", map[string]string{"justification": "terminals in Taiwan are waitlisted by mistake"}, 200, nil)
	if got := e.svc.Authorizer().Snapshot().Version; got != initial {
		t.Fatalf("after the emergency rollback: policy %s, want %s", got, initial)
	}
	// Overdue past its deadline: in the metrics and the report, until two
	// persons other than its author have reviewed it.
	e.now = e.now.Add(25 * time.Hour)
	if got := metric(t, e, "skyfence_policy_reviews_overdue"); got != "1" {
		t.Errorf("skyfence_policy_reviews_overdue %s, want 1", got)
	}
	var rep struct {
		OverdueReviews int `json:"overdue_reviews"`
		Requests       []struct {
			ChangeID      string    `json:"change_id"`
			InForce       time.Time `json:"in_force_at"`
			RollsBack     string    `json:"rolls_back"`
			Reason        string    `json:"reason"`
			ReviewOverdue bool      `json:"review_overdue"`
		}
	}
	e.must("", "GET", "/v1/transparency", nil, 200, &rep)
	found := false
	for _, q := range rep.Requests {
		if q.ChangeID == r.ID {
			found = q.RollsBack == c.ID && q.Reason == "the licence was not signed" && q.ReviewOverdue
		}
	}
	if rep.OverdueReviews != 1 || !found {
		t.Errorf("the report: %+v", rep)
	}
	if _, page := e.do("", "GET", "/transparency", nil); !strings.Contains(string(page), "1 emergency\nchange put in force without prior review is past its review deadline") ||
		!strings.Contains(string(page), "Rolls back "+c.ID+": the licence was not signed") {
		t.Errorf("the report's page shows no overdue review or no rollback reason:\n%s", page)
	}
	e.must(erin, "POST", "/v1/changes/"+r.ID+"/review", map[string]any{"approve": true}, 200, nil)
	if got := metric(t, e, "skyfence_policy_reviews_overdue"); got != "0" {
		t.Errorf("after two reviews skyfence_policy_reviews_overdue %s, want 0", got)
	}
	if _, page := e.do("", "GET", "/transparency", nil); strings.Contains(string(page), "review deadline") {
		t.Error("the report's page still shows an overdue review after two reviews")
	}
}
