package console_test

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
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

	// A change reaches the map as the terminals in view, drawn again from
	// the page's arrays, never as every terminal: with ut-2 staying in
	// Paris and the view on Taipei, ut-1 jumps to Taipei, too fast, and
	// the map gets it alone, drawn there red.
	s.terminal(t, "ut-2", "roam", "DE", 52.52, 13.40)
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "ut-2", "time": now(), "lat": 48.85, "lon": 2.35},
	}}, 200, nil)
	b.waitFor(`document.getElementById('count').textContent.startsWith('2 ')`)
	b.do("eval", map[string]any{"js": `void (() => {
		const src = skyfenceMap.getSource('terminals');
		window.sent = {updateData: 0, setData: []};
		const update = src.updateData.bind(src), set = src.setData.bind(src);
		src.updateData = (d) => { sent.updateData++; return update(d); };
		src.setData = (d) => { sent.setData.push(d.features.map(` + featureJS + `)); return set(d); };
		skyfenceMap.jumpTo({center: [121.56, 25.03], zoom: 10});
	})()`})
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "ut-1", "time": now().Add(time.Minute), "lat": 25.03, "lon": 121.56},
	}}, 200, nil)
	b.waitFor(`skyfenceMap.queryRenderedFeatures(skyfenceMap.project([121.56, 25.03]), {layers: ['terminal']}).some((f) => f.properties.allow === false)`)
	var sent struct {
		UpdateData int
		SetData    [][]mapFeature
	}
	b.eval(`sent`, &sent)
	if sent.UpdateData != 0 || len(sent.SetData) == 0 {
		t.Fatalf("the map got %d diffs and %d setData, want the view drawn again with setData", sent.UpdateData, len(sent.SetData))
	}
	for _, fs := range sent.SetData {
		for _, f := range fs {
			if !f.near(121.56, 25.03, 3) {
				t.Errorf("with the view on Taipei the map got a feature at %.2f, %.2f", f.Lon, f.Lat)
			}
		}
	}
	if last := sent.SetData[len(sent.SetData)-1]; len(last) != 1 || last[0].Count != 0 || last[0].Allow || !last[0].near(121.56, 25.03, 0.001) {
		t.Errorf("after the move the map got %+v, want ut-1 alone, denied, at Taipei", last)
	}
}

// TestMapGrid runs web/test/grid.test.mjs under node: the tests of the
// clustering the console's map draws with (web/src/grid.js).
func TestMapGrid(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		skipWithout(t, []string{"node (apt-get install nodejs npm)"})
	}
	cmd := exec.Command(node, "--test", "test/grid.test.mjs")
	cmd.Dir = "../web"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node --test test/grid.test.mjs: %v\n%s", err, out)
	}
}

// TestConsoleMapClusters: a fleet of 1,000 terminals is clustered on the
// page. The map gets a few features that count every terminal; a
// cluster's colour is its share denied; a click on a cluster zooms in
// until it opens, down to single terminals, and a click on one shows that
// terminal; the heat layer sums the denied ones.
func TestConsoleMapClusters(t *testing.T) {
	s := newServer(t)
	// 600 terminals around Berlin (allowed) and 400 around Moscow (Russia
	// is embargoed: denied), within half a degree.
	rng := rand.New(rand.NewPCG(1, 2))
	s.fleet(t, 1000, func(i int) (lat, lon float64) {
		lat, lon = 52.52, 13.40
		if i%5 >= 3 {
			lat, lon = 55.75, 37.62
		}
		return lat + rng.Float64() - 0.5, lon + rng.Float64() - 0.5
	})
	b := newBrowser(t, 1200, 700)
	b.login(s.url, s.admin, "#/map")
	if got := b.text("#count"); got != "1,000 terminals" {
		t.Fatalf("the map counts %q", got)
	}

	// The whole world: every terminal counted once, in a few features.
	fs := b.mapFeatures("terminals")
	if len(fs) > 10 {
		t.Errorf("at the world's zoom the map got %d features for 1,000 terminals", len(fs))
	}
	type sum struct{ n, denied int }
	around := func(fs []mapFeature, lon, lat float64) (s sum) {
		for _, f := range fs {
			if f.near(lon, lat, 3) {
				s.n += max(f.Count, 1)
				s.denied += f.Denied
				if f.Count == 0 && !f.Allow {
					s.denied++
				}
			}
		}
		return s
	}
	if got := around(fs, 13.40, 52.52); got != (sum{600, 0}) {
		t.Errorf("around Berlin the features count %+v, want 600 terminals, none denied", got)
	}
	if got := around(fs, 37.62, 55.75); got != (sum{400, 400}) {
		t.Errorf("around Moscow the features count %+v, want 400 terminals, all denied", got)
	}
	// The colours, read back from the pixels at the biggest clusters:
	// green where allowed, red where denied.
	img := b.screenshot()
	for _, c := range []struct {
		name     string
		lon, lat float64
		denied   bool
	}{{"Berlin", 13.40, 52.52, false}, {"Moscow", 37.62, 55.75, true}} {
		at := b.clusterAt(c.lon, c.lat)
		if at == nil {
			t.Fatalf("no cluster to click around %s", c.name)
		}
		r, g, bl, _ := img.At(int(at.X), int(at.Y)).RGBA()
		if red := r > 2*g && r > 2*bl; red != c.denied || (!c.denied && !(g > r && g > bl)) {
			t.Errorf("the cluster at %s is coloured %v", c.name, img.At(int(at.X), int(at.Y)))
		}
	}

	// Clicking the biggest cluster around Berlin zooms in to where it
	// opens: its terminals, all in view, in more than one feature; until
	// past the last cluster zoom every terminal is alone.
	for range 10 {
		at := b.clusterAt(13.40, 52.52)
		if at == nil {
			break
		}
		b.do("clickAt", map[string]any{"x": at.X, "y": at.Y})
		b.waitFor(fmt.Sprintf(`Math.abs(skyfenceMap.getZoom() - %g) < 0.01 && %s`, at.Expand, settled))
		fs = b.mapFeatures("terminals")
		n, opened := 0, 0
		for _, f := range fs {
			if f.near(at.Lon, at.Lat, 1) {
				n += max(f.Count, 1)
				opened++
			}
		}
		if n < at.Count || opened < 2 {
			t.Fatalf("the cluster of %d clicked at zoom %.2f opened at zoom %g into %d features of %d terminals", at.Count, at.Zoom, at.Expand, opened, n)
		}
	}
	var zoom float64
	b.eval(`skyfenceMap.getZoom()`, &zoom)
	if zoom < 9 {
		t.Fatalf("clicking clusters got to zoom %.2f, want 9 where every terminal is alone", zoom)
	}
	for _, f := range fs {
		if f.Count != 0 {
			t.Fatalf("at zoom %.2f the map got a cluster of %d", zoom, f.Count)
		}
	}

	// A click on a terminal shows that one: its last fix is where it is
	// drawn.
	var one *struct {
		X, Y, Lon, Lat float64
	}
	b.eval(`(() => {
		const r = skyfenceMap.getContainer().getBoundingClientRect();
		for (const f of skyfenceMap.queryRenderedFeatures({layers: ['terminal']})) {
			const p = skyfenceMap.project(f.geometry.coordinates);
			const top = skyfenceMap.queryRenderedFeatures(p, {layers: ['terminal']})[0];
			if (top && top.id === f.id && p.x > 20 && p.y > 20 && p.x < r.width - 60 && p.y < r.height - 20) {
				return {X: p.x + r.left, Y: p.y + r.top, Lon: f.geometry.coordinates[0], Lat: f.geometry.coordinates[1]};
			}
		}
		return null;
	})()`, &one)
	if one == nil {
		t.Fatal("no terminal to click")
	}
	b.do("clickAt", map[string]any{"x": one.X, "y": one.Y})
	b.waitFor(`document.getElementById('terminal-decision') !== null`)
	var id string
	b.eval(`document.body.dataset.terminal`, &id)
	var st struct{ Fix struct{ Lat, Lon float64 } }
	s.call(t, s.admin, "GET", "/v1/terminals/"+id+"/state", nil, 200, &st)
	if math.Abs(st.Fix.Lat-one.Lat) > 1e-4 || math.Abs(st.Fix.Lon-one.Lon) > 1e-4 {
		t.Errorf("clicking the terminal at %.5f, %.5f shows %s, last at %.5f, %.5f", one.Lat, one.Lon, id, st.Fix.Lat, st.Fix.Lon)
	}
	if got := b.text("#terminal-decision"); !strings.Contains(got, "allowed") {
		t.Errorf("%s's last decision shows %q, want allowed", id, got)
	}

	// The heat layer: the denied terminals in view, summed by cell.
	b.do("eval", map[string]any{"js": `void skyfenceMap.jumpTo({center: [20, 30], zoom: 1})`})
	b.waitFor(settled)
	b.do("click", map[string]any{"selector": "#heat"})
	heat := 0
	for _, f := range b.mapFeatures("denials") {
		heat += f.Denied
	}
	if heat != 400 {
		t.Errorf("the heat layer sums %d denied terminals, want 400", heat)
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
