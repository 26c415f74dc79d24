package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// decided is what the tests read of a printed decision.
type decided struct {
	Line       int      `json:"line"`
	TerminalID string   `json:"terminal_id"`
	Allow      bool     `json:"allow"`
	Reason     string   `json:"reason"`
	Rule       string   `json:"rule"`
	Country    string   `json:"country"`
	Zones      []string `json:"zones"`
	SpeedKmh   float64  `json:"speed_kmh"`
	Message    string   `json:"message"`
}

const uaVerified = `{"id": "UT-UA-1", "plan": "roam", "country": "UA", "status": "active",
 "verifications": [{"region": "UA", "authority": "UA-MOD", "class": "civil", "verified_at": "2026-01-01T00:00:00Z"}]}`

func TestDecideOneFix(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"terminal.json": uaVerified})
	kyiv := []string{"decide", "--policy", examplePolicy, "--lat", "50.45", "--lon", "30.52", "--at", "2026-06-15T12:00:00Z"}
	tests := []struct {
		name string
		args []string
		want decided
	}{
		{"verified terminal at rest in Kyiv", []string{"--terminal", uaVerified},
			decided{Allow: true, Reason: "ok", Country: "UA", Zones: []string{}, Message: "Service is available."}},
		{"the same at 90 km/h, from a file", []string{"--terminal", "@" + filepath.Join(dir, "terminal.json"), "--speed", "90"},
			decided{Reason: "speed_limit", Rule: "ua-speed-cap", Country: "UA", Zones: []string{}, SpeedKmh: 90, Message: "Movement speed is too high"}},
		{"not verified", []string{"--terminal", `{"id": "UT-2", "plan": "roam", "country": "UA", "status": "active"}`},
			decided{Reason: "verification_required", Rule: "ua-mod-whitelist", Country: "UA", Zones: []string{},
				Message: "Service here requires a terminal verified by the local authority."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, "", append(kyiv, tt.args...)...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if !strings.HasPrefix(out, "{\n  \"allow\": ") {
				t.Errorf("want indented JSON, got\n%s", out)
			}
			var got decided
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if !equalDecided(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equalDecided(a, b decided) bool {
	return a.Line == b.Line && a.TerminalID == b.TerminalID && a.Allow == b.Allow && a.Reason == b.Reason &&
		a.Rule == b.Rule && a.Country == b.Country && strings.Join(a.Zones, "|") == strings.Join(b.Zones, "|") &&
		(a.Zones == nil) == (b.Zones == nil) && a.SpeedKmh == b.SpeedKmh && a.Message == b.Message
}

func TestDecideRefusesBadInput(t *testing.T) {
	t.Parallel()
	base := []string{"decide", "--policy", examplePolicy, "--lat", "50.45", "--lon", "30.52"}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown field in the terminal", append(base, "--terminal", `{"id": "x", "colour": "red"}`), 1, `--terminal: unknown field "colour"`},
		{"two terminals", append(base, "--terminal", `{"id": "x"} {"id": "y"}`), 1, "--terminal: more than one JSON value"},
		{"bad status", append(base, "--terminal", `{"id": "x", "status": "on"}`), 1, `unknown terminal status "on"`},
		{"no terminal", base, 2, "give --terminal, --lat and --lon"},
		{"no policy", []string{"decide", "--terminal", "{}", "--lat", "1", "--lon", "1"}, 2, "--policy is required"},
		{"negative speed", append(base, "--terminal", "{}", "--speed", "-3"), 2, "--speed -3 is negative"},
		{"fixes and a position", []string{"decide", "--policy", examplePolicy, "--fixes", "-", "--lat", "1"}, 2, "--lat is for one fix"},
		{"bad time", append(base, "--terminal", "{}", "--at", "yesterday"), 2, "want an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tt.code, tt.want)
			}
		})
	}
}

func TestDecideBatch(t *testing.T) {
	t.Parallel()
	terminals := `{"id": "UT-PL-1", "plan": "roam", "country": "PL", "status": "active"}
` + strings.ReplaceAll(uaVerified, "\n", "") + "\n"
	fixes := strings.Join([]string{
		// At rest in Kyiv, then 25 km east ten minutes later: 150 km/h
		// derived from the track, over the 75 km/h cap.
		`{"terminal_id": "UT-UA-1", "time": "2026-06-15T12:00:00Z", "lat": 50.45, "lon": 30.52}`,
		`{"terminal_id": "UT-UA-1", "time": "2026-06-15T12:10:00Z", "lat": 50.45, "lon": 30.87}`,
		// A Polish roam terminal in Berlin on its first day abroad, and
		// on its 62nd: over the 60 days per trip.
		`{"terminal_id": "UT-PL-1", "time": "2026-03-01T12:00:00Z", "lat": 52.52, "lon": 13.40, "speed_kmh": 0}`,
		``,
		`{"terminal_id": "UT-PL-1", "time": "2026-05-01T12:00:00Z", "lat": 52.52, "lon": 13.40, "speed_kmh": 0}`,
		`{"terminal_id": "UT-PL-1", "time": "2026-05-01T12:00:00Z", "lat": 52.52, "lon": 13.40, "colour": "red"}`,
		`not json`,
		`{"terminal_id": "UT-PL-1", "lat": 52.52, "lon": 13.40}`,
		`{"terminal_id": "UT-NONE", "time": "2026-05-01T12:00:00Z", "lat": 52.52, "lon": 13.40}`,
		`{"terminal": {"id": "UT-SUS", "plan": "roam", "country": "DE", "status": "suspended"}, "time": "2026-05-01T12:00:00Z", "lat": 52.52, "lon": 13.40}`,
	}, "\n") + "\n"
	dir := writeFiles(t, map[string]string{"terminals.jsonl": terminals})
	out, errs, code := runCLI(t, fixes, "decide", "--policy", examplePolicy, "--fixes", "-", "--terminals", filepath.Join(dir, "terminals.jsonl"))
	if code != 1 {
		t.Errorf("exit %d, want 1 for the malformed lines", code)
	}
	wantErrs := "line 6: unknown field \"colour\"\n" +
		"line 7: invalid character 'o' in literal null (expecting 'u')\n" +
		"line 8: missing time\n" +
		"skyfence decide: 3 malformed lines left out\n"
	if errs != wantErrs {
		t.Errorf("stderr:\n%s\nwant:\n%s", errs, wantErrs)
	}
	want := []decided{
		{Line: 1, TerminalID: "UT-UA-1", Allow: true, Reason: "ok", Country: "UA", Zones: []string{}, Message: "Service is available."},
		{Line: 2, TerminalID: "UT-UA-1", Reason: "speed_limit", Rule: "ua-speed-cap", Country: "UA", Zones: []string{}, Message: "Movement speed is too high"},
		{Line: 3, TerminalID: "UT-PL-1", Allow: true, Reason: "ok", Country: "DE", Zones: []string{}, Message: "Service is available."},
		{Line: 5, TerminalID: "UT-PL-1", Reason: "roaming_limit", Rule: "roam-60-days", Country: "DE", Zones: []string{},
			Message: "Your service plan's roaming allowance for this area is used up."},
		// Not located: no country, and no speed reported or derived.
		{Line: 9, TerminalID: "UT-NONE", Reason: "unknown_terminal", Rule: "terminal", Country: "", Zones: []string{},
			SpeedKmh: 0, Message: "This terminal is not registered."},
		{Line: 10, TerminalID: "UT-SUS", Reason: "terminal_suspended", Rule: "terminal", Country: "", Zones: []string{},
			SpeedKmh: 0, Message: "Service for this terminal is suspended. Contact support to learn why and how to appeal."},
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		var got decided
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i == 1 {
			// 25 km in ten minutes; check the derived speed, then
			// compare the rest.
			if got.SpeedKmh < 140 || got.SpeedKmh > 160 {
				t.Errorf("derived speed %.1f km/h, want about 150", got.SpeedKmh)
			}
			got.SpeedKmh = 0
		}
		if !equalDecided(got, want[i]) {
			t.Errorf("output line %d:\ngot  %+v\nwant %+v", i+1, got, want[i])
		}
	}
}

func TestDecideBatchNeedsTerminals(t *testing.T) {
	t.Parallel()
	fixes := `{"terminal_id": "UT-1", "time": "2026-05-01T12:00:00Z", "lat": 52.52, "lon": 13.40}` + "\n"
	out, errs, code := runCLI(t, fixes, "decide", "--policy", examplePolicy, "--fixes", "-")
	if code != 1 || out != "" || !strings.Contains(errs, "line 1: terminal_id needs --terminals") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and line 1 refused", code, out, errs)
	}
	dir := writeFiles(t, map[string]string{"t.jsonl": `{"id": "a"}` + "\n" + `{"id": "a"}` + "\n"})
	_, errs, code = runCLI(t, fixes, "decide", "--policy", examplePolicy, "--fixes", "-", "--terminals", filepath.Join(dir, "t.jsonl"))
	if code != 1 || !strings.Contains(errs, `t.jsonl:2: terminal "a" listed twice`) {
		t.Errorf("duplicate terminal: exit %d, stderr %q; want 1 naming line 2", code, errs)
	}
}
