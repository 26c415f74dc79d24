package httpapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// TestAlertsNameTheirIncident: twelve terminals around Kyiv all jump at
// once to one position near Kursk while their serving cells stay at
// home: GET /v1/alerts serves their impossible_travel alerts explained by
// one GNSS interference incident, none medium or high.
func TestAlertsNameTheirIncident(t *testing.T) {
	e := newEnv(t)
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
	type alert struct {
		Detector   string
		TerminalID string `json:"terminal_id"`
		Severity   string
		Incident   string
		Explained  bool
	}
	var got []alert
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out struct{ Alerts []alert }
		e.must("investigator", "GET", "/v1/alerts?detector=impossible_travel", nil, 200, &out)
		got = out.Alerts
		explained := 0
		for _, a := range got {
			if a.Explained {
				explained++
			}
		}
		if len(got) == n && explained == n {
			break
		}
	}
	if len(got) != n {
		t.Fatalf("%d impossible_travel alerts, want %d: %+v", len(got), n, got)
	}
	for _, a := range got {
		if !a.Explained || a.Incident == "" || a.Incident != got[0].Incident || a.Severity != "low" {
			t.Errorf("%s: severity %s, incident %q, explained %v; want low, explained by one incident", a.TerminalID, a.Severity, a.Incident, a.Explained)
		}
	}

	// explained= splits every alert in two, paged by 5 as the whole list
	// orders them.
	all, _ := alertPages(e, "", 1000)
	var split [2][]string
	for _, a := range all {
		if a.Explained {
			split[1] = append(split[1], a.ID)
		} else {
			split[0] = append(split[0], a.ID)
		}
	}
	for i, q := range []string{"explained=false", "explained=true"} {
		if got, _ := alertPages(e, q, 5); !slices.Equal(ids(got), split[i]) {
			t.Errorf("%s: %v, want %v", q, ids(got), split[i])
		}
	}
	if got, _ := alertPages(e, "explained=false&detector=impossible_travel", 5); len(got) != 0 {
		t.Errorf("explained=false&detector=impossible_travel: %v, want none", ids(got))
	}
}
