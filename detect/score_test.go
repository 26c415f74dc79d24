package detect

import (
	"fmt"
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	alert := func(d Detector, id string, first, last int) Alert {
		return Alert{ID: id + d.String(), Detector: d, TerminalID: id, FirstSeen: at(first), LastSeen: at(last)}
	}
	labels := map[string]Label{
		"D1": {Kind: "drone", Start: at(10)},
		"D2": {Kind: "drone", Start: at(10)},
		"D3": {Kind: "drone", Start: at(10)},
		"S1": {Kind: "smuggled", Start: at(0)},
		"J1": {Kind: "spoof-jump", Start: at(30)},
	}
	alerts := []Alert{
		alert(DroneMotion, "D1", 15, 20),
		alert(DroneMotion, "D1", 15, 40), // the same alert, emitted again
		alert(DroneMotion, "D2", 5, 12),  // opened before the start: caught at once
		alert(DroneMotion, "H1", 0, 5),   // an honest terminal
		alert(ImpossibleTravel, "D3", 14, 14),
		alert(ImpossibleTravel, "J1", 0, 20), // before its start: a false positive
		alert(OriginDenied, "S1", 60, 90),
	}
	s := Score(alerts, labels)
	if got, want := s.Kinds, []string{"drone", "smuggled", "spoof-jump"}; len(got) != 3 || got[0] != want[0] || got[2] != want[2] {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	drone := s.Detectors[DroneMotion]
	if drone.Name != "drone_motion" || drone.Flagged != 3 || drone.TruePositives != 2 {
		t.Errorf("drone_motion: %+v, want 3 flagged, 2 true positives", drone)
	}
	if drone.Precision != 2.0/3 {
		t.Errorf("drone_motion precision %v, want 2/3", drone.Precision)
	}
	if k := drone.Kinds[0]; k.Labelled != 3 || k.Caught != 2 || k.Recall != 2.0/3 || k.MeanDelay != 150*time.Second {
		t.Errorf("drone_motion on drones: %+v, want 2 of 3 caught, mean delay 2.5 min (5 and 0)", k)
	}
	travel := s.Detectors[ImpossibleTravel]
	if travel.Flagged != 2 || travel.TruePositives != 1 || travel.Kinds[0].Caught != 1 || travel.Kinds[2].Caught != 0 {
		t.Errorf("impossible_travel: %+v, want 2 flagged, the drone caught, the jumper flagged too early", travel)
	}
	if k := s.Detectors[OriginDenied].Kinds[1]; k.Recall != 1 || k.MeanDelay != time.Hour {
		t.Errorf("origin_denied on the smuggled: %+v, want recall 1 after an hour", k)
	}
	all := s.All
	if all.Name != "all" || all.Flagged != 6 || all.TruePositives != 4 || all.Kinds[0].Caught != 3 || all.Kinds[2].Caught != 0 {
		t.Errorf("all: %+v, want 6 flagged, 4 true positives, every drone caught, the jumper not", all)
	}
	if none := s.Detectors[Cluster]; none.Flagged != 0 || none.Precision != 0 || none.Kinds[0].Recall != 0 {
		t.Errorf("cluster: %+v, want nothing", none)
	}
}

func TestScoreOnTheEngine(t *testing.T) {
	// A hopper labelled from its first fix is caught at its first jump.
	track := hopper(5, t0, time.Minute)
	alerts := feed(newEngine(t, nil), track)
	s := Score(alerts, map[string]Label{"T-HOP": {Kind: "spoof-jump", Start: t0}})
	k := s.Detectors[ImpossibleTravel].Kinds[0]
	if k.Recall != 1 || k.MeanDelay != time.Minute || s.Detectors[ImpossibleTravel].Precision != 1 {
		t.Errorf("impossible_travel: %+v, want recall 1 and precision 1 after a minute", s.Detectors[ImpossibleTravel])
	}
}

// TestScoreDelays checks precision, recall and the delay quantiles on a
// hand-made set whose answers are known: 20 smuggled terminals caught
// 1 s, 2 s, ... 20 s after their start, one more never caught, one
// alerted only before its start, and two honest terminals flagged.
func TestScoreDelays(t *testing.T) {
	labels := map[string]Label{}
	var alerts []Alert
	for k := 1; k <= 20; k++ {
		id := fmt.Sprintf("S%02d", k)
		start := t0.Add(time.Duration(k) * time.Minute)
		labels[id] = Label{Kind: "smuggled", Start: start}
		at := start.Add(time.Duration(k) * time.Second)
		alerts = append(alerts, Alert{ID: "a" + id, Detector: OriginDenied, TerminalID: id, FirstSeen: at, LastSeen: at})
		if k == 20 {
			// A later alert of the same terminal does not delay it.
			later := at.Add(2 * time.Hour)
			alerts = append(alerts, Alert{ID: "b" + id, Detector: OriginDenied, TerminalID: id, FirstSeen: later, LastSeen: later})
		}
	}
	labels["S-MISSED"] = Label{Kind: "smuggled", Start: t0}
	labels["S-EARLY"] = Label{Kind: "smuggled", Start: t0.Add(time.Hour)}
	alerts = append(alerts,
		Alert{ID: "early", Detector: OriginDenied, TerminalID: "S-EARLY", FirstSeen: t0, LastSeen: t0.Add(time.Minute)},
		Alert{ID: "h1", Detector: OriginDenied, TerminalID: "H1", FirstSeen: t0, LastSeen: t0},
		Alert{ID: "h2", Detector: OriginDenied, TerminalID: "H2", FirstSeen: t0, LastSeen: t0})
	s := Score(alerts, labels)
	d := s.Detectors[OriginDenied]
	if d.Flagged != 23 || d.TruePositives != 20 || d.Precision != 20.0/23 {
		t.Errorf("origin_denied: %d flagged, %d true, precision %v; want 23, 20 and 20/23", d.Flagged, d.TruePositives, d.Precision)
	}
	k := d.Kinds[0]
	if k.Labelled != 22 || k.Caught != 20 || k.Recall != 20.0/22 {
		t.Errorf("smuggled: %d labelled, %d caught, recall %v; want 22, 20 and 20/22", k.Labelled, k.Caught, k.Recall)
	}
	// Nearest rank: the 10th of 20 is the median, the 19th the 95th
	// percentile.
	if k.MeanDelay != 10500*time.Millisecond || k.DelayP50 != 10*time.Second || k.DelayP95 != 19*time.Second || k.DelayMax != 20*time.Second {
		t.Errorf("delays: mean %v, p50 %v, p95 %v, max %v; want 10.5 s, 10 s, 19 s, 20 s", k.MeanDelay, k.DelayP50, k.DelayP95, k.DelayMax)
	}
	if none := s.Detectors[DroneMotion].Kinds[0]; none.DelayP50 != 0 || none.DelayMax != 0 {
		t.Errorf("drone_motion caught nothing but has delays %+v", none)
	}
}
