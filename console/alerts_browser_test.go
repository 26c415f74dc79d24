package console_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// listedAlert is what these tests read of an alert.
type listedAlert struct {
	ID         string
	Detector   string
	TerminalID string `json:"terminal_id"`
	Severity   string
	Region     string
	Incident   string
	Explained  bool
}

// alerts pages GET /v1/alerts?query through to its end, as key.
func (s *server) alerts(t *testing.T, key, query string) []listedAlert {
	t.Helper()
	var all []listedAlert
	for cursor := ""; ; {
		var p struct {
			Alerts     []listedAlert
			NextCursor string `json:"next_cursor"`
		}
		s.call(t, key, "GET", "/v1/alerts?"+query+"&limit=1000&cursor="+url.QueryEscape(cursor), nil, 200, &p)
		all = append(all, p.Alerts...)
		if cursor = p.NextCursor; cursor == "" {
			return all
		}
	}
}

// openIncidents lists the open incidents' ids, as key.
func (s *server) openIncidents(t *testing.T, key, query string) (ids []string, terminals int) {
	t.Helper()
	var out struct {
		Incidents []struct {
			ID        string
			Terminals int
		}
	}
	s.call(t, key, "GET", "/v1/incidents?state=open&limit=1000&"+query, nil, 200, &out)
	for _, inc := range out.Incidents {
		ids = append(ids, inc.ID)
		terminals += inc.Terminals
	}
	return ids, terminals
}

// waitForAlerts asks the API until done says what it serves is complete:
// detection runs behind ingest. The bound is a failsafe, not a measure.
func waitForAlerts(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !done(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("detection never served %s", what)
		}
	}
}

// spoofArea registers twelve terminals around Kyiv and sends, through
// POST /v1/fixes, a fix of each at home and then one of each at a single
// position near Kursk while their serving cells stay at home: GNSS
// spoofing, which detection raises as one interference incident
// (detect/incident_test.go's scenario). Their fixes start at t0.
func (s *server) spoofArea(t *testing.T, gateway string, t0 time.Time) {
	t.Helper()
	var partner struct {
		Secret string
		Key    skyfence.APIKey
	}
	s.call(t, s.admin, "POST", "/v1/keys", map[string]string{"name": "ministry", "person": "ministry", "role": "partner", "region": "UA", "authority": "UA-MOD"}, 201, &partner)
	if partner.Key.Pending {
		s.call(t, s.admin2, "POST", "/v1/keys/"+partner.Key.ID+"/approve", map[string]string{"comment": "test"}, 200, nil)
	}
	var home, spoofed []any
	for k := range 12 {
		id := fmt.Sprintf("kyiv-%02d", k)
		lat, lon := 50.1+0.06*float64(k), 30.2+0.05*float64(k)
		s.call(t, s.admin, "POST", "/v1/accounts", map[string]string{"id": "acct-" + id, "name": "Account of " + id}, 201, nil)
		s.call(t, s.admin, "POST", "/v1/terminals", map[string]string{"id": id, "account_id": "acct-" + id, "plan": "residential", "country": "UA"}, 201, nil)
		s.call(t, partner.Secret, "POST", "/v1/verifications", map[string]string{"terminal_id": id, "region": "UA", "authority": "UA-MOD", "class": "civil"}, 201, nil)
		s.call(t, s.admin, "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": lat, "lon": lon}, 200, nil)
		cell := skyfence.CellOf(lat, lon)
		home = append(home, map[string]any{"terminal_id": id, "time": t0.Add(time.Second), "lat": lat, "lon": lon, "cell": cell})
		spoofed = append(spoofed, map[string]any{"terminal_id": id, "time": t0.Add(16*time.Second + time.Duration(k)*100*time.Millisecond), "lat": 51.7, "lon": 36.2, "cell": cell})
	}
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": home}, 200, nil)
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": spoofed}, 200, nil)
}

// deniedInMoscow imports n active terminals bought in Germany, moscow-0,
// moscow-1, …, and sends each two fixes in Moscow (embargoed), 30 s apart
// at a place of its own, through POST /v1/fixes: each raises an
// origin_denied alert no incident explains.
func (s *server) deniedInMoscow(t *testing.T, gateway string, n int, at time.Time) {
	t.Helper()
	s.call(t, s.admin, "POST", "/v1/accounts", map[string]string{"id": "moscow", "name": "smuggled"}, 201, nil)
	ts := make([]*skyfence.Terminal, n)
	var fixes []any
	for i := range ts {
		id := fmt.Sprintf("moscow-%d", i)
		ts[i] = &skyfence.Terminal{ID: id, AccountID: "moscow", Plan: "roam", Country: "DE", Status: skyfence.Active}
		lat, lon := 55.5+0.03*float64(i/15), 37.3+0.03*float64(i%15)
		fixes = append(fixes, map[string]any{"terminal_id": id, "time": at, "lat": lat, "lon": lon},
			map[string]any{"terminal_id": id, "time": at.Add(30 * time.Second), "lat": lat, "lon": lon})
	}
	if err := s.svc.ImportTerminals(control.WithPrincipal(context.Background(), control.System), ts, "test fleet"); err != nil {
		t.Fatal(err)
	}
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": fixes}, 200, nil)
}

// drawn is what the alerts view shows: the incident groups with the
// alerts folded under each, and the alerts no incident explains.
type drawn struct {
	Groups []struct {
		ID, Summary string
		Open        bool
		Alerts      []string
		Visible     int
	}
	Alerts []string
	Ready  bool
}

const drawnJS = `({
	Groups: [...document.querySelectorAll('details.incident')].map((d) => ({
		ID: d.dataset.id, Summary: d.querySelector('summary').textContent, Open: d.open,
		Alerts: [...d.querySelectorAll('tr.alert')].map((r) => r.dataset.id),
		Visible: [...d.querySelectorAll('tr.alert')].filter((r) => r.checkVisibility()).length})),
	Alerts: [...document.querySelectorAll('#alerts tr.alert')].map((r) => r.dataset.id),
	Ready: document.body.dataset.ready === '1',
})`

func (b *browser) drawn() drawn {
	b.t.Helper()
	var d drawn
	b.eval(drawnJS, &d)
	return d
}

func alertIDs(as []listedAlert, keep func(listedAlert) bool) []string {
	var out []string
	for _, a := range as {
		if keep(a) {
			out = append(out, a.ID)
		}
	}
	return out
}

// expectView is what the view should show for the alert filters query
// and the incident filters incidentQuery, by the API: each open incident
// that has alerts matching query (all of it when query names no
// detector, severity or region) with those alerts, then the matching
// alerts that no incident explains.
func (s *server) expectView(t *testing.T, key, query, incidentQuery string) (groups map[string][]string, alone []string) {
	t.Helper()
	narrowed := strings.Contains(query, "detector=") || strings.Contains(query, "severity=") || strings.Contains(query, "region=")
	groups = map[string][]string{}
	ids, _ := s.openIncidents(t, key, incidentQuery)
	for _, id := range ids {
		of := alertIDs(s.alerts(t, key, query+"&incident="+id), func(listedAlert) bool { return true })
		if len(of) > 0 || !narrowed {
			groups[id] = of
		}
	}
	return groups, alertIDs(s.alerts(t, key, query), func(a listedAlert) bool { return !a.Explained })
}

// checkView fails the test unless the view shows what expectView says.
func checkView(t *testing.T, name string, d drawn, groups map[string][]string, alone []string) {
	t.Helper()
	got := map[string][]string{}
	for _, g := range d.Groups {
		got[g.ID] = g.Alerts
	}
	if len(got) != len(groups) {
		t.Errorf("%s: the view groups %d incidents %v, want %d %v", name, len(got), got, len(groups), groups)
	}
	for id, want := range groups {
		if g, ok := got[id]; !ok || !slices.Equal(g, want) {
			t.Errorf("%s: incident %s folds %v, want %v", name, id, g, want)
		}
	}
	if !slices.Equal(d.Alerts, alone) {
		t.Errorf("%s: the alerts no incident explains are %v, want %v", name, d.Alerts, alone)
	}
}

// TestAlertsGroupedByIncident: the alerts of a GNSS interference
// incident, made by real fixes (twelve terminals around Kyiv spoofed to
// one place near Kursk), fold under the incident, which the keyboard
// unfolds; the alerts of three terminals denied in Moscow are listed
// after it. Each filter (severity, detector, region, time) shows what the
// API gives for it; an alert opens its terminal on the map, and an
// investigator opens a case from it.
func TestAlertsGroupedByIncident(t *testing.T) {
	s := newDetectingServer(t)
	investigator, gateway := s.key(t, "ivan", "investigator"), s.key(t, "gw", "gateway")
	t0 := now().Add(-4 * time.Minute)
	s.spoofArea(t, gateway, t0)
	s.deniedInMoscow(t, gateway, 3, t0.Add(2*time.Minute))
	var incident string
	waitForAlerts(t, "the incident of 12 terminals and the 3 origin_denied alerts", func() bool {
		ids, terminals := s.openIncidents(t, investigator, "")
		explained := alertIDs(s.alerts(t, investigator, "detector=impossible_travel"), func(a listedAlert) bool { return a.Explained })
		denied := s.alerts(t, investigator, "detector=origin_denied")
		if len(ids) == 1 {
			incident = ids[0]
		}
		return len(ids) == 1 && terminals == 12 && len(explained) == 12 && len(denied) == 3
	})
	moscow := s.alerts(t, investigator, "detector=origin_denied")

	b := newBrowser(t, 1300, 900)
	b.login(s.url, investigator, "#/alerts")
	d := b.drawn()
	groups, alone := s.expectView(t, investigator, "", "")
	checkView(t, "no filter", d, groups, alone)
	for _, a := range moscow {
		if !slices.Contains(d.Alerts, a.ID) {
			t.Errorf("%s's origin_denied alert %s is not listed on its own", a.TerminalID, a.ID)
		}
	}
	if len(d.Groups) != 1 || d.Groups[0].ID != incident || !strings.Contains(d.Groups[0].Summary, "12 terminals") ||
		!strings.Contains(d.Groups[0].Summary, "GNSS interference") || d.Groups[0].Open || d.Groups[0].Visible != 0 {
		t.Fatalf("the view shows the incidents %+v, want %s folded, of 12 terminals", d.Groups, incident)
	}
	// The keyboard unfolds it: its alerts are then drawn.
	summary := `details.incident[data-id="` + incident + `"] > summary`
	b.do("press", map[string]any{"selector": summary, "key": "Enter"})
	b.waitFor(`document.querySelector('details.incident').open`)
	if d = b.drawn(); d.Groups[0].Visible != len(groups[incident]) || d.Groups[0].Visible < 12 {
		t.Errorf("unfolded, the incident shows %d of its %d alerts", d.Groups[0].Visible, len(groups[incident]))
	}
	b.shot("console-alerts")
	b.do("press", map[string]any{"selector": summary, "key": "Enter"})
	b.waitFor(`!document.querySelector('details.incident').open`)

	filter := func(name, query, incidentQuery string, set map[string]string) drawn {
		t.Helper()
		for sel, v := range set {
			if strings.HasPrefix(sel, "#f-detector") || strings.HasPrefix(sel, "#f-severity") {
				b.do("select", map[string]any{"selector": sel, "value": v})
			} else {
				b.do("fill", map[string]any{"selector": sel, "value": v})
			}
		}
		b.do("click", map[string]any{"selector": "#alert-filters button[type=submit]"})
		b.waitFor(`document.body.dataset.ready === '1'`)
		d := b.drawn()
		groups, alone := s.expectView(t, investigator, query, incidentQuery)
		checkView(t, name, d, groups, alone)
		return d
	}
	if d := filter("severity high", "severity=high", "", map[string]string{"#f-severity": "high"}); len(d.Groups) != 0 || len(d.Alerts) < 3 {
		t.Errorf("severity high: %d incidents, %d alerts; want none (its alerts are explained, low) and the 3 denied in Moscow", len(d.Groups), len(d.Alerts))
	}
	if d := filter("impossible_travel", "detector=impossible_travel", "", map[string]string{"#f-severity": "", "#f-detector": "impossible_travel"}); len(d.Groups) != 1 || len(d.Groups[0].Alerts) != 12 {
		t.Errorf("impossible_travel: %+v, want the incident with its 12 alerts", d.Groups)
	}
	region := moscow[0].Region
	filter("region "+region, "region="+url.QueryEscape(region), "", map[string]string{"#f-detector": "", "#f-region": region})
	from := t0.Add(time.Minute).UTC()
	q := "from=" + url.QueryEscape(from.Format(time.RFC3339))
	if d := filter("from "+from.Format(time.RFC3339), q, q, map[string]string{"#f-region": "", "#f-from": from.Format("2006-01-02T15:04:05")}); len(d.Groups) != 0 ||
		!slices.Equal(d.Alerts, alertIDs(moscow, func(listedAlert) bool { return true })) {
		t.Errorf("from %v, after the incident: incidents %+v, alerts %v; want only the 3 denied in Moscow", from, d.Groups, d.Alerts)
	}

	// An alert opens its terminal on the map.
	a := moscow[0]
	b.do("click", map[string]any{"selector": `#alerts tr.alert[data-id="` + a.ID + `"] a.terminal`})
	b.waitFor(`document.body.dataset.view === 'map' && document.body.dataset.terminal === '` + a.TerminalID + `' && document.getElementById('terminal-status') !== null`)
	if got := b.text("#details h2"); !strings.Contains(got, a.TerminalID) {
		t.Errorf("the alert's terminal link shows %q", got)
	}

	// And an investigator opens a case from it.
	b.do("eval", map[string]any{"js": `void (location.hash = '#/alerts')`})
	b.waitFor(`document.body.dataset.view === 'alerts' && document.body.dataset.ready === '1'`)
	b.do("click", map[string]any{"selector": `#alerts tr.alert[data-id="` + a.ID + `"] button.open-case`})
	b.waitFor(`document.body.dataset.view === 'cases' && document.body.dataset.ready === '1' && document.getElementById('case-state-badge') !== null`)
	if got := b.text("#case"); !strings.Contains(got, a.TerminalID) || !strings.Contains(got, "origin_denied") {
		t.Errorf("the case opened from the alert shows %q, want its terminal and the alert", got)
	}
	var cases struct {
		Cases []struct {
			ID         string
			TerminalID string `json:"terminal_id"`
			Alerts     []string
		}
	}
	s.call(t, investigator, "GET", "/v1/cases?terminal_id="+a.TerminalID, nil, 200, &cases)
	if len(cases.Cases) != 1 || !slices.Equal(cases.Cases[0].Alerts, []string{a.ID}) {
		t.Errorf("the cases of %s: %+v, want one citing %s", a.TerminalID, cases.Cases, a.ID)
	}
}

// TestAlertsPages: 105 terminals denied in Moscow raise more alerts than
// a page holds; the view lists the first 100 and "More alerts" reads on
// to the rest. An alert raised then is announced, and listed on Read
// again. An auditor reads them but may not open a case.
func TestAlertsPages(t *testing.T) {
	s := newDetectingServer(t)
	auditor, gateway := s.key(t, "aud", "auditor"), s.key(t, "gw", "gateway")
	const n = 105
	s.deniedInMoscow(t, gateway, n, now().Add(-time.Minute))
	waitForAlerts(t, fmt.Sprintf("%d origin_denied alerts", n), func() bool { return len(s.alerts(t, auditor, "detector=origin_denied")) == n })
	all := alertIDs(s.alerts(t, auditor, ""), func(a listedAlert) bool { return !a.Explained })
	rows := `document.querySelectorAll('#alerts tr.alert').length`
	b := newBrowser(t, 1300, 900)
	b.login(s.url, auditor, "#/alerts")
	b.waitFor(rows + ` === 100 && !document.getElementById('more-alerts').hidden`)
	b.do("click", map[string]any{"selector": "#more-alerts"})
	b.waitFor(rows + fmt.Sprintf(` === %d && document.getElementById('more-alerts').hidden`, len(all)))
	if d := b.drawn(); !slices.Equal(d.Alerts, all) {
		t.Errorf("the view lists %d alerts %v, want %d %v", len(d.Alerts), d.Alerts, len(all), all)
	}
	// An alert raised while the list is open is announced by the live
	// feed, and Read again lists it.
	s.call(t, s.admin, "POST", "/v1/terminals", map[string]string{"id": "late", "account_id": "moscow", "plan": "roam", "country": "DE"}, 201, nil)
	s.call(t, s.admin, "POST", "/v1/terminals/late/activate", map[string]float64{"lat": 52.52, "lon": 13.40}, 200, nil)
	at := now().Add(-40 * time.Second)
	s.call(t, gateway, "POST", "/v1/fixes", map[string]any{"fixes": []any{
		map[string]any{"terminal_id": "late", "time": at, "lat": 55.2, "lon": 37.9},
		map[string]any{"terminal_id": "late", "time": at.Add(30 * time.Second), "lat": 55.2, "lon": 37.9},
	}}, 200, nil)
	b.waitFor(`!document.getElementById('alerts-fresh').hidden`)
	b.do("click", map[string]any{"selector": "#read-again"})
	b.waitFor(`document.body.dataset.ready === '1' && [...document.querySelectorAll('#alerts tr.alert a.terminal')].some((a) => a.textContent === 'late')`)
	var buttons int
	b.eval(`document.querySelectorAll('button.open-case').length`, &buttons)
	if buttons != 0 {
		t.Errorf("an auditor is offered %d Open case buttons", buttons)
	}
	// On a phone the lists scroll in their place: the page is no wider
	// than the screen.
	b.do("viewport", map[string]any{"width": 390, "height": 844})
	var wide int
	b.eval(`document.documentElement.scrollWidth`, &wide)
	if wide > 390 {
		t.Errorf("at phone width the alerts view is %d px wide", wide)
	}
	b.shot("console-alerts-phone")
}

// TestAlertsViewNeedsReadAlerts: the roles that may not read alerts do
// not see the view, not in the bar nor at its address; a viewer does.
func TestAlertsViewNeedsReadAlerts(t *testing.T) {
	s := newServer(t)
	b := newBrowser(t, 1200, 800)
	const seen = `({View: document.body.dataset.view, Nav: [...document.querySelectorAll('header nav a')].map((a) => a.getAttribute('href'))})`
	var got struct {
		View string
		Nav  []string
	}
	for _, role := range []string{"policy_author", "approver", "emergency"} {
		b.login(s.url, s.key(t, role+"-1", role), "#/alerts")
		b.eval(seen, &got)
		if got.View == "alerts" || slices.Contains(got.Nav, "#/alerts") {
			t.Errorf("%s sees view %q and the bar %v, want no alerts", role, got.View, got.Nav)
		}
	}
	b.login(s.url, s.key(t, "vera", "viewer"), "#/alerts")
	b.eval(seen, &got)
	if got.View != "alerts" || !slices.Contains(got.Nav, "#/alerts") {
		t.Errorf("a viewer sees view %q and the bar %v, want the alerts", got.View, got.Nav)
	}
}
