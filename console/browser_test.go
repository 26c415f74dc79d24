package console_test

import (
	"fmt"
	"image/color"
	"os"
	"strings"
	"testing"
	"time"
)

// statusColours are the legend's colours (web/src/basemap.js).
var statusColours = map[string]color.RGBA{
	"available":    {0x2e, 0x9d, 0x5b, 0xff},
	"waitlist":     {0xe3, 0xa2, 0x1a, 0xff},
	"not_licensed": {0xb6, 0xbc, 0xc6, 0xff},
	"embargoed":    {0x8e, 0x1b, 0x1b, 0xff},
}

func near(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return max(x, y)-min(x, y) <= 6<<8 }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

// TestPublicMap: /map draws every country in its status's colour (read
// back from the pixels at known places), and a click on a country names
// its status.
func TestPublicMap(t *testing.T) {
	s := newServer(t)
	b := newBrowser(t, 1200, 700)
	b.do("goto", map[string]any{"url": s.url + "/map"})
	b.waitFor(`document.body.dataset.ready === '1'`)
	b.shot("map")
	places := []struct {
		name, status string
		lon, lat     float64
	}{
		{"United States (Kansas)", "available", -98, 39},
		{"Russia (Siberia)", "embargoed", 100, 62},
		{"Nigeria", "waitlist", 8, 10},
		{"Brazil (default status)", "not_licensed", -52, -10},
		{"Germany", "available", 10.4, 51},
	}
	type xy struct{ X, Y float64 }
	img := b.screenshot()
	for _, p := range places {
		var at xy
		b.eval(fmt.Sprintf(`(() => { const r = document.getElementById('map').getBoundingClientRect(); const p = skyfenceMap.project([%g, %g]); return {X: p.x + r.left, Y: p.y + r.top}; })()`, p.lon, p.lat), &at)
		got := img.At(int(at.X), int(at.Y))
		if want := statusColours[p.status]; !near(got, want) {
			t.Errorf("%s at (%.0f, %.0f): colour %v, want %s %v", p.name, at.X, at.Y, got, p.status, want)
		}
	}
	var at xy
	b.eval(`(() => { const r = document.getElementById('map').getBoundingClientRect(); const p = skyfenceMap.project([8, 10]); return {X: p.x + r.left, Y: p.y + r.top}; })()`, &at)
	b.do("clickAt", map[string]any{"x": at.X, "y": at.Y})
	b.waitFor(`document.getElementById('info').textContent.includes('Nigeria')`)
	if got := b.text("#info"); !strings.Contains(got, "Waitlist") {
		t.Errorf("clicking Nigeria shows %q, want its status Waitlist", got)
	}
	// The keyboard way: choose a country from the list.
	b.do("select", map[string]any{"selector": "#country", "value": "RU"})
	if got := b.text("#info"); !strings.Contains(got, "Russia") || !strings.Contains(got, "Embargoed") || strings.Contains(got, "null") {
		t.Errorf("choosing Russia shows %q", got)
	}
	// On a phone the panel goes under the map, and nothing is wider than
	// the screen.
	b.do("viewport", map[string]any{"width": 390, "height": 844})
	var phone struct {
		Wide       bool
		PanelBelow bool
	}
	b.eval(`({Wide: document.documentElement.scrollWidth > 390,
		PanelBelow: document.querySelector('.panel').getBoundingClientRect().top >= document.getElementById('map').getBoundingClientRect().bottom - 1})`, &phone)
	if phone.Wide || !phone.PanelBelow {
		t.Errorf("at phone width: wider than the screen %v, panel under the map %v", phone.Wide, phone.PanelBelow)
	}
	b.shot("map-phone")
}

// TestConsoleLiveTerminal: an operator logs in; a terminal that sends its
// first fix appears on the map by the live feed, and a click shows its
// last decision.
func TestConsoleLiveTerminal(t *testing.T) {
	s := newServer(t)
	b := newBrowser(t, 1200, 700)
	b.do("goto", map[string]any{"url": s.url + "/console/"})
	b.waitFor(`document.body.dataset.view === 'login'`)
	b.do("fill", map[string]any{"selector": "#key", "value": "sfk_not_a_key"})
	b.do("press", map[string]any{"selector": "#key", "key": "Enter"})
	b.waitFor(`document.querySelector('.login .error').textContent.includes('not valid')`)

	s.terminal(t, "ut-1", "roam", "DE", 52.52, 13.40)
	operator := s.key(t, "olga", "operator")
	gateway := s.key(t, "gw", "gateway")
	b.login(s.url, operator, "#/map")
	if got := b.text("#me"); !strings.Contains(got, "olga") || !strings.Contains(got, "operator") {
		t.Errorf("the console shows %q for who is logged in", got)
	}
	if got := b.text("#count"); !strings.HasPrefix(got, "0 ") {
		t.Errorf("before any fix the map counts %q", got)
	}
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "ut-1", "time": now(), "lat": 52.52, "lon": 13.40},
	}}, 200, nil)
	b.waitFor(`document.getElementById('count').textContent.startsWith('1 ')`)
	b.do("eval", map[string]any{"js": `void skyfenceMap.jumpTo({center: [13.40, 52.52], zoom: 10})`})
	const onMap = `skyfenceMap.queryRenderedFeatures(skyfenceMap.project([13.40, 52.52]), {layers: ['terminal']}).length > 0`
	b.waitFor(onMap)
	var at struct{ X, Y float64 }
	b.eval(`(() => { const r = skyfenceMap.getContainer().getBoundingClientRect(); const p = skyfenceMap.project([13.40, 52.52]); return {X: p.x + r.left, Y: p.y + r.top}; })()`, &at)
	b.do("clickAt", map[string]any{"x": at.X, "y": at.Y})
	b.waitFor(`document.body.dataset.terminal === 'ut-1'`)
	if got := b.text("#terminal-decision"); !strings.Contains(got, "allowed") {
		t.Errorf("ut-1's last decision shows %q, want allowed", got)
	}
	// A country counts the terminals last decided in it.
	b.eval(`(() => { const r = skyfenceMap.getContainer().getBoundingClientRect(); const p = skyfenceMap.project([13.30, 52.40]); return {X: p.x + r.left, Y: p.y + r.top}; })()`, &at)
	b.do("clickAt", map[string]any{"x": at.X, "y": at.Y})
	b.waitFor(`document.getElementById('region-count') !== null`)
	if got := b.text("#region-count"); !strings.HasPrefix(got, "1 terminals") {
		t.Errorf("Germany counts %q", got)
	}
	// The keyboard way to a terminal: find it by id.
	b.do("fill", map[string]any{"selector": "#find", "value": "ut-1"})
	b.do("press", map[string]any{"selector": "#find", "key": "Enter"})
	b.waitFor(`document.getElementById('terminal-decision') !== null`)
	b.shot("console-map")

	// A change reaches the map as a diff of that terminal alone, not as
	// every terminal again: ut-1 jumps to Taipei, too fast, and is drawn
	// there red.
	b.do("eval", map[string]any{"js": `void (() => {
		const src = skyfenceMap.getSource('terminals');
		window.sent = {setData: 0, diffs: []};
		const update = src.updateData.bind(src), set = src.setData.bind(src);
		src.updateData = (d) => { sent.diffs.push(d); return update(d); };
		src.setData = (d) => { sent.setData++; return set(d); };
		skyfenceMap.jumpTo({center: [121.56, 25.03], zoom: 10});
	})()`})
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "ut-1", "time": now().Add(time.Minute), "lat": 25.03, "lon": 121.56},
	}}, 200, nil)
	b.waitFor(`skyfenceMap.queryRenderedFeatures(skyfenceMap.project([121.56, 25.03]), {layers: ['terminal']}).some((f) => f.properties.allow === false)`)
	var sent struct {
		SetData int
		Diffs   []struct {
			Add []struct {
				ID         int
				Properties struct{ Allow bool }
			}
		}
	}
	b.eval(`sent`, &sent)
	if sent.SetData != 0 || len(sent.Diffs) != 1 || len(sent.Diffs[0].Add) != 1 || sent.Diffs[0].Add[0].Properties.Allow {
		t.Errorf("the move reached the map as %+v, want one diff of one denied terminal and no setData", sent)
	}
}

// TestPolicyTwoPersonRule: in the console, the author of a proposed change
// cannot activate it; after two other persons approve it, she can.
func TestPolicyTwoPersonRule(t *testing.T) {
	s := newServer(t)
	alice, bob, carol := s.key(t, "alice", "policy_author"), s.key(t, "bob", "approver"), s.key(t, "carol", "approver")
	// A traveller from Germany in Taipei, denied there until the change.
	s.terminal(t, "de-1", "roam", "DE", 52.52, 13.40)
	s.call(t, s.key(t, "gw", "gateway"), "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "de-1", "time": now(), "lat": 25.03, "lon": 121.56},
	}}, 200, nil)
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	proposed := strings.Replace(string(doc), "status: coming_soon", "status: available\n    licence: {authority: NCC, reference: NCC/2026/31, valid_from: 2026-03-01}", 1)
	var c struct{ ID, State string }
	s.call(t, alice, "POST", "/v1/changes", map[string]any{
		"title": "Service in Taiwan", "justification": "The regulator granted a licence.", "requester": "National Communications Commission", "category": "regulator",
		"files": []map[string]string{{"name": "policy.yaml", "content": proposed}, {"name": "zones.geojson", "content": string(zones)}},
	}, 201, &c)
	s.call(t, alice, "POST", "/v1/changes/"+c.ID+"/propose", nil, 200, nil)

	b := newBrowser(t, 1200, 800)
	page := "#/policy/" + c.ID
	b.login(s.url, alice, page)
	b.waitFor(`document.getElementById('change-state').textContent === 'proposed'`)
	if got := b.text("#impact-gains"); !strings.HasPrefix(got, "1") {
		t.Errorf("impact preview: %q", got)
	}
	if got := b.text("#status-changes"); !strings.Contains(got, "Taiwan") {
		t.Errorf("the change's regions: %q, want Taiwan", got)
	}
	b.do("click", map[string]any{"selector": "#activate"})
	b.waitFor(`document.getElementById('action-result').className === 'error'`)
	t.Logf("the author activating: %s", b.text("#action-result"))
	b.shot("console-policy")

	for _, approver := range []string{bob, carol} {
		b.login(s.url, approver, page)
		b.do("fill", map[string]any{"selector": "#comment", "value": "licence checked"})
		b.do("click", map[string]any{"selector": "#approve"})
		b.waitFor(`document.getElementById('action-result').className === 'okmsg'`)
	}
	if got := b.text("#change-state"); got != "approved" {
		t.Errorf("after two approvals the change is %q, want approved", got)
	}
	b.login(s.url, alice, page)
	b.do("click", map[string]any{"selector": "#activate"})
	b.waitFor(`document.getElementById('action-result').className !== ''`)
	b.waitFor(`document.getElementById('change-state').textContent === 'active'`)
	s.call(t, alice, "GET", "/v1/changes/"+c.ID, nil, 200, &c)
	if c.State != "active" {
		t.Errorf("the server has the change %s, want active", c.State)
	}
}

// TestAuditPage: an auditor filters the log and verifies the chain.
func TestAuditPage(t *testing.T) {
	s := newServer(t)
	s.terminal(t, "ut-9", "roam", "DE", 52.52, 13.40)
	auditor := s.key(t, "audrey", "auditor")
	b := newBrowser(t, 1200, 800)
	b.login(s.url, auditor, "#/audit")
	b.do("fill", map[string]any{"selector": "#f-subject", "value": "ut-9"})
	b.do("press", map[string]any{"selector": "#f-subject", "key": "Enter"})
	b.waitFor(`[...document.querySelectorAll('tbody tr')].length > 0 && [...document.querySelectorAll('tbody tr')].every((r) => r.textContent.includes('ut-9'))`)
	b.do("click", map[string]any{"selector": "#verify"})
	b.waitFor(`document.getElementById('verify-result').textContent.includes('sound')`)
}

// TestCaseActionCutsOff: an investigator suspends a terminal from its
// case in the console; the terminal's next fix is denied.
func TestCaseActionCutsOff(t *testing.T) {
	s := newServer(t)
	s.terminal(t, "ut-7", "roam", "DE", 52.52, 13.40)
	gateway := s.key(t, "gw", "gateway")
	fix := func(lat, lon float64) (allow bool, reason string) {
		var out struct {
			Results []struct {
				Allow  bool
				Reason string
			}
		}
		s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
			map[string]any{"terminal_id": "ut-7", "time": now(), "lat": lat, "lon": lon},
		}}, 200, &out)
		return out.Results[0].Allow, out.Results[0].Reason
	}
	if allow, reason := fix(52.52, 13.40); !allow {
		t.Fatalf("before the case: %s", reason)
	}
	investigator := s.key(t, "ivan", "investigator")
	var c struct{ ID string }
	s.call(t, investigator, "POST", "/v1/cases", map[string]any{"terminal_id": "ut-7", "title": "Seen near a border crossing"}, 201, &c)

	b := newBrowser(t, 1200, 900)
	b.login(s.url, investigator, "#/cases/"+c.ID)
	b.waitFor(`document.querySelector('tr.row[data-id="` + c.ID + `"]') !== null`)
	b.do("select", map[string]any{"selector": "#action", "value": "suspend"})
	b.do("select", map[string]any{"selector": "#grounds", "value": "spoofing"})
	b.do("fill", map[string]any{"selector": "#action-reason", "value": "positions cloned from another terminal"})
	b.do("fill", map[string]any{"selector": "#action-notice", "value": "Your terminal's service is suspended while we look into its reported positions."})
	b.do("click", map[string]any{"selector": "#act"})
	b.waitFor(`document.getElementById('case-result').className === 'okmsg'`)
	b.shot("console-case")
	if got := b.text("#case-state-badge"); got != "actioned" {
		t.Errorf("the case shows state %q, want actioned", got)
	}
	if got := b.text("#case-terminal-status"); got != "suspended" {
		t.Errorf("the case shows the terminal %q, want suspended", got)
	}
	if allow, reason := fix(52.53, 13.41); allow || reason != "terminal_suspended" {
		t.Errorf("after the suspension: allow=%v reason=%s, want denied terminal_suspended", allow, reason)
	}
}
