package httpapi_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
)

// Places of the network-position tests: a claim in Kyiv, a serving cell
// over Belgorod (Russia).
const kyivLat, kyivLon, belgorodLat, belgorodLon = 50.45, 30.52, 50.60, 36.59

// The example policy decides Ukraine by both positions: a verified
// terminal claiming Kyiv while the gateway reports a cell over Belgorod is
// denied as in Russia, in JSON and in the binary form alike.
func TestFixesDecideByNetworkPosition(t *testing.T) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) { fixesDecideByNetworkPosition(t, newEnvOn(t, teststore.Open(t, kind))) })
	}
}

func fixesDecideByNetworkPosition(t *testing.T, e *env) {
	e.register("ut-kyiv", "roam", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-kyiv/activate", map[string]float64{"lat": kyivLat, "lon": kyivLon}, 200, nil)
	at := testNow

	f := fix("ut-kyiv", at, kyivLat, kyivLon, 0)
	f["cell"] = skyfence.CellOf(kyivLat, kyivLon)
	if r := e.send(f)[0]; !r.Allow || r.Country != "UA" {
		t.Fatalf("Kyiv in its own cell: %+v", r)
	}
	f = fix("ut-kyiv", at.Add(time.Second), kyivLat, kyivLon, 0)
	f["cell"] = skyfence.CellOf(belgorodLat, belgorodLon)
	r := e.send(f)[0]
	if r.Allow || r.Reason != "network_position" || r.Rule != "status:RU" || r.Country != "RU" || !strings.Contains(r.Message, "network") {
		t.Fatalf("Kyiv served over Belgorod: %+v", r)
	}

	var st skyfence.TerminalState
	e.must("viewer", "GET", "/v1/terminals/ut-kyiv/state", nil, 200, &st)
	if st.Reason != "network_position" || st.Fix.ServingCell != skyfence.CellOf(belgorodLat, belgorodLon) {
		t.Errorf("stored state: reason %q, cell %q", st.Reason, st.Fix.ServingCell)
	}

	var enc fixwire.Encoder
	body := enc.AppendRequest(nil, "gw-pos", []fixwire.Fix{{TerminalID: "ut-kyiv", Time: at.Add(2 * time.Second),
		Lat: kyivLat, Lon: kyivLon, SpeedKmh: math.NaN(), ServingCell: skyfence.CellOf(belgorodLat, belgorodLon)}})
	code, _, b := e.post("gateway", body, fixwire.ContentType, "application/json")
	var out struct{ Results []result }
	if err := json.Unmarshal(b, &out); code != 200 || err != nil || len(out.Results) != 1 {
		t.Fatalf("binary: %d %s %v", code, b, err)
	}
	if r := out.Results[0]; r.Allow || r.Reason != "network_position" || r.Rule != "status:RU" {
		t.Errorf("binary, Kyiv served over Belgorod: %+v", r)
	}
}

// The cell is trusted as the gateway reports it: a gateway that reports
// the claim's own cell, or a cell in another spelling (not of the grid, so
// no cell), lets a spoofer's claim decide. What the cell proves is what the
// network element reporting it proves (docs/POLICY.md, trust model).
func TestGatewayIsTrustedForTheCell(t *testing.T) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) { gatewayIsTrustedForTheCell(t, newEnvOn(t, teststore.Open(t, kind))) })
	}
}

func gatewayIsTrustedForTheCell(t *testing.T, e *env) {
	e.register("ut-kyiv", "roam", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-kyiv/activate", map[string]float64{"lat": kyivLat, "lon": kyivLon}, 200, nil)
	at := testNow
	belgorod := skyfence.CellOf(belgorodLat, belgorodLon)
	for i, cell := range []string{skyfence.CellOf(kyivLat, kyivLon), "C" + belgorod[1:], "c0" + belgorod[1:], ""} {
		f := fix("ut-kyiv", at.Add(time.Duration(i)*time.Second), kyivLat, kyivLon, 0)
		if cell != "" {
			f["cell"] = cell
		}
		if r := e.send(f)[0]; !r.Allow {
			t.Errorf("cell %q: %+v", cell, r)
		}
	}
}
