package detect_test

import (
	"fmt"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

// A residential terminal in Warsaw reports, a minute later, a position
// 500 km east: no land vehicle does that.
func Example() {
	e, err := detect.New(detect.DefaultConfig(), detect.Options{})
	if err != nil {
		panic(err)
	}
	term := &skyfence.Terminal{ID: "UT-1", Plan: "residential", Country: "PL", Status: skyfence.Active}
	at := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for i, lon := range []float64{21.01, 28.37} {
		o := detect.Observation{
			Terminal: term,
			Fix:      skyfence.Fix{TerminalID: term.ID, Time: at.Add(time.Duration(i) * time.Minute), Lat: 52.23, Lon: lon, SpeedKmh: skyfence.NoSpeed},
			Decision: policy.Decision{Allow: true, Reason: policy.Ok, Country: "PL", Located: true, Land: true},
			Received: at.Add(time.Duration(i) * time.Minute),
		}
		for _, a := range e.Process(&o) {
			fmt.Printf("%s %s %s score %.2f: %s\n", a.TerminalID, a.Detector, a.Severity, a.Score, a.Summary)
		}
	}
	// Output:
	// UT-1 impossible_travel high score 1.00: moved at 30063 km/h (plan ceiling 200 km/h)
}
