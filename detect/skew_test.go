package detect_test

import (
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

// TestFutureSkewIsIngestWindow: what ingest accepts from a gateway whose
// clock runs ahead raises no future_timestamp alert (sim --url runs up to
// 4 minutes ahead), and a fix just past the window would.
func TestFutureSkewIsIngestWindow(t *testing.T) {
	if got := detect.DefaultConfig().Integrity.FutureSkew.D(); got != authorizer.MaxClockSkew {
		t.Fatalf("integrity.future_skew %v, ingest accepts %v ahead", got, authorizer.MaxClockSkew)
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	e, err := detect.New(detect.DefaultConfig(), detect.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	term := &skyfence.Terminal{ID: "gw-ahead", Plan: "residential", Country: "PL", Status: skyfence.Active}
	for k, ahead := range []time.Duration{time.Minute, 4 * time.Minute, authorizer.MaxClockSkew} {
		o := detect.Observation{Terminal: term, Received: now.Add(time.Duration(k) * time.Second),
			Fix:      skyfence.Fix{TerminalID: term.ID, Time: now.Add(time.Duration(k)*time.Second + ahead), Lat: 52.2, Lon: 21},
			Decision: policy.Decision{Allow: true, Reason: policy.Ok, Country: "PL", Located: true}}
		if as := e.Process(&o); len(as) > 0 {
			t.Fatalf("%v ahead, accepted by ingest: %s", ahead, as[0].Summary)
		}
	}
	o := detect.Observation{Terminal: term, Received: now.Add(time.Minute),
		Fix:      skyfence.Fix{TerminalID: term.ID, Time: now.Add(time.Minute + authorizer.MaxClockSkew + time.Second), Lat: 52.2, Lon: 21},
		Decision: policy.Decision{Allow: true, Reason: policy.Ok, Country: "PL", Located: true}}
	if as := e.Process(&o); len(as) != 1 || as[0].Detector != detect.FutureTimestamp {
		t.Fatalf("a fix past the window: %v, want one future_timestamp alert", as)
	}
}
