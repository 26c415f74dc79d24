package detect

import (
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
