package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type states struct {
	Reasons  []string
	Statuses []string
	Count    int
	ID       []string
	Lon, Lat []float64
	Reason   []int
	Country  []string
	Status   []int
}

// TestStatesAndLiveFeed: GET /v1/states has every terminal's last state,
// and the live feed, once it says hello, sends the terminals that change.
func TestStatesAndLiveFeed(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	e.wantError("viewer", "GET", "/v1/events", nil, 400, "invalid", "")

	req, _ := http.NewRequest("GET", e.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys["viewer"])
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, ct)
	}
	events := bufio.NewScanner(resp.Body)
	events.Buffer(nil, 1<<20)
	next := func() (string, []byte) {
		t.Helper()
		var name string
		for events.Scan() {
			line := events.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				return name, []byte(v)
			}
		}
		t.Fatalf("the feed ended: %v", events.Err())
		return "", nil
	}
	if name, _ := next(); name != "hello" {
		t.Fatalf("the feed starts with %q, want hello", name)
	}

	if r := e.send(fix("ut-1", e.now, 50.45, 30.52, 0)); !r[0].Allow {
		t.Fatalf("ut-1 in Kyiv: %+v", r[0])
	}
	var all states
	e.must("viewer", "GET", "/v1/states", nil, 200, &all)
	if all.Count != 1 || !slices.Equal(all.ID, []string{"ut-1"}) || all.Reasons[all.Reason[0]] != "ok" ||
		all.Country[0] != "UA" || all.Statuses[all.Status[0]] != "active" || all.Lat[0] != 50.45 || all.Lon[0] != 30.52 {
		t.Errorf("GET /v1/states: %+v", all)
	}
	e.wantError("gateway", "GET", "/v1/states", nil, 403, "forbidden", "")

	name, data := next()
	if name != "states" {
		t.Fatalf("after a fix the feed sends %q %s, want states", name, data)
	}
	var changed states
	if err := json.Unmarshal(data, &changed); err != nil {
		t.Fatal(err)
	}
	if changed.Count != 1 || changed.ID[0] != "ut-1" || changed.Reasons[changed.Reason[0]] != "ok" {
		t.Errorf("the feed's states: %+v", changed)
	}
}

// TestAuditRoutes: an auditor filters the audit log, pages back through
// it, and verifies the chain.
func TestAuditRoutes(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.register("ut-2", "residential", "UA", false)
	e.must("operator", "POST", "/v1/terminals/ut-1/status", map[string]string{"status": "suspended", "reason": "case 42"}, 200, nil)
	type entry struct {
		Seq                            int64
		Action, Subject, Reason, Actor string
	}
	var out struct{ Entries []entry }
	e.must("auditor", "GET", "/v1/audit?subject=ut-1", nil, 200, &out)
	var actions []string
	for i, en := range out.Entries {
		if en.Subject != "ut-1" || (i > 0 && en.Seq >= out.Entries[i-1].Seq) {
			t.Errorf("entry %d: %+v (subject ut-1, newest first)", i, en)
		}
		actions = append(actions, en.Action)
	}
	if len(actions) < 2 || actions[0] != "terminal.status" || !slices.Contains(actions, "terminal.create") {
		t.Errorf("ut-1's entries: %v", actions)
	}
	e.must("auditor", "GET", "/v1/audit?action=terminal.&limit=2", nil, 200, &out)
	if len(out.Entries) != 2 || out.Entries[0].Action != "terminal.status" || out.Entries[1].Subject != "ut-2" {
		t.Errorf("the two last terminal entries: %+v", out.Entries)
	}
	older := out.Entries[1].Seq
	e.must("auditor", "GET", "/v1/audit?action=terminal.&before="+strconv.FormatInt(older, 10), nil, 200, &out)
	if len(out.Entries) != 1 || out.Entries[0].Subject != "ut-1" || out.Entries[0].Action != "terminal.create" {
		t.Errorf("the terminal entries before %d: %+v", older, out.Entries)
	}
	e.wantError("auditor", "GET", "/v1/audit?before=x", nil, 400, "invalid", "before")
	e.wantError("viewer", "GET", "/v1/audit", nil, 403, "forbidden", "")

	var rep struct {
		OK      bool
		Entries int
		Head    string
		Problem any
	}
	e.must("auditor", "GET", "/v1/audit/verify", nil, 200, &rep)
	if !rep.OK || rep.Problem != nil || rep.Entries < 5 {
		t.Errorf("verify: %+v", rep)
	}
}
