package console_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// TestOverdueEmergencyBanner: an emergency change whose reviews are late
// shows in a banner on every view of the console until two people other
// than its author have reviewed it, which they can do from the console.
func TestOverdueEmergencyBanner(t *testing.T) {
	// Reviews due a nanosecond after the activation: overdue at once.
	s := newServerWith(t, skyfence.ChangeRules{EmergencyReview: time.Nanosecond})
	alice, dave := s.key(t, "alice", "policy_author"), s.key(t, "dave", "emergency")
	bob, carol, vera := s.key(t, "bob", "approver"), s.key(t, "carol", "approver"), s.key(t, "vera", "viewer")
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	proposed := strings.Replace(string(doc), "status: coming_soon", "status: available\n    licence: {authority: NCC, reference: NCC/2026/31, valid_from: 2026-03-01}", 1)
	var c struct{ ID string }
	s.call(t, alice, "POST", "/v1/changes", map[string]any{
		"title": "Service in Taiwan", "justification": "The regulator granted a licence.", "requester": "NCC", "category": "regulator",
		"files": []map[string]string{{"name": "policy.yaml", "content": proposed}, {"name": "zones.geojson", "content": string(zones)}},
	}, 201, &c)
	s.call(t, dave, "POST", "/v1/changes/"+c.ID+"/emergency", map[string]string{"justification": "licence in force tonight"}, 200, nil)

	b := newBrowser(t, 1200, 800)
	shown := `(() => { const el = document.getElementById('overdue-banner'); return el && !el.hidden && el.textContent.includes('1 emergency change past the review deadline'); })()`
	b.login(s.url, vera, "#/policy")
	b.waitFor(shown)
	if got := b.text("#overdue-banner a"); got != "Service in Taiwan" {
		t.Errorf("the banner links %q, want the change's title", got)
	}
	b.shot("console-overdue-banner")

	page := "#/policy/" + c.ID
	for i, approver := range []string{bob, carol} {
		b.login(s.url, approver, page)
		b.waitFor(shown)
		b.do("click", map[string]any{"selector": "#approve"})
		b.waitFor(`document.getElementById('action-result').className === 'okmsg'`)
		if i == 0 {
			b.waitFor(shown) // one review is not enough
		}
	}
	b.waitFor(`document.getElementById('overdue-banner').hidden`)
	b.login(s.url, vera, "#/policy")
	var hidden bool
	b.eval(`document.getElementById('overdue-banner').hidden`, &hidden)
	if !hidden {
		t.Errorf("the banner is shown after two reviews: %q", b.text("#overdue-banner"))
	}
}
