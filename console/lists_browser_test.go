package console_test

import (
	"fmt"
	"os"
	"testing"
)

// TestCaseQueuePages: the queue shows the first page of cases, and "More
// cases" adds the next until there is none.
func TestCaseQueuePages(t *testing.T) {
	s := newServer(t)
	s.terminal(t, "ut-8", "roam", "DE", 52.52, 13.40)
	investigator := s.key(t, "ivan", "investigator")
	const n = 103 // a page is 100
	for i := range n {
		s.call(t, investigator, "POST", "/v1/cases", map[string]any{"terminal_id": "ut-8", "title": fmt.Sprintf("case %d", i)}, 201, nil)
	}
	rows := `document.querySelectorAll('tr.row').length`
	b := newBrowser(t, 1200, 900)
	b.login(s.url, investigator, "#/cases")
	b.waitFor(rows + ` === 100 && !document.getElementById('more-cases').hidden`)
	b.do("click", map[string]any{"selector": "#more-cases"})
	b.waitFor(rows + fmt.Sprintf(` === %d && document.getElementById('more-cases').hidden`, n))
	b.waitFor(fmt.Sprintf(`new Set([...document.querySelectorAll('tr.row')].map((r) => r.dataset.id)).size === %d`, n))
}

// TestPolicyListPages: the list of policy changes shows the first page,
// and "More changes" adds the next. The store holds the initial policy
// and the drafts made here: 101, a page and one.
func TestPolicyListPages(t *testing.T) {
	s := newServer(t)
	alice := s.key(t, "alice", "policy_author")
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	const drafts = 100
	for i := range drafts {
		s.call(t, alice, "POST", "/v1/changes", map[string]any{
			"title": fmt.Sprintf("draft %d", i), "justification": "paging", "requester": "internal", "category": "other",
			"files": []map[string]string{{"name": "policy.yaml", "content": string(doc)}, {"name": "zones.geojson", "content": string(zones)}},
		}, 201, nil)
	}
	rows := `document.querySelectorAll('tr.row').length`
	b := newBrowser(t, 1200, 900)
	b.login(s.url, alice, "#/policy")
	b.waitFor(rows + ` === 100 && !document.getElementById('more-changes').hidden`)
	b.do("click", map[string]any{"selector": "#more-changes"})
	b.waitFor(rows + fmt.Sprintf(` === %d && document.getElementById('more-changes').hidden`, drafts+1))
}
