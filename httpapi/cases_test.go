package httpapi_test

import (
	"net/url"
	"testing"
	"time"
)

// TestInvestigationToCutOff walks the README's investigation over HTTP:
// a case on a terminal, a suspension with its notice, and the cut-off in
// force on the next fix. It measures the time from the action's answer to
// the first denied decision; one process is one authorizer here (the
// cluster's test measures it across processes).
func TestInvestigationToCutOff(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	if rs := e.send(fix("ut-1", testNow, 50.45, 30.52, 0)); !rs[0].Allow {
		t.Fatalf("first fix: %+v", rs[0])
	}
	var c struct {
		ID, State string
		Actions   []struct{ State string }
	}
	e.must("investigator", "POST", "/v1/cases", map[string]any{"terminal_id": "ut-1", "title": "seen in occupied territory"}, 201, &c)
	e.wantError("investigator", "POST", "/v1/cases/"+c.ID+"/actions", map[string]any{"action": "suspend", "grounds": "unauthorized_region", "reason": "r"}, 400, "invalid", "notice")
	e.wantError("investigator", "POST", "/v1/cases/"+c.ID+"/actions", map[string]any{"action": "suspend", "reason": "r", "notice": "n", "grace": "soon"}, 400, "invalid", "grace")
	e.must("investigator", "POST", "/v1/cases/"+c.ID+"/actions", map[string]any{"action": "suspend", "grounds": "unauthorized_region",
		"reason": "used in occupied territory", "notice": "Your terminal was used where service is not allowed."}, 200, &c)
	acted := time.Now()
	rs := e.send(fix("ut-1", testNow.Add(time.Minute), 50.45, 30.52, 0))
	took := time.Since(acted)
	if rs[0].Allow || rs[0].Reason != "terminal_suspended" {
		t.Fatalf("the first fix after the cut-off: %+v", rs[0])
	}
	t.Logf("cut-off in force %v after the action's answer (one authorizer)", took)
	if c.State != "actioned" || len(c.Actions) != 1 || c.Actions[0].State != "applied" {
		t.Errorf("case after the action: %+v", c)
	}
	var view struct {
		Case     struct{ ID string }
		Evidence struct {
			Terminal struct{ Status string }
		}
	}
	e.must("auditor", "GET", "/v1/cases/"+c.ID, nil, 200, &view)
	if view.Evidence.Terminal.Status != "suspended" {
		t.Errorf("evidence: %+v", view)
	}
	e.wantError("viewer", "GET", "/v1/cases", nil, 403, "forbidden", "")
	var rep struct {
		Cutoffs []struct {
			Region, Grounds string
			Terminals       int
		}
	}
	e.must("auditor", "GET", "/v1/reports/cutoffs", nil, 200, &rep)
	if len(rep.Cutoffs) != 1 || rep.Cutoffs[0].Grounds != "unauthorized_region" || rep.Cutoffs[0].Terminals != 1 {
		t.Errorf("report: %+v", rep)
	}
	e.wantError("auditor", "GET", "/v1/reports/cutoffs?from=yesterday", nil, 400, "invalid", "from")
}

// TestCasesPaged: GET /v1/cases pages with next_cursor through every case
// once, and a cursor it did not give is refused, naming the field.
func TestCasesPaged(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	opened := map[string]bool{}
	for range 7 {
		var c struct{ ID string }
		e.must("investigator", "POST", "/v1/cases", map[string]any{"terminal_id": "ut-1", "title": "paged"}, 201, &c)
		opened[c.ID] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		var page struct {
			Cases      []struct{ ID string }
			NextCursor string `json:"next_cursor"`
		}
		e.must("auditor", "GET", "/v1/cases?limit=3&cursor="+url.QueryEscape(cursor), nil, 200, &page)
		pages++
		for _, c := range page.Cases {
			if seen[c.ID] {
				t.Errorf("page %d shows case %s again", pages, c.ID)
			}
			seen[c.ID] = true
		}
		if page.NextCursor == "" || pages > 7 {
			break
		}
		cursor = page.NextCursor
	}
	if pages != 3 || len(seen) != len(opened) {
		t.Errorf("%d pages of 3 gave %d cases, want 3 pages and the %d opened", pages, len(seen), len(opened))
	}
	for id := range opened {
		if !seen[id] {
			t.Errorf("no page shows case %s", id)
		}
	}
	e.wantError("auditor", "GET", "/v1/cases?cursor=case-1", nil, 400, "invalid", "cursor")
}
