package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// Places for the day-limit tables: a French residential terminal, whose
// plan testdata/limits.yaml limits to 5 days in a row and 60 days a year in
// coastal waters, and to 60 days abroad.
var (
	coastalFR = [2]float64{43.25, 5.30} // territorial sea off Marseille
	landFR    = [2]float64{45.76, 4.83} // Lyon
	highSeas  = [2]float64{40.0, 5.5}   // the Mediterranean, outside every territorial sea
	berlin    = [2]float64{52.52, 13.40}
)

// step is one fix of a day-limit case, and whether it must be allowed.
type step struct {
	at    string // RFC 3339
	where [2]float64
	allow bool
}

// days returns a fix at where at 12:00 UTC on each day from first (a date)
// for n days, each allowed as allow(day index from 0) says.
func days(first string, n int, where [2]float64, allow func(i int) bool) []step {
	t0 := date(first + "T12:00:00Z")
	out := make([]step, n)
	for i := range out {
		out[i] = step{t0.AddDate(0, 0, i).Format(time.RFC3339), where, allow(i)}
	}
	return out
}

func upTo(n int) func(int) bool { return func(i int) bool { return i < n } }
func always(int) bool           { return true }
func never(int) bool            { return false }

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// runSteps decides and observes each step in turn with one track, as the
// ingest path does, and reports every step whose verdict is not the one
// wanted.
func runSteps(t *testing.T, s *Snapshot, term *skyfence.Terminal, steps []step) {
	t.Helper()
	var tr Track
	var bad []string
	for i, st := range steps {
		f := skyfence.Fix{Time: date(st.at), Lat: st.where[0], Lon: st.where[1], SpeedKmh: 0}
		d := s.Decide(term, &tr, f)
		if d.Allow != st.allow {
			bad = append(bad, fmt.Sprintf("step %d at %s (%v): allow %v (%v by %q), want %v", i, st.at, st.where, d.Allow, d.Reason, d.Rule, st.allow))
		}
		tr.Observe(f, &d, term.Country)
	}
	if bad != nil {
		t.Errorf("%d of %d steps wrong:\n%s", len(bad), len(steps), strings.Join(bad, "\n"))
	}
}

func TestCoastalDaysHoldWhileTheTerminalStays(t *testing.T) {
	s := fixture(t, "limits")
	fr := terminal("ut-fr-coast", "residential", "FR")
	tests := []struct {
		name  string
		steps []step
	}{
		{"staying past the limit is denied on every later day", days("2026-06-01", 12, coastalFR, upTo(5))},
		{"many fixes a day: denied from the first fix of day 6 on", concat(
			days("2026-06-01", 5, coastalFR, always),
			[]step{{"2026-06-05T23:59:59Z", coastalFR, true}, {"2026-06-06T00:00:00Z", coastalFR, false},
				{"2026-06-06T06:00:00Z", coastalFR, false}, {"2026-06-07T18:00:00Z", coastalFR, false}},
			days("2026-06-08", 5, coastalFR, never))},
		{"leaving ashore ends the stay; coming back starts a new one", concat(
			days("2026-06-01", 7, coastalFR, upTo(5)),
			days("2026-06-08", 1, landFR, always),
			days("2026-06-09", 7, coastalFR, upTo(5)))},
		{"leaving to the high seas the same day ends the stay", concat(
			days("2026-06-01", 6, coastalFR, upTo(5)),
			[]step{{"2026-06-06T14:00:00Z", highSeas, true}, {"2026-06-06T18:00:00Z", coastalFR, true}},
			days("2026-06-07", 6, coastalFR, upTo(4)))},
		{"a gap without fixes is part of the stay", concat(
			days("2026-06-01", 3, coastalFR, always),
			days("2026-06-06", 3, coastalFR, never))},
		{"a gap after the limit does not reset it", concat(
			days("2026-06-01", 6, coastalFR, upTo(5)),
			days("2026-06-20", 2, coastalFR, never))},
		{"crossing midnight starts a new day", []step{
			{"2026-06-01T23:59:00Z", coastalFR, true}, {"2026-06-02T00:01:00Z", coastalFR, true},
			{"2026-06-03T00:00:00Z", coastalFR, true}, {"2026-06-04T23:00:00Z", coastalFR, true},
			{"2026-06-05T00:00:00Z", coastalFR, true}, {"2026-06-05T23:59:59Z", coastalFR, true},
			{"2026-06-06T00:00:00Z", coastalFR, false}}},
		{"days ashore never count", concat(
			days("2026-06-01", 30, landFR, always),
			days("2026-07-01", 6, coastalFR, upTo(5)))},
		{"60 days a year, counted across stays", concat(yearOfStays("2026-03-01", 12), days("2026-06-01", 1, coastalFR, never))},
		{"the days a year start again on 1 January", concat(yearOfStays("2026-10-15", 12), days("2027-01-10", 1, coastalFR, always))},
		{"a stay across 1 January keeps its run", days("2026-12-29", 7, coastalFR, upTo(5))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, s, fr, tc.steps) })
	}
}

// yearOfStays is n stays of 5 days in coastal waters, each followed by a day
// ashore, from first: 5n coastal days, all allowed while 5n <= 60.
func yearOfStays(first string, n int) []step {
	var out []step
	t0 := date(first + "T12:00:00Z")
	for i := 0; i < n; i++ {
		start := t0.AddDate(0, 0, 6*i).Format("2006-01-02")
		out = append(out, days(start, 5, coastalFR, always)...)
		out = append(out, days(t0.AddDate(0, 0, 6*i+5).Format("2006-01-02"), 1, landFR, always)...)
	}
	return out
}

func TestRoamingDaysHoldWhileTheTerminalStays(t *testing.T) {
	s := fixture(t, "limits")
	fr := terminal("ut-fr-roam", "residential", "FR")
	tests := []struct {
		name  string
		steps []step
	}{
		{"staying past the limit is denied on every later day", days("2026-03-01", 70, berlin, upTo(60))},
		{"going home ends the trip; the next trip counts from 1", concat(
			days("2026-03-01", 62, berlin, upTo(60)),
			days("2026-05-02", 1, landFR, always),
			days("2026-05-03", 61, berlin, upTo(60)))},
		{"a gap without fixes is part of the trip", concat(
			days("2026-03-01", 1, berlin, always),
			days("2026-04-29", 2, berlin, upTo(1)))}, // days 60 and 61
		{"the high seas are abroad", concat(
			days("2026-03-01", 30, highSeas, always),
			days("2026-03-31", 31, berlin, upTo(30)))},
		{"crossing midnight starts a new day of the trip", []step{
			{"2026-03-01T23:59:00Z", berlin, true},
			{"2026-04-29T23:59:59Z", berlin, true}, // day 60
			{"2026-04-30T00:00:00Z", berlin, false}}},
		{"a denial at home is still home", concat(
			days("2026-03-01", 61, berlin, upTo(60)),
			[]step{{"2026-05-01T13:00:00Z", coastalFR, true}},
			days("2026-05-02", 2, berlin, always))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, s, fr, tc.steps) })
	}
}

// A track restored from what was saved decides the next fix as the track
// kept in memory would have: what Track holds is all a limit needs.
func TestDayLimitsSurviveACopyOfTheTrack(t *testing.T) {
	s := fixture(t, "limits")
	fr := terminal("ut-fr-copy", "residential", "FR")
	var tr Track
	for i := 0; i < 6; i++ {
		f := skyfence.Fix{Time: date("2026-06-01T12:00:00Z").AddDate(0, 0, i), Lat: coastalFR[0], Lon: coastalFR[1]}
		d := s.Decide(fr, &tr, f)
		tr.Observe(f, &d, fr.Country)
	}
	restored := tr // what a restart reads back, field for field (control encodes every field)
	f := skyfence.Fix{Time: date("2026-06-07T08:00:00Z"), Lat: coastalFR[0], Lon: coastalFR[1]}
	if d := s.Decide(fr, &restored, f); d.Allow || d.Reason != RoamingLimit || d.Rule != "coastal-waters" {
		t.Errorf("after a restart on day 7: %v by %q, want roaming_limit by coastal-waters", d.Reason, d.Rule)
	}
}

func TestDayNumberIsTheUTCDay(t *testing.T) {
	tests := []struct {
		at   string
		want int32
	}{
		{"1970-01-01T00:00:00Z", 1},
		{"1970-01-01T23:59:59Z", 1},
		{"1970-01-02T00:00:00Z", 2},
		{"1969-12-31T23:59:59Z", 0},
		{"2026-06-15T23:59:59+02:00", dayNumber(date("2026-06-15T21:59:59Z"))},
		{"2026-06-16T01:00:00+02:00", dayNumber(date("2026-06-15T12:00:00Z"))}, // still the 15th in UTC
	}
	for _, tc := range tests {
		if got := dayNumber(date(tc.at)); got != tc.want {
			t.Errorf("dayNumber(%s) = %d, want %d", tc.at, got, tc.want)
		}
	}
	if got, want := yearStart(dayNumber(date("2026-12-31T12:00:00Z"))), dayNumber(date("2026-01-01T00:00:00Z")); got != want {
		t.Errorf("yearStart(31 December 2026) = %d, want %d", got, want)
	}
}

// The year's days of a stay that goes on past 31 December count from 1
// January, while its run counts from the stay's first day; a gap in the
// stay counts for both.
func TestCoastalDaysAcrossTheYear(t *testing.T) {
	dec31 := uint16(dayNumber(date("2026-12-31T12:00:00Z")))
	tests := []struct {
		name      string
		tr        Track
		at        string
		run, year int
	}{
		{"the stay goes on into January", Track{CoastalDay: dec31, CoastalRun: 3, CoastalYearDays: 60}, "2027-01-02T08:00:00Z", 5, 2},
		{"back after leaving, in January", Track{CoastalDay: dec31, CoastalYearDays: 60}, "2027-01-02T08:00:00Z", 1, 1},
		{"the same day again", Track{CoastalDay: dec31, CoastalRun: 3, CoastalYearDays: 60}, "2026-12-31T23:00:00Z", 3, 60},
		{"back the same day after leaving", Track{CoastalDay: dec31, CoastalYearDays: 60}, "2026-12-31T23:00:00Z", 1, 60},
		{"a fix dated before the last counts nothing", Track{CoastalDay: dec31, CoastalRun: 3, CoastalYearDays: 60}, "2026-12-20T08:00:00Z", 3, 60},
		{"a gap of ten days in the stay", Track{CoastalDay: dec31 - 20, CoastalRun: 2, CoastalYearDays: 30}, "2026-12-21T08:00:00Z", 12, 40},
		{"never in coastal waters", Track{}, "2026-12-21T08:00:00Z", 1, 1},
	}
	for _, tc := range tests {
		if run, year := tc.tr.coastalDays(date(tc.at)); run != tc.run || year != tc.year {
			t.Errorf("%s: run %d, year %d; want %d, %d", tc.name, run, year, tc.run, tc.year)
		}
	}
}
