package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
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
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

type alertPage struct {
	Alerts     []listedAlert
	NextCursor string `json:"next_cursor"`
}

// alertPages pages GET /v1/alerts?query by limit, failing on a page larger
// than limit, a short page with a cursor, or an alert seen twice.
func alertPages(e *env, query string, limit int) (all []listedAlert, pages int) {
	e.t.Helper()
	cursor := ""
	for {
		var p alertPage
		e.must("investigator", "GET", fmt.Sprintf("/v1/alerts?%s&limit=%d&cursor=%s", query, limit, url.QueryEscape(cursor)), nil, 200, &p)
		pages++
		if len(p.Alerts) > limit || p.NextCursor != "" && len(p.Alerts) < limit || pages > 100 {
			e.t.Fatalf("page %d of %q: %d alerts, next %q", pages, query, len(p.Alerts), p.NextCursor)
		}
		for _, a := range p.Alerts {
			if slices.ContainsFunc(all, func(b listedAlert) bool { return b.ID == a.ID }) {
				e.t.Fatalf("alert %s listed twice", a.ID)
			}
		}
		all = append(all, p.Alerts...)
		if p.NextCursor == "" {
			return all, pages
		}
		cursor = p.NextCursor
	}
}

// TestAlertsPagedAndFiltered: seven terminals each jump from Kyiv to
// Warsaw and back faster than their plan allows (seven, one short of an
// interference incident, each to its own spot): their seven
// impossible_travel alerts come by 3 in three pages, most recently seen
// first, and each filter selects what it says.
func TestAlertsPagedAndFiltered(t *testing.T) {
	e := newEnv(t)
	const n = 7
	for k := range n {
		id := fmt.Sprintf("ut-%d", k)
		e.register(id, "residential", "UA", true)
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
		at := testNow.Add(time.Duration(k-n) * time.Minute) // in the past: the clock is testNow
		e.send(fix(id, at, 50.45+0.01*float64(k), 30.52, 0), fix(id, at.Add(20*time.Second), 52.23+0.01*float64(k), 21.01, 0))
	}
	var travel []listedAlert
	for deadline := time.Now().Add(10 * time.Second); len(travel) < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var p alertPage
		e.must("investigator", "GET", "/v1/alerts?detector=impossible_travel", nil, 200, &p)
		travel = p.Alerts
	}
	if len(travel) != n {
		t.Fatalf("%d impossible_travel alerts, want %d", len(travel), n)
	}
	paged, pages := alertPages(e, "detector=impossible_travel", 3)
	if pages != 3 || !slices.Equal(ids(paged), ids(travel)) {
		t.Errorf("by 3: %d pages %v, want 3 pages of %v", pages, ids(paged), ids(travel))
	}
	for i := 1; i < len(paged); i++ {
		a, b := paged[i-1], paged[i]
		if b.LastSeen.After(a.LastSeen) || b.LastSeen.Equal(a.LastSeen) && b.ID > a.ID {
			t.Errorf("%s (last seen %v) listed after %s (%v)", b.ID, b.LastSeen, a.ID, a.LastSeen)
		}
	}

	// Every filter, against the whole list filtered here.
	all, _ := alertPages(e, "", 1000)
	mid := travel[3].LastSeen
	for _, c := range []struct {
		query string
		keep  func(a listedAlert) bool
	}{
		{"terminal_id=ut-2", func(a listedAlert) bool { return a.TerminalID == "ut-2" }},
		{"detector=impossible_travel&terminal_id=ut-5", func(a listedAlert) bool { return a.Detector == "impossible_travel" && a.TerminalID == "ut-5" }},
		{"severity=" + travel[0].Severity, func(a listedAlert) bool { return a.Severity == travel[0].Severity }},
		{"severity=medium,high", func(a listedAlert) bool { return a.Severity == "medium" || a.Severity == "high" }},
		{"region=" + url.QueryEscape(travel[0].Region), func(a listedAlert) bool { return a.Region == travel[0].Region }},
		{"from=" + mid.Format(time.RFC3339Nano), func(a listedAlert) bool { return !a.LastSeen.Before(mid) }},
		{"to=" + mid.Format(time.RFC3339Nano), func(a listedAlert) bool { return a.FirstSeen.Before(mid) }},
		{"incident=in_nope", func(listedAlert) bool { return false }},
		{"explained=false", func(listedAlert) bool { return true }},
		{"explained=true&detector=impossible_travel", func(listedAlert) bool { return false }},
	} {
		var want []string
		for _, a := range all {
			if c.keep(a) {
				want = append(want, a.ID)
			}
		}
		got, _ := alertPages(e, c.query, 3)
		if !slices.Equal(ids(got), want) {
			t.Errorf("%s: %v, want %v", c.query, ids(got), want)
		}
	}
	if travel[0].Region == "" {
		t.Error("the alerts carry no region to filter by")
	}

	// Bad input: 400 naming the parameter.
	for q, field := range map[string]string{
		"cursor=bm9wZQ": "cursor", "cursor=%2F%2F": "cursor", "severity=urgent": "severity", "severity=low,,high": "severity",
		"detector=speeding": "detector", "from=yesterday": "from", "to=2026-13-01T00:00:00Z": "to", "limit=0": "limit",
		"explained=yes": "explained", "explained=TRUE": "explained",
		"from=2026-06-15T12:00:00Z&to=2026-06-15T11:00:00Z": "to", "from=1500-01-01T00:00:00Z": "from",
	} {
		e.wantError("investigator", "GET", "/v1/alerts?"+q, nil, 400, skyfence.EINVALID, field)
	}
}

func ids(as []listedAlert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

type listedIncident struct {
	ID, Kind, State                string
	Start, End, Opened             time.Time
	MinLat, MinLon, MaxLat, MaxLon float64 `json:"-"`
	Cells, Terminals               int
}

// spoofArea registers twelve terminals around Kyiv whose receivers all
// jump at once to one position near Kursk while their serving cells stay
// at home (detect/incident_test.go's scenario, by HTTP), and returns the
// id of the incident GET /v1/incidents serves for it.
func spoofArea(e *env) listedIncident {
	e.t.Helper()
	const n = 12
	var home, spoofed []map[string]any
	for k := range n {
		id := fmt.Sprintf("ut-%02d", k)
		lat, lon := 50.1+0.06*float64(k), 30.2+0.05*float64(k)
		e.register(id, "residential", "UA", true)
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": lat, "lon": lon}, 200, nil)
		f := fix(id, testNow.Add(time.Second), lat, lon, 0)
		f["cell"] = skyfence.CellOf(lat, lon)
		home = append(home, f)
		g := fix(id, testNow.Add(16*time.Second+time.Duration(k)*100*time.Millisecond), 51.7, 36.2, 0)
		g["cell"] = skyfence.CellOf(lat, lon)
		spoofed = append(spoofed, g)
	}
	e.send(home...)
	e.send(spoofed...)
	var out struct {
		Incidents  []listedIncident
		NextCursor string `json:"next_cursor"`
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		e.must("operator", "GET", "/v1/incidents", nil, 200, &out)
		if len(out.Incidents) > 0 && out.Incidents[0].Terminals >= n {
			break
		}
	}
	if len(out.Incidents) != 1 || out.NextCursor != "" {
		e.t.Fatalf("%d incidents (next %q), want 1", len(out.Incidents), out.NextCursor)
	}
	return out.Incidents[0]
}

// TestIncidentServed: a GNSS interference incident made by fixes is
// served at /v1/incidents (open, its area, start and terminals) and at
// /v1/incidents/{id} with the alerts that carry its id, the same as
// /v1/alerts?incident= lists; on SQLite and PostgreSQL.
func TestIncidentServed(t *testing.T) { forEachStore(t, testIncidentServed) }

func testIncidentServed(t *testing.T, e *env, store skyfence.Store) {
	inc := spoofArea(e)
	start := testNow.Add(16 * time.Second)
	if inc.Kind != "gnss_interference" || inc.State != "open" || inc.Terminals != 12 || inc.Start.Before(start) ||
		inc.End.Before(inc.Start) || inc.Opened.Before(inc.Start) || inc.Cells < 1 || !strings.HasPrefix(inc.ID, "in_") {
		t.Errorf("incident %+v: want open, 12 terminals, from %v", inc, start)
	}
	var view struct {
		Incident   listedIncident
		Alerts     []listedAlert
		AlertsMore bool `json:"alerts_more"`
	}
	e.must("viewer", "GET", "/v1/incidents/"+inc.ID, nil, 200, &view)
	if view.Incident.ID != inc.ID || view.AlertsMore {
		t.Errorf("view of %s: %+v", inc.ID, view.Incident)
	}
	terms := map[string]bool{}
	for _, a := range view.Alerts {
		if a.Incident != inc.ID {
			t.Errorf("alert %s of %s carries %q, listed under %s", a.ID, a.TerminalID, a.Incident, inc.ID)
		}
		if a.Detector == "impossible_travel" && a.Explained && a.Severity == "low" {
			terms[a.TerminalID] = true
		}
	}
	if len(terms) != 12 {
		t.Errorf("%d terminals' impossible_travel alerts carry the incident, explained and low; want 12", len(terms))
	}
	byIncident, _ := alertPages(e, "incident="+inc.ID, 5)
	if !slices.Equal(ids(byIncident), ids(view.Alerts)) {
		t.Errorf("/v1/alerts?incident=%s lists %v, the incident %v", inc.ID, ids(byIncident), ids(view.Alerts))
	}

	// Filters by state and time, and bad input.
	for q, n := range map[string]int{
		"state=open": 1, "state=closed": 0, "from=" + inc.End.Add(time.Second).Format(time.RFC3339Nano): 0,
		"from=" + inc.End.Format(time.RFC3339Nano): 1, "to=" + inc.Start.Format(time.RFC3339Nano): 0,
		"to=" + inc.Start.Add(time.Nanosecond).Format(time.RFC3339Nano) + "&state=open&limit=1": 1,
	} {
		var out struct {
			Incidents  []listedIncident
			NextCursor string `json:"next_cursor"`
		}
		e.must("auditor", "GET", "/v1/incidents?"+q, nil, 200, &out)
		if len(out.Incidents) != n || out.NextCursor != "" {
			t.Errorf("incidents?%s: %d (next %q), want %d", q, len(out.Incidents), out.NextCursor, n)
		}
	}
	for q, field := range map[string]string{
		"state=OPEN": "state", "state=gone": "state", "cursor=!": "cursor", "limit=1001": "limit", "from=now": "from",
	} {
		e.wantError("operator", "GET", "/v1/incidents?"+q, nil, 400, skyfence.EINVALID, field)
	}
	e.wantError("operator", "GET", "/v1/incidents/in_nope", nil, 404, skyfence.ENOTFOUND, "")
	stored, err := store.FindIncidentByID(t.Context(), inc.ID)
	if err != nil || stored.Terminals != inc.Terminals || !stored.Start.Equal(inc.Start) || string(stored.State) != inc.State {
		t.Errorf("the store holds %+v (%v), the API served %+v", stored, err, inc)
	}
}

// TestIncidentsNeedReadAlerts: whoever may not read alerts may not read
// incidents either, by any route or spelling (the list, one incident, the
// alerts filtered by it, a trailing slash, an escaped id, a query that
// selects everything); whoever may, may. On SQLite and PostgreSQL.
func TestIncidentsNeedReadAlerts(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env, _ skyfence.Store) { testIncidentsNeedReadAlerts(t, e) })
}

func testIncidentsNeedReadAlerts(t *testing.T, e *env) {
	inc := spoofArea(e)
	paths := []string{
		"/v1/incidents", "/v1/incidents?state=open", "/v1/incidents?limit=1000&from=2000-01-01T00:00:00Z",
		"/v1/incidents/" + inc.ID, "/v1/incidents/" + url.PathEscape(inc.ID) + "?x=1", "/v1/incidents/" + inc.ID + "/",
		"/v1/incidents/%69" + inc.ID[1:], "/v1//incidents", "/v1/incidents/", "/v1/alerts?incident=" + inc.ID,
	}
	for role := range e.keys {
		alertsCode, _ := e.do(role, "GET", "/v1/alerts", nil)
		for _, p := range paths {
			code, body := e.do(role, "GET", p, nil)
			if alertsCode != 200 && (code == 200 || strings.Contains(string(body), `"terminals"`)) {
				t.Errorf("%s (alerts: %d) GET %s: %d %s", role, alertsCode, p, code, body)
			}
		}
		code, _ := e.do(role, "GET", "/v1/incidents/"+inc.ID, nil)
		if alertsCode == 200 && code != 200 || alertsCode != 200 && code != 403 {
			t.Errorf("%s: alerts %d, incident %d", role, alertsCode, code)
		}
	}
	for _, role := range []string{"gateway", "partner-UA", "partner-PL", ""} {
		e.wantError(role, "GET", "/v1/incidents", nil, map[bool]int{true: 401, false: 403}[role == ""],
			map[bool]string{true: skyfence.EUNAUTHORIZED, false: skyfence.EFORBIDDEN}[role == ""], "")
	}
	var v struct{ Incident listedIncident }
	e.must("viewer", "GET", "/v1/incidents/"+inc.ID, nil, 200, &v)
	if b, _ := json.Marshal(v.Incident); v.Incident.ID != inc.ID {
		t.Errorf("viewer reads %s", b)
	}
}

// FuzzAlertQueries sends arbitrary values of every parameter of the alert
// and incident listings and checks the answer: 200 with a page, or 400
// naming the parameter at fault (never a 500), in JSON; and the incident
// route with an arbitrary id: 200 or 404.
func FuzzAlertQueries(f *testing.F) {
	for _, seed := range [][2]string{
		{"cursor", "bm9wZQ"}, {"cursor", "MTIzLw"}, {"cursor", "OTIyMzM3MjAzNjg1NDc3NTgwNy94"}, {"severity", "low,medium"},
		{"severity", ",,"}, {"from", "2026-06-15T12:00:00.999999999+14:00"}, {"to", "0000-01-01T00:00:00Z"},
		{"limit", "-1"}, {"state", "open"}, {"detector", "cluster\x00"}, {"region", "UA' OR 1=1 --"}, {"incident", "in_\xff"}, {"explained", "1"},
	} {
		f.Add(seed[0], seed[1])
	}
	e := newEnv(f)
	inc := spoofArea(e)
	params := []string{"cursor", "limit", "from", "to", "terminal_id", "detector", "severity", "region", "incident", "explained", "state"}
	f.Fuzz(func(t *testing.T, name, value string) {
		get := func(path string) (int, []byte) {
			req, err := http.NewRequest("GET", e.url+path, nil)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			req.Header.Set("Authorization", "Bearer "+e.keys["investigator"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		q := url.Values{name: {value}}
		for _, p := range []string{"/v1/alerts?", "/v1/incidents?"} {
			code, b := get(p + q.Encode())
			var out struct {
				NextCursor *string `json:"next_cursor"`
				Error      struct{ Field string }
			}
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("GET %s%s: %d, not JSON: %q", p, q.Encode(), code, b)
			}
			switch {
			case code == 200 && out.NextCursor != nil:
			case code == 400 && slices.Contains(params, out.Error.Field) && out.Error.Field == name:
			default:
				t.Fatalf("GET %s%s: %d %s", p, q.Encode(), code, b)
			}
		}
		if value == "." || value == ".." {
			return // a dot segment: the path is another route's (the router cleans it)
		}
		code, b := get("/v1/incidents/" + url.PathEscape(value))
		if code != 404 && (code != 200 || value != inc.ID) || !json.Valid(b) {
			t.Fatalf("GET /v1/incidents/%s: %d %s", url.PathEscape(value), code, b)
		}
	})
}
