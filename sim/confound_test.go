package sim

import (
	"math"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

func confounded(t *testing.T, n int, seed uint64) *Fleet {
	t.Helper()
	f, err := Generate(Config{Terminals: n, Seed: seed, Policy: scenarioPolicy(t), Confounders: true, Cells: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestConfounderFleet(t *testing.T) {
	f := confounded(t, 20000, 1)
	want, _ := ConfounderMix.counts(20000)
	if f.Counts() != want {
		t.Fatalf("counts %v, want %v", f.Counts(), want)
	}
	for b := range NumBehaviours {
		if want[b] == 0 {
			t.Errorf("no %s terminal in the confounded fleet", Behaviour(b))
		}
	}
	for _, b := range []Behaviour{Train, Crowd} {
		if b.Bad() {
			t.Errorf("%s is labelled bad", b)
		}
	}
	for _, b := range []Behaviour{DroneLow, SmuggledRare, SpoofTrack} {
		if !b.Bad() {
			t.Errorf("%s is labelled honest", b)
		}
	}
	evs := f.Interference()
	if len(evs) != 6 {
		t.Fatalf("%d interference events, want 6", len(evs))
	}
	kinds := map[InterferenceKind]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
		if ev.RadiusKm < 30 || ev.RadiusKm > 300 || ev.End.Sub(ev.Start) < 5*time.Minute || ev.End.Sub(ev.Start) > 15*time.Minute {
			t.Errorf("event %+v out of its ranges", ev)
		}
		if ev.Kind == Spoofing && (len(ev.Targets) < 1 || len(ev.Targets) > 3) {
			t.Errorf("spoofing with %d targets", len(ev.Targets))
		}
	}
	g := confounded(t, 20000, 2)
	if g.Interference()[0].Start == evs[0].Start && g.Interference()[0].Lat == evs[0].Lat {
		t.Errorf("seeds 1 and 2 draw the same first event %+v", evs[0])
	}
}

// TestInterference: every terminal in an event's area reports a position
// it is not at, while its serving cell stays the true one, and its true
// track again once the event is over.
func TestInterference(t *testing.T) {
	f := confounded(t, 20000, 1)
	touched := 0 // events that touched a terminal
	for k, ev := range f.Interference() {
		mid := ev.Start.Add(ev.End.Sub(ev.Start) / 2)
		hit, exact := 0, 0
		for i := range f.Len() {
			s := int64(mid.Sub(f.Start()) / time.Second)
			tr, ok := f.trueFixAt(i, s)
			var own skyfence.Fix // a spoofer's own claim overpowers interference
			if !ok || distKm(ev.Lat, ev.Lon, tr.Lat, tr.Lon) > ev.RadiusKm || f.claim(i, s, &own) || coveredBefore(f, k, tr, mid) {
				continue
			}
			got, _ := f.FixAt(i, mid)
			hit++
			if got.ServingCell != skyfence.CellOf(tr.Lat, tr.Lon) {
				t.Fatalf("event %d: terminal %d's cell %s, want its true one", k, i, got.ServingCell)
			}
			if got.SpeedKmh != 0 {
				t.Fatalf("event %d: terminal %d reports %v km/h under interference", k, i, got.SpeedKmh)
			}
			if ev.Kind == Spoofing {
				near := math.Inf(1)
				for _, tg := range ev.Targets {
					near = math.Min(near, distKm(tg[0], tg[1], got.Lat, got.Lon))
					if tg[0] == got.Lat && tg[1] == got.Lon {
						exact++
						break
					}
				}
				if near > 0.006 {
					t.Fatalf("event %d: spoofed terminal %d at %.3f km from every target", k, i, near)
				}
			}
			after, _ := f.FixAt(i, ev.End.Add(time.Minute))
			was, _ := f.trueFixAt(i, int64(ev.End.Add(time.Minute).Sub(f.Start())/time.Second))
			if (after.Lat != was.Lat || after.Lon != was.Lon) && !coveredBefore(f, len(f.events), was, ev.End.Add(time.Minute)) && !f.claim(i, s+900, &own) {
				t.Fatalf("event %d: terminal %d not back on its track after the event", k, i)
			}
		}
		if hit > 0 {
			touched++
		}
		if hit > 0 && ev.Kind == Spoofing && ev.Exact != (exact == hit) {
			t.Errorf("event %d: exact=%v, %d of %d bit for bit", k, ev.Exact, exact, hit)
		}
	}
	if touched < len(f.Interference())/2 {
		t.Errorf("%d of %d events touched a terminal, want most", touched, len(f.Interference()))
	}
}

// TestConfounderMotions checks the ranges each confounder's motion draws
// from.
func TestConfounderMotions(t *testing.T) {
	f := confounded(t, 20000, 1)
	snap := scenarioPolicy(t)
	seen := map[Behaviour]int{}
	allowed, byNetwork := 0, 0 // spoof-tracks allowed where they claim to be, denied by their cell
	for i := range f.Len() {
		u := &f.units[i]
		switch u.kind {
		case Train:
			if u.speed < 250 || u.speed > 320 {
				t.Fatalf("train at %v km/h", u.speed)
			}
			seen[Train]++
		case Crowd:
			site := f.sites[u.lane]
			for s := int64(0); s < 120; s += 15 {
				fx, _ := f.trueFixAt(i, s)
				if d := distKm(float64(site.Lat), float64(site.Lon), fx.Lat, fx.Lon); d > 0.211 {
					t.Fatalf("crowd terminal %d %.3f km from its site", i, d)
				}
				a, _ := f.trueFixAt(i, s+15)
				if d := distKm(a.Lat, a.Lon, fx.Lat, fx.Lon); d > 0.021 || d == 0 {
					t.Fatalf("crowd terminal %d jitters %.4f km between fixes", i, d)
				}
			}
			seen[Crowd]++
		case DroneLow:
			var prev skyfence.Fix
			for s := int64(u.bad); s < int64(u.bad)+600; s += 15 {
				fx, ok := f.trueFixAt(i, s)
				if !ok {
					t.Fatalf("low drone %d off in its first sortie", i)
				}
				if fx.SpeedKmh < 60 || fx.SpeedKmh > 70 {
					t.Fatalf("low drone at %v km/h", fx.SpeedKmh)
				}
				if h := fx.AltM - groundM(fx.Lat, fx.Lon); h > 160 || h < -10 {
					t.Fatalf("low drone %.0f m above the ground", h)
				}
				if s > int64(u.bad) {
					if d := distKm(prev.Lat, prev.Lon, fx.Lat, fx.Lon); d > 70.0/3600*15*1.01 {
						t.Fatalf("low drone moved %.3f km in 15 s", d)
					}
				}
				prev = fx
			}
			seen[DroneLow]++
		case SmuggledRare:
			on := 0
			for s := int64(u.bad); s < int64(u.bad)+3600; s += 15 {
				if fx, ok := f.trueFixAt(i, s); ok {
					on++
					if d := distKm(float64(u.b.Lat), float64(u.b.Lon), fx.Lat, fx.Lon); d > 5.01 {
						t.Fatalf("smuggled-rare %.1f km from its spot", d)
					}
				}
			}
			if on == 0 || on > 3600/15/4 {
				t.Fatalf("smuggled-rare on for %d of 240 fixes in its first hour", on)
			}
			seen[SmuggledRare]++
		case SpoofTrack:
			fx, _ := f.FixAt(i, f.Start().Add(time.Duration(u.bad)*time.Second+time.Minute))
			lat, lon, _, _, _ := skyfence.CellBounds(fx.ServingCell)
			if d := distKm(lat, lon, fx.Lat, fx.Lon); d < 40 {
				t.Fatalf("spoof-track claims %.0f km from its cell", d)
			}
			// Its claim alone passes; its cell, in the embargoed country,
			// does not (the example policy decides the front's country by
			// both positions).
			if d := snap.Decide(f.Terminal(i), nil, fx); !d.Allow && d.Reason == policy.NetworkPosition {
				byNetwork++
			}
			fx.ServingCell = ""
			if d := snap.Decide(f.Terminal(i), nil, fx); d.Allow {
				allowed++
			}
			seen[SpoofTrack]++
		}
	}
	if allowed < seen[SpoofTrack]*4/5 {
		t.Errorf("%d of %d spoof-track terminals allowed where they claim to be without a cell, want most", allowed, seen[SpoofTrack])
	}
	if byNetwork < seen[SpoofTrack]*4/5 {
		t.Errorf("%d of %d spoof-track terminals denied by their cell (network_position), want most", byNetwork, seen[SpoofTrack])
	}
	for _, b := range []Behaviour{Train, Crowd, DroneLow, SmuggledRare, SpoofTrack} {
		if seen[b] == 0 {
			t.Errorf("no %s checked", b)
		}
	}
}

// coveredBefore reports whether one of the first n interference events
// covers fx's position at t.
func coveredBefore(f *Fleet, n int, fx skyfence.Fix, t time.Time) bool {
	for _, ev := range f.Interference()[:n] {
		if !t.Before(ev.Start) && t.Before(ev.End) && distKm(ev.Lat, ev.Lon, fx.Lat, fx.Lon) <= ev.RadiusKm {
			return true
		}
	}
	return false
}
