package detect

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/policy"
)

func TestDefaultConfigRoundTrips(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cooldown":"1h0m0s"`, `"denied_reasons":["region_embargoed","no_service_zone","verification_required"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", back, c)
	}
}

func TestOperatorConfigOverDefaults(t *testing.T) {
	c := DefaultConfig()
	in := `{
		"cooldown": "30m",
		"disabled": ["cell_mismatch"],
		"origin": {"restricted_regions": ["UA", "zone:occupied-ua"]},
		"travel": {"plan_max_kmh": {"roam": 300}}
	}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Cooldown.D() != 30*time.Minute || c.UpdateEvery.D() != time.Minute {
		t.Errorf("cooldown %v, update_every %v; want 30m and the default 1m", c.Cooldown.D(), c.UpdateEvery.D())
	}
	if c.Travel.PlanMaxKmh["roam"] != 300 || c.Travel.PlanMaxKmh["residential"] != 200 {
		t.Errorf("plan_max_kmh %v, want roam 300 over the defaults", c.Travel.PlanMaxKmh)
	}
	if c.Origin.DeniedAttempts != 2 || c.Origin.TransitKmh != 10 || len(c.Disabled) != 1 || c.Disabled[0] != CellMismatch {
		t.Errorf("origin %+v, disabled %v", c.Origin, c.Disabled)
	}
	l := c.limits()
	if !l.restrictedCountries["UA"] || !l.restrictedZones["occupied-ua"] || !l.disabled[CellMismatch] {
		t.Errorf("limits: countries %v, zones %v, disabled %v", l.restrictedCountries, l.restrictedZones, l.disabled)
	}
	if l.deniedReasons != 1<<policy.RegionEmbargoed|1<<policy.NoServiceZone|1<<policy.VerificationRequired {
		t.Errorf("denied reasons %b", l.deniedReasons)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.MaxTerminals = 0 }, "max_terminals must be >= 1"},
		{func(c *Config) { c.Origin.DeniedAttempts = 17 }, "origin.denied_attempts must be 1 to 16"},
		{func(c *Config) { c.Drone.Window = 9 }, "drone.window must be 3 to 8"},
		{func(c *Config) { c.Drone.MinSharpTurns = 5 }, "drone.min_sharp_turns"},
		{func(c *Config) { c.Integrity.ReturnKm = 20 }, "integrity.return_km"},
		{func(c *Config) { c.Travel.PlanMaxKmh["roam"] = 0 }, `travel.plan_max_kmh["roam"]`},
		{func(c *Config) { c.Origin.RestrictedRegions = []string{"zone:"} }, "restricted_regions"},
		{func(c *Config) { c.Incident.MinTerminals = 9 }, "incident.min_terminals must be 2 to 8"},
		{func(c *Config) { c.Incident.MinShare = 1.5 }, "incident.min_share"},
		{func(c *Config) { c.Incident.Window = 0 }, "incident.window"},
		{func(c *Config) { c.Drone.TakeoffM = 0 }, "drone.takeoff_m"},
		{func(c *Config) { c.Drone.TakeoffGrade = math.NaN() }, "drone.takeoff_grade"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.change(&cfg)
		if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: %v, want an error naming %s", err, c.want)
		}
	}
	var c Config
	err := json.Unmarshal([]byte(`{"cooldown": "an hour"}`), &c)
	if err == nil || !strings.Contains(err.Error(), "Go duration") {
		t.Errorf("bad duration: %v, want an error saying what a duration looks like", err)
	}
	err = json.Unmarshal([]byte(`{"disabled": ["telepathy"]}`), &c)
	if err == nil || !strings.Contains(err.Error(), `unknown detector "telepathy"`) {
		t.Errorf("bad detector: %v", err)
	}
}
