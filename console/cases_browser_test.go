package console_test

import (
	"fmt"
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
